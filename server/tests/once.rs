//! Idempotent creates over HTTP, on SQLite and PostgreSQL: the same key twice through a server
//! function (the page's form) or REST (`Idempotency-Key`) makes one row and answers the same row; a
//! different key makes another; a malformed key is a 422 and makes nothing.

mod common;

use common::{TestServer, PASSWORD};
use serde_json::Value;
use studyhall::both_backends;
use studyhall::model::Role;
use studyhall::testing::TestDb;

/// Rows a query counts (a `COUNT(*)` on the test's database).
async fn rows(t: &TestServer, sql: &str) -> i64 {
    studyhall::with_db!(&t.db.db, pool => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await)
        .unwrap()
}

both_backends!(
    a_create_with_a_key_makes_one_row_through_either_door,
    |db: TestDb| async move {
        use serde_json::json;
        let t = TestServer::start(db).await;
        let ana = t.create_user("ana@example.com", Role::Student).await;
        t.create_user("root@example.com", Role::Admin).await;
        let (student, admin) = (t.browser(), t.browser());
        assert_eq!(
            t.login(&student, "ana@example.com", PASSWORD)
                .await
                .status(),
            200
        );
        assert_eq!(
            t.login(&admin, "root@example.com", PASSWORD).await.status(),
            200
        );
        let today = studyhall::learning::analytics::format_day(
            studyhall::learning::analytics::local_day("UTC", studyhall::server::now_ms()),
        );
        // A server function posted as the page's form does (the key rides as `request_key`).
        let form = |c: &reqwest::Client, path: &str, fields: Vec<(&str, String)>| {
            let req = c
                .post(t.url(path))
                .header("accept", "application/json")
                .form(&fields);
            async move {
                let res = req.send().await.unwrap();
                (res.status().as_u16(), res.json::<Value>().await.unwrap())
            }
        };
        // A REST create with an optional `Idempotency-Key`.
        let rest = |c: &reqwest::Client, path: &str, key: Option<&[u8]>, body: Value| {
            let mut req = c.post(t.url(path)).json(&body);
            if let Some(k) = key {
                req = req.header(
                    "idempotency-key",
                    reqwest::header::HeaderValue::from_bytes(k).unwrap(),
                );
            }
            async move {
                let res = req.send().await.unwrap();
                (res.status().as_u16(), res.json::<Value>().await.unwrap())
            }
        };
        let session = |key: &str| {
            vec![
                ("day", today.clone()),
                ("hours", "1".into()),
                ("minutes", "0".into()),
                ("topic", "Rust".into()),
                ("request_key", key.into()),
            ]
        };
        let sessions = "SELECT COUNT(*) FROM learning_sessions";
        let save = "/api/learning/sessions/save";

        // Sessions: the same key twice is one row and the same answer; another key is another row.
        let (s1, first) = form(&student, save, session("form-key-0001")).await;
        let (s2, again) = form(&student, save, session("form-key-0001")).await;
        assert_eq!((s1, s2), (200, 200), "{first} {again}");
        assert_eq!(first, again);
        assert_eq!(rows(&t, sessions).await, 1);
        let (_, other) = form(&student, save, session("form-key-0002")).await;
        assert_ne!(other["id"], first["id"]);
        assert_eq!(rows(&t, sessions).await, 2);
        // A malformed key is a 422 on its own field, and nothing is made.
        let (s, bad) = form(&student, save, session("bad key!")).await;
        assert_eq!(
            (s, bad["fields"][0]["field"].as_str()),
            (422, Some("idempotency_key")),
            "{bad}"
        );
        assert_eq!(rows(&t, sessions).await, 2);

        let body = json!({"day": today, "minutes": 30, "topic": "SQL"});
        let path = "/api/v1/learning/sessions";
        let (s1, r1) = rest(&student, path, Some(b"rest-key-0001"), body.clone()).await;
        let (s2, r2) = rest(&student, path, Some(b"rest-key-0001"), body.clone()).await;
        assert_eq!((s1, s2), (201, 201), "{r1} {r2}");
        assert_eq!(r1, r2);
        assert_eq!(rows(&t, sessions).await, 3);
        // One key is one create whichever door it came through: the form's key answers its session.
        let (_, via_rest) = rest(&student, path, Some(b"form-key-0001"), body.clone()).await;
        assert_eq!(via_rest, first);
        let (s, _) = rest(&student, path, None, body.clone()).await;
        assert_eq!(s, 201, "no key, no deduplication");
        assert_eq!(rows(&t, sessions).await, 4);
        for bad in [&b"short"[..], b"has space in it", b"key-\xff-12345678"] {
            let (s, err) = rest(&student, path, Some(bad), body.clone()).await;
            assert_eq!(s, 422, "{bad:?}: {err}");
            assert_eq!(err["fields"][0]["field"], "idempotency_key", "{err}");
        }
        assert_eq!(rows(&t, sessions).await, 4);

        // Goals and skills.
        let goal = |key: &str| {
            vec![
                ("title", "Ship it".to_string()),
                ("request_key", key.into()),
            ]
        };
        let (_, g1) = form(&student, "/api/learning/goals/set", goal("goal-key-0001")).await;
        let (_, g2) = form(&student, "/api/learning/goals/set", goal("goal-key-0001")).await;
        assert_eq!(g1, g2);
        let goal_body = json!({"title": "Ship it"});
        let (s, g3) = rest(
            &student,
            "/api/v1/learning/goals",
            Some(b"goal-key-0002"),
            goal_body.clone(),
        )
        .await;
        let (_, g4) = rest(
            &student,
            "/api/v1/learning/goals",
            Some(b"goal-key-0002"),
            goal_body,
        )
        .await;
        assert_eq!((s, &g3), (201, &g4));
        assert_ne!(g1["id"], g3["id"]);
        assert_eq!(rows(&t, "SELECT COUNT(*) FROM goals").await, 2);
        let skill = |key: &str| vec![("name", "Go".to_string()), ("request_key", key.into())];
        let (s1, k1) = form(
            &student,
            "/api/learning/skills/add",
            skill("skill-key-0001"),
        )
        .await;
        // Without the key this repeat would be a 422 (the skill exists); with it, the first answer.
        let (s2, k2) = form(
            &student,
            "/api/learning/skills/add",
            skill("skill-key-0001"),
        )
        .await;
        assert_eq!((s1, s2, &k1), (200, 200, &k2), "{k1} {k2}");
        let (s, _) = rest(
            &student,
            "/api/v1/learning/skills",
            Some(b"skill-key-0002"),
            json!({"name": "Elm"}),
        )
        .await;
        let (s2, _) = rest(
            &student,
            "/api/v1/learning/skills",
            Some(b"skill-key-0002"),
            json!({"name": "Elm"}),
        )
        .await;
        assert_eq!((s, s2), (201, 201));
        assert_eq!(rows(&t, "SELECT COUNT(*) FROM skills").await, 2);

        // Announcements (admins).
        let post = |key: &str| {
            vec![
                ("title", "Hi".to_string()),
                ("body", "Welcome".into()),
                ("request_key", key.into()),
            ]
        };
        let (s1, a1) = form(&admin, "/api/announcements/post", post("post-key-0001")).await;
        let (_, a2) = form(&admin, "/api/announcements/post", post("post-key-0001")).await;
        assert_eq!((s1, &a1), (200, &a2), "{a1}");
        let news = json!({"title": "Hi", "body": "Again"});
        let (s, a3) = rest(
            &admin,
            "/api/v1/announcements",
            Some(b"post-key-0002"),
            news.clone(),
        )
        .await;
        let (_, a4) = rest(
            &admin,
            "/api/v1/announcements",
            Some(b"post-key-0002"),
            news.clone(),
        )
        .await;
        assert_eq!((s, &a3), (201, &a4));
        let (s, _) = rest(&admin, "/api/v1/announcements", Some(b"short"), news).await;
        assert_eq!(s, 422);
        assert_eq!(rows(&t, "SELECT COUNT(*) FROM announcements").await, 2);

        // Notifications (a JSON server function: the key is its `request_key` argument).
        let note = json!({"audience": {"type": "user", "id": ana.id}, "kind": "social", "title": "Hi", "message": "Hello"});
        let send = |key: &str| {
            let req = admin
                .post(t.url("/api/notifications/send"))
                .header("accept", "application/json")
                .json(&json!({"notification": note, "request_key": key}));
            async move {
                let res = req.send().await.unwrap();
                (res.status().as_u16(), res.json::<Value>().await.unwrap())
            }
        };
        let inbox = "SELECT COUNT(*) FROM notifications";
        let (s1, n1) = send("send-key-0001").await;
        let (s2, n2) = send("send-key-0001").await;
        assert_eq!((s1, s2, &n1), (200, 200, &n2), "{n1}");
        assert_eq!(rows(&t, inbox).await, 1);
        let (s, bad) = send("x").await;
        assert_eq!(
            (s, bad["fields"][0]["field"].as_str()),
            (422, Some("idempotency_key"))
        );
        let path = "/api/v1/notifications";
        let (s1, _) = rest(&admin, path, Some(b"send-key-0002"), note.clone()).await;
        let (s2, r) = rest(&admin, path, Some(b"send-key-0002"), note.clone()).await;
        assert_eq!((s1, s2, r["recipients"].as_i64()), (201, 201, Some(1)));
        assert_eq!(rows(&t, inbox).await, 2);
        let (_, _) = rest(&admin, path, Some(b"send-key-0003"), note.clone()).await;
        assert_eq!(rows(&t, inbox).await, 3);
        t.stop().await;
    }
);
