//! HTTP integration tests against the real server on 127.0.0.1:0, on SQLite and PostgreSQL.

mod common;

use common::{session_cookie_of, TestServer, PASSWORD};
use serde_json::Value;
use studyhall::both_backends;
use studyhall::model::Role;
use studyhall::testing::TestDb;

both_backends!(
    health_reports_the_database_and_headers_are_safe,
    |db: TestDb| async move {
        let t = TestServer::start(db).await;
        let res = t.api().get(t.url("/healthz")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let h = res.headers().clone();
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert!(h.contains_key("x-request-id"));
        assert!(h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'"));
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["status"], "ok");
        assert_eq!(body["database"], "ok");
        t.stop().await;
    }
);

both_backends!(
    register_sign_in_and_see_the_shell,
    |db: TestDb| async move {
        let t = TestServer::start(db).await;
        let browser = t.browser();
        let res = t.register(&browser, "Ana@Example.com", "Ana Souza").await;
        assert_eq!(res.status(), 200);
        let cookie = session_cookie_of(&res).expect("session cookie");
        for part in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(part), "{cookie}");
        }
        assert!(!cookie.contains("Secure"), "plain http in tests: {cookie}");
        let me: Value = browser
            .get(t.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["user"]["email"], "ana@example.com");
        assert_eq!(me["user"]["role"], "student");

        // The dashboard renders on the server for the signed-in user, under a nonce-based CSP.
        let page = browser.get(t.url("/")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let csp = page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        let html = page.text().await.unwrap();
        assert!(html.contains("Ana Souza"), "shell shows the user");
        assert!(html.contains("Sign out"));
        // Complete, not just the shell: what the page's loaders fetched is in the HTML (the figures
        // and recent activity from the live snapshot, the cohort from the overview). A resource the
        // enclosing Transition does not track renders as nothing here and still gives a 200, unless
        // its query happened to finish first: several pages at once make that unlikely.
        let pages = futures_util::future::join_all((0..4).map(|_| async {
            let res = browser.get(t.url("/")).send().await.unwrap();
            assert_eq!(res.status(), 200);
            res.text().await.unwrap()
        }))
        .await;
        for page in std::iter::once(&html).chain(&pages) {
            // Each resource is made and serialized once per request, not once per rendering walk
            // (the session, the inbox, the chat room list with its unread counts, the overview, the
            // figures, the leaderboard tile's standing, the announcements, and the page clock's
            // start, the server's now that the browser's first render reuses).
            let serialized = page.matches("__RESOLVED_RESOURCES[").count();
            assert_eq!(
                serialized, 8,
                "each of the dashboard's resources is serialized once"
            );
            for loaded in [
                "data-testid=\"kpi-hours\"",
                "Nothing yet. Log your first session.",
                "Not in a cohort yet",
            ] {
                assert!(
                    page.contains(loaded),
                    "server-rendered dashboard lacks {loaded:?}"
                );
            }
        }
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|s| s.split('\'').next())
            .expect("nonce in CSP");
        assert!(
            html.contains(&format!("nonce=\"{nonce}\"")),
            "inline scripts carry the CSP nonce"
        );
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"));

        // Registering the same address again (any case) is refused with a field message.
        let again = t
            .register(&t.browser(), "ANA@example.com", "Another Ana")
            .await;
        let body: Value = again.json().await.unwrap();
        assert_eq!(body["code"], "validation");
        assert_eq!(body["fields"][0]["field"], "email");
        t.stop().await;
    }
);

both_backends!(wrong_password_and_throttling, |db: TestDb| async move {
    let t = TestServer::start(db).await;
    t.register(&t.browser(), "ben@example.com", "Ben").await;
    let wrong = t
        .login(&t.browser(), "ben@example.com", "not the password")
        .await;
    assert!(session_cookie_of(&wrong).is_none());
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["code"], "invalid_credentials");

    // The account allows 3 failures (test config), then says so, even to the right password.
    for _ in 0..2 {
        let res = t
            .api()
            .post(t.url("/api/v1/auth/token"))
            .json(&serde_json::json!({"email": "ben@example.com", "password": "still wrong!"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let locked = t
        .api()
        .post(t.url("/api/v1/auth/token"))
        .json(&serde_json::json!({"email": "ben@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(locked.status(), 429);
    let retry: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60);
    let body: Value = locked.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Too many failed sign-in attempts"),
        "{body}"
    );
    t.stop().await;
});

both_backends!(
    logout_revokes_the_session_at_once,
    |db: TestDb| async move {
        let t = TestServer::start(db).await;
        t.register(&t.browser(), "cy@example.com", "Cy").await;
        let browser = t.browser();
        let res = t.login(&browser, "cy@example.com", PASSWORD).await;
        assert_eq!(res.status(), 200);
        let cookie = session_cookie_of(&res).unwrap();
        let token = cookie.split(';').next().unwrap().to_string();
        // A copy of the cookie, as an attacker who stole it would hold.
        let stolen = || {
            t.api()
                .get(t.url("/api/v1/me"))
                .header("cookie", token.clone())
        };
        assert_eq!(stolen().send().await.unwrap().status(), 200);
        let out = browser
            .post(t.url("/api/session/logout"))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), 200);
        assert!(session_cookie_of(&out).unwrap().contains("Max-Age=0"));
        assert_eq!(
            stolen().send().await.unwrap().status(),
            401,
            "the old cookie is dead"
        );
        t.stop().await;
    }
);

both_backends!(cross_site_posts_are_refused, |db: TestDb| async move {
    let t = TestServer::start(db).await;
    let browser = t.browser();
    t.register(&browser, "di@example.com", "Di").await;
    // A cross-site form posting to the sign-out server function with the victim's cookie.
    let evil = browser
        .post(t.url("/api/session/logout"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 403);
    let body: Value = evil.json().await.unwrap();
    assert_eq!(body["code"], "cross_site");
    // No Origin, cookie present, no same-site Referer: refused too.
    let cookie = {
        let res = t.login(&t.browser(), "di@example.com", PASSWORD).await;
        session_cookie_of(&res)
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string()
    };
    let bare = t
        .api()
        .post(t.url("/api/session/logout"))
        .header("cookie", cookie.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 403);
    // The session survived both attempts.
    let me = t
        .api()
        .get(t.url("/api/v1/me"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    // Bearer clients send no Origin and need none.
    let token = t.token("di@example.com", PASSWORD).await;
    let res = t.api().post(t.url("/api/v1/me/password")).bearer_auth(&token)
        .json(&serde_json::json!({"current_password": "wrong password", "new_password": "another long one"}))
        .send().await.unwrap();
    assert_eq!(res.status(), 422, "reached the handler");
    t.stop().await;
});

both_backends!(admin_routes_check_roles, |db: TestDb| async move {
    let t = TestServer::start(db).await;
    t.create_user("root@example.com", Role::Admin).await;
    t.create_user("mentor@example.com", Role::Mentor).await;
    t.register(&t.browser(), "eve@example.com", "Eve").await;
    let admin = t.token("root@example.com", PASSWORD).await;
    let mentor = t.token("mentor@example.com", PASSWORD).await;
    let student = t.token("eve@example.com", PASSWORD).await;
    let list = |token: Option<String>| {
        let req = t.api().get(t.url("/api/v1/admin/users"));
        async move {
            match token {
                Some(tok) => req.bearer_auth(tok),
                None => req,
            }
            .send()
            .await
            .unwrap()
            .status()
        }
    };
    assert_eq!(list(None).await, 401);
    assert_eq!(list(Some(student.clone())).await, 403);
    assert_eq!(list(Some(mentor.clone())).await, 403);
    assert_eq!(list(Some(admin.clone())).await, 200);

    let created = t.api().post(t.url("/api/v1/admin/users")).bearer_auth(&student)
        .json(&serde_json::json!({"email": "x@example.com", "display_name": "X", "password": PASSWORD, "time_zone": "UTC", "role": "admin", "cohort_id": null}))
        .send().await.unwrap();
    assert_eq!(created.status(), 403, "a student cannot create an admin");
    let cohort: Value = t
        .api()
        .post(t.url("/api/v1/admin/cohorts"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"name": "Spring"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let page: Value = t
        .api()
        .get(t.url("/api/v1/admin/users?search=eve"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 1);
    let eve_id = page["items"][0]["user"]["id"].as_i64().unwrap();
    let patch = t
        .api()
        .patch(t.url(&format!("/api/v1/admin/users/{eve_id}")))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"cohort_id": cohort["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 204);
    let by_student = t
        .api()
        .patch(t.url(&format!("/api/v1/admin/users/{eve_id}")))
        .bearer_auth(&student)
        .json(&serde_json::json!({"role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(by_student.status(), 403, "no self-promotion");
    let revoke: Value = t
        .api()
        .delete(t.url(&format!("/api/v1/admin/users/{eve_id}/sessions")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(revoke["revoked"].as_u64().unwrap() >= 2, "{revoke}");
    let me = t
        .api()
        .get(t.url("/api/v1/me"))
        .bearer_auth(&student)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401, "revoked by the admin");

    // The admin page's server function refuses a student's cookie too.
    let browser = t.browser();
    t.login(&browser, "mentor@example.com", PASSWORD).await;
    let res = browser
        .post(t.url("/api/admin/users"))
        .header("accept", "application/json")
        .json(&serde_json::json!({"query": {"search": "", "role": null, "page": 1}}))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "forbidden", "{body}");
    t.stop().await;
});

both_backends!(
    pages_redirect_and_unknown_paths_are_404,
    |db: TestDb| async move {
        let t = TestServer::start(db).await;
        // A browser asks for HTML and gets a real redirect before any page is sent.
        let res = t
            .api()
            .get(t.url("/profile"))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 302);
        assert_eq!(res.headers()["location"], "/login?next=/profile");
        let login = t.api().get(t.url("/login")).send().await.unwrap();
        assert_eq!(login.status(), 200);
        assert!(login.text().await.unwrap().contains("Sign in to Studyhall"));
        let missing = t.api().get(t.url("/no/such/page")).send().await.unwrap();
        assert_eq!(missing.status(), 404);
        assert!(missing
            .text()
            .await
            .unwrap()
            .contains("This page does not exist"));
        t.stop().await;
    }
);

both_backends!(bearer_tokens_and_api_validation, |db: TestDb| async move {
    let t = TestServer::start(db).await;
    let api = t.api();
    let bad = api
        .post(t.url("/api/v1/auth/register"))
        .json(&serde_json::json!({"email": "nope", "display_name": "", "password": "short"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let body: Value = bad.json().await.unwrap();
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "display_name", "password"]);
    let garbage = api
        .post(t.url("/api/v1/auth/register"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    assert_eq!(
        garbage.json::<Value>().await.unwrap()["code"],
        "bad_request"
    );
    // Its own client: the server may close the connection after refusing the body, and a pooled
    // connection reused by the next request would then fail.
    let huge = t
        .api()
        .post(t.url("/api/v1/auth/token"))
        .header("content-type", "application/json")
        .body(format!(
            "{{\"email\":\"{}\",\"password\":\"x\"}}",
            "a".repeat(200_000)
        ))
        .send()
        .await
        .unwrap();
    assert!(
        huge.status() == 400 || huge.status() == 413,
        "{}",
        huge.status()
    );

    let created = api.post(t.url("/api/v1/auth/register"))
        .json(&serde_json::json!({"email": "fay@example.com", "display_name": "Fay", "password": PASSWORD}))
        .send().await.unwrap();
    assert_eq!(created.status(), 201);
    let token = t.token("fay@example.com", PASSWORD).await;
    let me = api
        .get(t.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let sessions: Value = api
        .get(t.url("/api/v1/me/sessions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sessions["sessions"][0]["kind"], "api");
    assert_eq!(
        api.delete(t.url("/api/v1/auth/token"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let after = api
        .get(t.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
    assert_eq!(after.headers()["www-authenticate"], "Bearer");
    let forged = api
        .get(t.url("/api/v1/me"))
        .bearer_auth("eyJhbGciOiJub25lIn0.e30.")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    t.stop().await;
});
