//! Garbage at every door: each registered server function and each REST route under `/api/v1`, asked
//! by anonymous, a student, a mentor and an admin with bodies it cannot use (no or the wrong content
//! type, malformed JSON, wrong types and enum values, invalid UTF-8, over the body limit). No answer may
//! be a 5xx; every refusal is a JSON error that says what was wrong; and nothing is stored.

mod common;

use common::{TestServer, PASSWORD};
use reqwest::{Client, Method};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use studyhall::both_backends;
use studyhall::model::Role;
use studyhall::testing::TestDb;

const LIMIT: usize = 4096;
const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

struct Answer {
    status: u16,
    body: Value,
}

async fn send(
    t: &TestServer,
    c: &Client,
    method: Method,
    path: &str,
    ty: Option<&str>,
    body: &[u8],
) -> Answer {
    let mut req = c
        .request(method, t.url(path))
        .header("accept", "application/json");
    if let Some(ty) = ty {
        req = req.header("content-type", ty);
    }
    if !body.is_empty() {
        req = req.body(body.to_vec());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

/// Garbage as (what, content type, body); the first word of `what` is checked below.
fn garbage() -> Vec<(&'static str, Option<&'static str>, Vec<u8>)> {
    let wrong_types = json!({
        "id": "x", "user_id": "me", "item": {"Nope": 1}, "which": "Some", "read": "yes",
        "completed": 2, "ids": "all", "all": null, "name": 5, "scopes": ["root"],
        "change": {"Role": "wizard"}, "query": {"search": 1, "role": "wizard", "page": "one"},
        "filter": {"limit": "many", "kind": "nope", "before": []},
        "notification": {"audience": {"type": "galaxy"}}, "preferences": {"muted": 3},
    });
    let big = || format!("{{\"title\":\"{}\"}}", "a".repeat(LIMIT)).into_bytes();
    vec![
        ("bare no content type, no body", None, vec![]),
        (
            "untyped body without a content type",
            None,
            b"title=x".to_vec(),
        ),
        (
            "plain text/plain",
            Some("text/plain"),
            b"title=x&name=y".to_vec(),
        ),
        (
            "charset a latin-1 form",
            Some("application/x-www-form-urlencoded; charset=iso-8859-1"),
            b"title=x".to_vec(),
        ),
        ("form-shape junk", Some(FORM), b"%ZZ&&==&x=1&=".to_vec()),
        (
            "form-types wrong types",
            Some(FORM),
            b"id=abc&completed=maybe&role=wizard&day=soon&hours=-1&cohort_id=%2B&which=Nope&read=2"
                .to_vec(),
        ),
        (
            "form-utf8 invalid UTF-8",
            Some(FORM),
            b"title=%FF%FE&display_name=%C0%AF&name=%ED%A0%80".to_vec(),
        ),
        (
            "raw-utf8 raw invalid bytes",
            Some(FORM),
            b"title=\xff\xfe".to_vec(),
        ),
        (
            "json-syntax malformed JSON",
            Some(JSON),
            b"{not json".to_vec(),
        ),
        ("json-empty empty object", Some(JSON), b"{}".to_vec()),
        (
            "json-types wrong types",
            Some(JSON),
            wrong_types.to_string().into_bytes(),
        ),
        ("json-array not an object", Some(JSON), b"[1,2,3]".to_vec()),
        (
            "json-utf8 a lone surrogate",
            Some(JSON),
            br#"{"title":"\ud800","name":"\udfff"}"#.to_vec(),
        ),
        (
            "raw-utf8 raw invalid bytes in JSON",
            Some(JSON),
            b"{\"title\":\"\xc0\xaf\"}".to_vec(),
        ),
        ("big oversize JSON", Some(JSON), big()),
        (
            "big oversize form",
            Some(FORM),
            format!("title={}", "a".repeat(LIMIT)).into_bytes(),
        ),
    ]
}

/// Problems found, one line each (the test prints them all rather than stopping at the first).
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }
    fn assert_none(self) {
        assert!(
            self.0.is_empty(),
            "{} problems:\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

fn has_message(body: &Value) -> bool {
    body["message"].as_str().is_some_and(|m| m.len() > 10)
}

/// Signs in a student (with a mentor and a cohort), a mentor and an admin; anonymous first.
async fn people(t: &TestServer) -> Vec<(&'static str, Client)> {
    let ana = t.create_user("ana@example.com", Role::Student).await;
    let maya = t.create_user("maya@example.com", Role::Mentor).await;
    t.create_user("root@example.com", Role::Admin).await;
    studyhall::accounts::users::replace_mentors(&t.db.db, ana.id, &[maya.id], 0)
        .await
        .unwrap();
    let mut out = vec![("anonymous", t.browser())];
    for (who, email) in [
        ("student", "ana@example.com"),
        ("mentor", "maya@example.com"),
        ("admin", "root@example.com"),
    ] {
        let c = t.browser();
        assert_eq!(t.login(&c, email, PASSWORD).await.status(), 200, "{who}");
        out.push((who, c));
    }
    out
}

async fn start(db: TestDb) -> TestServer {
    TestServer::start_with(db, &[("STUDYHALL_BODY_LIMIT_BYTES", &LIMIT.to_string())]).await
}

both_backends!(
    every_server_function_refuses_garbage_with_a_4xx,
    |db: TestDb| async move {
        let t = start(db).await;
        let people = people(&t).await;
        // Every registered function, and each has its input type in the server's table.
        let registered: BTreeSet<&str> = leptos::server_fn::axum::server_fn_paths()
            .map(|(path, _)| path)
            .collect();
        let inputs: std::collections::HashMap<_, _> =
            app::api::inputs::content_types().into_iter().collect();
        let listed: BTreeSet<&str> = inputs.keys().copied().collect();
        assert_eq!(
            registered, listed,
            "app::api::inputs lists every server function"
        );
        assert!(registered.len() >= 40, "{registered:?}");
        // Signing out goes last, so each client stays signed in for the rest.
        let mut paths: Vec<&str> = registered.into_iter().collect();
        paths.sort_by_key(|p| *p == "/api/session/logout");

        let mut found = Findings::default();
        for (who, c) in &people {
            for path in &paths {
                let want = inputs[path];
                for (what, ty, body) in garbage() {
                    let a = send(&t, c, Method::POST, path, ty, &body).await;
                    let at = || format!("{who} POST {path} with {what}: {} {}", a.status, a.body);
                    found.check(a.status < 500, at);
                    if a.status >= 400 {
                        found.check(a.body["code"].is_string(), at);
                    }
                    let expect = match what.split(' ').next().unwrap() {
                        "untyped" | "plain" | "charset" => Some(415),
                        "big" => Some(413),
                        "raw-utf8" => Some(if ty == Some(want) { 400 } else { 415 }),
                        w if w.starts_with("json") && want == FORM => Some(415),
                        w if w.starts_with("form") && want == JSON => Some(415),
                        "json-syntax" | "json-empty" | "json-types" | "json-array"
                        | "json-utf8" | "form-utf8" => Some(400),
                        "bare" if want == JSON => Some(415),
                        _ => None,
                    };
                    if let Some(expect) = expect {
                        found.check(a.status == expect && has_message(&a.body), || {
                            format!("{} (wanted {expect} with a message)", at())
                        });
                    }
                }
                // A plain HTML form post of junk: a redirect back to the form, or a 4xx.
                let res = c
                    .post(t.url(path))
                    .header("accept", "text/html")
                    .header("referer", t.url("/"))
                    .header("content-type", FORM)
                    .body("id=abc&role=wizard")
                    .send()
                    .await
                    .unwrap();
                found.check(res.status().as_u16() < 500, || {
                    format!("{who} plain form post to {path}: {}", res.status())
                });
                let get = c.get(t.url(path)).send().await.unwrap();
                found.check(get.status().as_u16() < 500, || {
                    format!("{who} GET {path}: {}", get.status())
                });
            }
        }
        // Decoding failures say what was wrong (signed in again: the sweep ended with signing out).
        let student = &people[1].1;
        let admin = &people[3].1;
        for (c, email) in [(student, "ana@example.com"), (admin, "root@example.com")] {
            assert_eq!(t.login(c, email, PASSWORD).await.status(), 200);
        }
        let a = send(
            &t,
            student,
            Method::POST,
            "/api/learning/delete",
            Some(JSON),
            br#"{"item":{"Nope":1}}"#,
        )
        .await;
        found.check(
            a.status == 400
                && a.body["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("unknown variant"),
            || format!("bad enum: {} {}", a.status, a.body),
        );
        let a = send(
            &t,
            student,
            Method::POST,
            "/api/learning/goals/complete",
            Some(JSON),
            br#"{"id":1}"#,
        )
        .await;
        found.check(
            a.status == 400
                && a.body["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("completed"),
            || format!("missing arg: {} {}", a.status, a.body),
        );
        let a = send(
            &t,
            admin,
            Method::POST,
            "/api/admin/users/create",
            Some(FORM),
            b"email=a%40b.co&display_name=A&password=long+enough+pw&role=wizard",
        )
        .await;
        found.check(a.status == 400 && has_message(&a.body), || {
            format!("bad form enum: {} {}", a.status, a.body)
        });
        // The kinds of errors still have their own statuses.
        let a = send(
            &t,
            &people[0].1,
            Method::POST,
            "/api/learning/snapshot",
            Some(FORM),
            b"",
        )
        .await;
        found.check(
            a.status == 401 && a.body["code"] == "unauthenticated",
            || format!("anonymous: {} {}", a.status, a.body),
        );
        let a = send(&t, student, Method::POST, "/api/admin/tokens", None, b"").await;
        found.check(a.status == 403, || {
            format!("student on admin: {} {}", a.status, a.body)
        });
        found.assert_none();
        let snapshot = send(
            &t,
            student,
            Method::POST,
            "/api/learning/snapshot",
            None,
            b"",
        )
        .await;
        assert_eq!(snapshot.status, 200);
        assert_eq!(
            snapshot.body["goals"],
            json!([]),
            "no garbage became a goal"
        );
        assert_eq!(snapshot.body["sessions"], json!([]));
        assert_eq!(snapshot.body["skills"], json!([]));
        t.stop().await;
    }
);

/// Every REST route as (method, path with `{…}` for its parameters); the sweep checks this against
/// the `.route(…)` calls in `server/src/rest/*.rs`, so a new route cannot be left out.
const REST: &[(&str, &str)] = &[
    ("POST", "/auth/register"),
    ("POST", "/auth/token"),
    ("GET", "/me"),
    ("POST", "/me/password"),
    ("GET", "/me/sessions"),
    ("DELETE", "/me/sessions/{handle}"),
    ("GET", "/admin/users"),
    ("POST", "/admin/users"),
    ("PATCH", "/admin/users/{id}"),
    ("PUT", "/admin/users/{id}/mentors"),
    ("DELETE", "/admin/users/{id}/sessions"),
    ("GET", "/admin/cohorts"),
    ("POST", "/admin/cohorts"),
    ("GET", "/announcements"),
    ("POST", "/announcements"),
    ("PUT", "/announcements/{id}"),
    ("DELETE", "/announcements/{id}"),
    ("GET", "/learning"),
    ("GET", "/learning/sessions"),
    ("POST", "/learning/sessions"),
    ("PUT", "/learning/sessions/{id}"),
    ("DELETE", "/learning/sessions/{id}"),
    ("POST", "/learning/goals"),
    ("PUT", "/learning/goals/{id}"),
    ("DELETE", "/learning/goals/{id}"),
    ("PUT", "/learning/goals/{id}/completed"),
    ("POST", "/learning/skills"),
    ("DELETE", "/learning/skills/{id}"),
    ("GET", "/activities"),
    ("POST", "/activities"),
    ("POST", "/activities/read"),
    ("GET", "/users/{id}/analytics"),
    ("GET", "/kpi/system"),
    ("GET", "/leaderboards"),
    ("GET", "/leaderboards/school/{period}"),
    ("GET", "/leaderboards/cohorts/{cohort}/{period}"),
    ("GET", "/me/leaderboard"),
    ("PUT", "/me/leaderboard"),
    ("PUT", "/admin/school"),
    ("PUT", "/admin/cohorts/{cohort}/time-zone"),
    ("GET", "/notifications"),
    ("POST", "/notifications"),
    ("GET", "/notifications/inbox"),
    ("POST", "/notifications/seen"),
    ("POST", "/notifications/read"),
    ("POST", "/notifications/delete"),
    ("DELETE", "/notifications/{id}"),
    ("GET", "/notifications/preferences"),
    ("PUT", "/notifications/preferences"),
    ("GET", "/admin/tokens"),
    ("POST", "/admin/tokens"),
    ("DELETE", "/admin/tokens/{id}"),
    ("GET", "/rooms"),
    ("POST", "/rooms"),
    ("POST", "/rooms/direct"),
    ("GET", "/rooms/{room}"),
    ("GET", "/rooms/{room}/messages"),
    ("POST", "/rooms/{room}/messages"),
    ("PATCH", "/rooms/{room}/messages/{id}"),
    ("DELETE", "/rooms/{room}/messages/{id}"),
    ("POST", "/rooms/{room}/messages/{id}/reactions"),
    ("POST", "/rooms/{room}/read"),
    ("POST", "/rooms/{room}/members"),
    ("DELETE", "/rooms/{room}/members/me"),
    ("DELETE", "/rooms/{room}/members/{user}"),
    ("PUT", "/rooms/{room}/muted"),
    ("POST", "/rooms/{room}/attachments"),
    ("GET", "/rooms/{room}/attachments/{id}"),
    ("GET", "/rooms/search"),
    ("GET", "/groups"),
    ("POST", "/groups"),
    ("GET", "/groups/{room}"),
    ("POST", "/groups/{room}/join"),
    ("POST", "/groups/{room}/decline"),
    ("POST", "/groups/{room}/invitations"),
    ("GET", "/groups/{room}/invitable"),
    ("PUT", "/groups/{room}/owner"),
    ("POST", "/groups/{room}/archive"),
    // Signs the caller out: last.
    ("DELETE", "/auth/token"),
];

/// The paths of the `.route("…", …)` calls in every file of `server/src/rest/` (read from disk, so a
/// new file's routes count too).
fn routes_in_source() -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rest");
    let sources: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let mut found = BTreeSet::new();
    for src in sources {
        for piece in src.split(".route(").skip(1) {
            let path = piece.trim_start().trim_start_matches('"');
            found.insert(path[..path.find('"').unwrap()].to_string());
        }
    }
    found
}

both_backends!(
    every_rest_route_refuses_garbage_with_a_4xx,
    |db: TestDb| async move {
        let t = start(db).await;
        let people = people(&t).await;
        let listed: BTreeSet<String> = REST.iter().map(|(_, p)| p.to_string()).collect();
        assert_eq!(listed, routes_in_source(), "REST lists every route");
        let mut found = Findings::default();
        for (who, c) in &people {
            for (method, route) in REST {
                let method = Method::from_bytes(method.as_bytes()).unwrap();
                // Ids that name nothing, and ones that are not ids at all.
                for id in ["999999", "abc", "-1", "%FF"] {
                    let path = format!(
                        "/api/v1{}",
                        route
                            .replace("{id}", id)
                            .replace("{handle}", id)
                            .replace("{room}", id)
                            .replace("{user}", id)
                            .replace("{cohort}", id)
                    );
                    if id != "999999" && path == format!("/api/v1{route}") {
                        continue;
                    }
                    let mut asks = garbage();
                    if method == Method::GET {
                        asks.truncate(1);
                    }
                    for (what, ty, body) in asks {
                        let a = send(&t, c, method.clone(), &path, ty, &body).await;
                        let at = || {
                            format!("{who} {method} {path} with {what}: {} {}", a.status, a.body)
                        };
                        found.check(a.status < 500, at);
                        if a.status >= 400 {
                            found.check(a.body["code"].is_string() && has_message(&a.body), at);
                        }
                        // Actions that read no body (mark seen, join, decline, archive), and an
                        // upload, whose body is the file's bytes of any type (checked by content).
                        let bodiless = ["/seen", "/join", "/decline", "/archive", "/attachments"]
                            .iter()
                            .any(|end| route.ends_with(end));
                        let body_route =
                            matches!(method, Method::POST | Method::PUT | Method::PATCH)
                                && !bodiless;
                        let expect = match what.split(' ').next().unwrap() {
                            "big" if ty == Some(JSON) => Some(413),
                            "json-syntax" | "json-utf8" | "raw-utf8" if ty == Some(JSON) => {
                                Some(400)
                            }
                            "plain" | "form-utf8" | "big" => Some(415),
                            _ => None,
                        };
                        let decoded_first = body_route && id == "999999" && *who != "anonymous";
                        if let (true, Some(expect)) = (decoded_first, expect) {
                            found.check(a.status == expect, || {
                                format!("{} (wanted {expect})", at())
                            });
                        }
                    }
                    if method == Method::GET {
                        let query = "?limit=many&before=x&kind=nope&role=wizard&page=-1&unread=maybe&cohort_id=%FF&q=%FF%FE";
                        let a =
                            send(&t, c, Method::GET, &format!("{path}{query}"), None, b"").await;
                        found.check(a.status < 500, || {
                            format!("{who} GET {path}{query}: {} {}", a.status, a.body)
                        });
                    }
                }
            }
        }
        found.assert_none();
        t.stop().await;
    }
);

async fn post(t: &TestServer, c: &Client, path: &str, ty: Option<&str>, body: &[u8]) -> Answer {
    send(t, c, Method::POST, path, ty, body).await
}

both_backends!(
    undecodable_text_and_unbounded_values_are_refused_and_not_stored,
    |db: TestDb| async move {
        let t = start(db).await;
        let people = people(&t).await;
        let (student, admin) = (&people[1].1, &people[3].1);
        // Invalid UTF-8 in a form is refused, not stored as U+FFFD.
        let a = post(
            &t,
            student,
            "/api/learning/goals/set",
            Some(FORM),
            b"title=%FF%FE",
        )
        .await;
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (400, Some("bad_request")),
            "{}",
            a.body
        );
        assert!(
            a.body["message"].as_str().unwrap().contains("UTF-8"),
            "{}",
            a.body
        );
        let a = post(
            &t,
            student,
            "/api/account/profile",
            Some(FORM),
            b"display_name=%C0%AF&time_zone=UTC",
        )
        .await;
        assert_eq!(a.status, 400, "{}", a.body);
        // A form sent as text/plain or without a content type is refused.
        let a = post(
            &t,
            student,
            "/api/learning/goals/set",
            Some("text/plain"),
            b"title=Plain",
        )
        .await;
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (415, Some("unsupported_media_type")),
            "{}",
            a.body
        );
        let a = post(
            &t,
            student,
            "/api/learning/goals/set",
            None,
            b"title=Untyped",
        )
        .await;
        assert_eq!(a.status, 415, "{}", a.body);
        // A JSON function takes JSON only.
        let a = post(
            &t,
            student,
            "/api/learning/goals/complete",
            Some(FORM),
            b"id=1&completed=true",
        )
        .await;
        assert_eq!(a.status, 415, "{}", a.body);
        // Target days far away either way are a field error, from both doors.
        for day in ["%2B10000-01-01", "0000-01-01", "9999-12-31"] {
            let body = format!("title=Far&target_day={day}").into_bytes();
            let a = post(&t, student, "/api/learning/goals/set", Some(FORM), &body).await;
            assert_eq!(a.status, 422, "{day}: {}", a.body);
            assert_eq!(
                a.body["fields"][0]["field"], "target_day",
                "{day}: {}",
                a.body
            );
        }
        for day in ["+10000-01-01", "0000-01-01"] {
            let res = student
                .post(t.url("/api/v1/learning/goals"))
                .json(&json!({"title": "Far", "target_day": day}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 422, "REST {day}");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["fields"][0]["field"], "target_day", "{body}");
        }
        let me: Value = student
            .get(t.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            me["user"]["display_name"], "ana@example.com",
            "the profile is unchanged"
        );
        let snapshot = post(&t, student, "/api/learning/snapshot", None, b"").await;
        assert_eq!(
            snapshot.body["goals"],
            json!([]),
            "nothing was stored: {}",
            snapshot.body
        );
        // A sane target day is fine.
        let a = post(
            &t,
            student,
            "/api/learning/goals/set",
            Some(FORM),
            b"title=Near&target_day=2030-06-01",
        )
        .await;
        assert_eq!(a.status, 200, "{}", a.body);

        // A cohort that does not exist is a 422 like a missing user, from both doors; an empty one
        // that exists is a send to nobody.
        let note = |audience: Value| json!({"audience": audience, "kind": "system", "title": "Hi", "message": "Hello"});
        let missing = note(json!({"type": "cohort", "id": 999999}));
        let a = send(
            &t,
            admin,
            Method::POST,
            "/api/notifications/send",
            Some(JSON),
            json!({"notification": missing}).to_string().as_bytes(),
        )
        .await;
        assert_eq!(a.status, 422, "{}", a.body);
        assert_eq!(a.body["fields"][0]["field"], "audience", "{}", a.body);
        let res = admin
            .post(t.url("/api/v1/notifications"))
            .json(&missing)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "REST, missing cohort");
        let cohort = studyhall::accounts::cohorts::insert(&t.db.db, "Empty", 0)
            .await
            .unwrap();
        let empty = note(json!({"type": "cohort", "id": cohort.id}));
        let a = send(
            &t,
            admin,
            Method::POST,
            "/api/notifications/send",
            Some(JSON),
            json!({"notification": empty}).to_string().as_bytes(),
        )
        .await;
        assert_eq!(
            (a.status, a.body["recipients"].as_i64()),
            (200, Some(0)),
            "{}",
            a.body
        );
        t.stop().await;
    }
);
