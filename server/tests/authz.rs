//! The authorization matrix for learning, the feed, analytics and notifications: every REST route,
//! server function and topic of the feature, asked by anonymous, the owner (a student), another
//! student, an unrelated mentor, the owner's mentor and an admin — plus an API token. Each answer is
//! checked, and so is what a refused or no-op request left behind.

mod common;

use common::ws::{self, Auth};
use common::{TestServer, PASSWORD};
use reqwest::{Client, Method};
use serde_json::{json, Value};
use studyhall::both_backends;
use studyhall::model::Role;
use studyhall::protocol::{ErrorCode, ServerMessage};
use studyhall::testing::TestDb;

const WHO: [&str; 6] = [
    "anonymous",
    "owner",
    "other student",
    "unrelated mentor",
    "mentor",
    "admin",
];

struct People {
    clients: Vec<Client>,
    tokens: Vec<Option<String>>,
}

/// Asks every identity the same request; compares the statuses with `want` (in [`WHO`] order).
async fn matrix(
    t: &TestServer,
    p: &People,
    method: Method,
    path: &str,
    body: Option<Value>,
    want: [u16; 6],
) {
    let mut got = [0u16; 6];
    for (i, c) in p.clients.iter().enumerate() {
        got[i] = t.call(c, method.clone(), path, body.clone()).await.0;
    }
    let report: Vec<String> = WHO
        .iter()
        .zip(got)
        .map(|(w, g)| format!("{w}: {g}"))
        .collect();
    assert_eq!(got, want, "{method} {path}: {}", report.join(", "));
}

both_backends!(
    every_route_and_topic_answers_each_role_correctly,
    |db: TestDb| async move {
        let t = TestServer::start(db).await;
        let ana = t.create_user("ana@example.com", Role::Student).await;
        t.create_user("ben@example.com", Role::Student).await;
        t.create_user("omar@example.com", Role::Mentor).await;
        let maya = t.create_user("maya@example.com", Role::Mentor).await;
        let root = t.create_user("root@example.com", Role::Admin).await;
        studyhall::accounts::users::replace_mentors(&t.db.db, ana.id, &[maya.id], 0)
            .await
            .unwrap();
        let emails = [
            "",
            "ana@example.com",
            "ben@example.com",
            "omar@example.com",
            "maya@example.com",
            "root@example.com",
        ];
        let mut people = People {
            clients: vec![t.browser()],
            tokens: vec![None],
        };
        for email in &emails[1..] {
            let c = t.browser();
            assert_eq!(t.login(&c, email, PASSWORD).await.status(), 200, "{email}");
            people.clients.push(c);
            people.tokens.push(Some(t.token(email, PASSWORD).await));
        }
        let (owner, admin) = (&people.clients[1], &people.clients[5]);

        // The owner's data: a session, a goal, a notification from the admin.
        let today = studyhall::learning::analytics::format_day(
            studyhall::learning::analytics::local_day("UTC", studyhall::server::now_ms()),
        );
        let (s, session) = t
            .call(
                owner,
                Method::POST,
                "/api/v1/learning/sessions",
                Some(json!({"day": today, "minutes": 90, "topic": "Rust"})),
            )
            .await;
        assert_eq!(s, 201, "{session}");
        let session_id = session["id"].as_i64().unwrap();
        let (s, goal) = t
            .call(
                owner,
                Method::POST,
                "/api/v1/learning/goals",
                Some(json!({"title": "Ship"})),
            )
            .await;
        assert_eq!(s, 201, "{goal}");
        let goal_id = goal["id"].as_i64().unwrap();
        let (s, sent) = t.call(admin, Method::POST, "/api/v1/notifications", Some(json!({
        "audience": {"type": "user", "id": ana.id}, "kind": "system", "title": "Private", "message": "For Ana"
    }))).await;
        assert_eq!((s, sent["delivered"].as_i64()), (201, Some(1)), "{sent}");
        let (_, inbox) = t
            .call(owner, Method::GET, "/api/v1/notifications", None)
            .await;
        let note_id = inbox["items"][0]["id"].as_i64().unwrap();

        let a = ana.id;
        // Analytics and the feed: the owner, their mentor and admins.
        matrix(
            &t,
            &people,
            Method::GET,
            &format!("/api/v1/users/{a}/analytics"),
            None,
            [401, 200, 403, 403, 200, 200],
        )
        .await;
        matrix(
            &t,
            &people,
            Method::GET,
            &format!("/api/v1/activities?user_id={a}"),
            None,
            [401, 200, 403, 403, 200, 200],
        )
        .await;
        matrix(
            &t,
            &people,
            Method::POST,
            "/api/learning/dashboard",
            None,
            // Staff have no learning figures of their own.
            [401, 200, 200, 404, 404, 404],
        )
        .await;
        matrix(
            &t,
            &people,
            Method::POST,
            "/api/activity/page",
            Some(json!({"filter": {"user_id": a}})),
            [401, 200, 403, 403, 200, 200],
        )
        .await;
        // The learning log: students write their own only (someone else's row does not exist for them).
        matrix(
            &t,
            &people,
            Method::GET,
            "/api/v1/learning",
            None,
            [401, 200, 200, 403, 403, 403],
        )
        .await;
        matrix(
            &t,
            &people,
            Method::POST,
            "/api/learning/snapshot",
            None,
            [401, 200, 200, 403, 403, 403],
        )
        .await;
        let edit = json!({"day": today, "minutes": 5, "topic": "Hijacked"});
        matrix(
            &t,
            &people,
            Method::PUT,
            &format!("/api/v1/learning/sessions/{session_id}"),
            Some(edit),
            [401, 200, 404, 403, 403, 403],
        )
        .await;
        let (_, snap) = t.call(owner, Method::GET, "/api/v1/learning", None).await;
        assert_eq!(
            snap["sessions"][0]["minutes"], 5,
            "only the owner's edit landed"
        );
        for (i, c) in people.clients.iter().enumerate().filter(|(i, _)| *i != 1) {
            let (s, _) = t
                .call(
                    c,
                    Method::DELETE,
                    &format!("/api/v1/learning/sessions/{session_id}"),
                    None,
                )
                .await;
            assert!(s == 401 || s == 403 || s == 404, "{}: {s}", WHO[i]);
            let (s, _) = t
                .call(
                    c,
                    Method::POST,
                    "/api/learning/delete",
                    Some(json!({"item": {"Goal": goal_id}})),
                )
                .await;
            assert!(s == 401 || s == 403 || s == 404, "{}: {s}", WHO[i]);
        }
        matrix(
            &t,
            &people,
            Method::PUT,
            &format!("/api/v1/learning/goals/{goal_id}/completed"),
            Some(json!({"completed": true})),
            [401, 200, 404, 403, 403, 403],
        )
        .await;
        let (_, snap) = t.call(owner, Method::GET, "/api/v1/learning", None).await;
        assert_eq!(
            (
                snap["sessions"].as_array().unwrap().len(),
                snap["goals"].as_array().unwrap().len()
            ),
            (1, 1),
            "nothing deleted by others"
        );
        // The learning page's server functions: students change their own log only.
        let form = |c: &Client, path: &str, fields: &[(&str, &str)]| {
            let req = c
                .post(t.url(path))
                .header("accept", "application/json")
                .form(fields);
            async move { req.send().await.unwrap().status().as_u16() }
        };
        let mut got = Vec::new();
        for c in &people.clients {
            got.push(
                form(
                    c,
                    "/api/learning/sessions/save",
                    &[
                        ("day", &today),
                        ("hours", "1"),
                        ("minutes", "0"),
                        ("topic", "Go"),
                    ],
                )
                .await,
            );
        }
        assert_eq!(
            got,
            [401, 200, 200, 403, 403, 403],
            "learning/sessions/save"
        );
        let mut got = Vec::new();
        let sid = session_id.to_string();
        for c in &people.clients {
            got.push(
                form(
                    c,
                    "/api/learning/sessions/save",
                    &[
                        ("id", &sid),
                        ("day", &today),
                        ("hours", "0"),
                        ("minutes", "1"),
                        ("topic", "Taken"),
                    ],
                )
                .await,
            );
        }
        assert_eq!(
            got,
            [401, 200, 404, 403, 403, 403],
            "learning/sessions/save of Ana's session"
        );
        let mut got = Vec::new();
        for c in &people.clients {
            got.push(form(c, "/api/learning/skills/add", &[("name", "Go")]).await);
        }
        assert_eq!(got, [401, 200, 200, 403, 403, 403], "learning/skills/add");
        // Idempotency keys are per user: another student's request with the owner's key is their
        // own create, never the owner's answer.
        let keyed = |c: &Client, title: &str| {
            let req = c
                .post(t.url("/api/learning/goals/set"))
                .header("accept", "application/json")
                .form(&[("title", title), ("request_key", "shared-key-0001")]);
            async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
        };
        let mine = keyed(owner, "Mine").await;
        let theirs = keyed(&people.clients[2], "Theirs").await;
        assert_eq!(
            (mine["title"].as_str(), theirs["title"].as_str()),
            (Some("Mine"), Some("Theirs"))
        );
        assert_ne!(theirs["user_id"], mine["user_id"]);
        for (c, goal) in [(owner, &mine), (&people.clients[2], &theirs)] {
            let path = format!("/api/v1/learning/goals/{}", goal["id"]);
            assert_eq!(t.call(c, Method::DELETE, &path, None).await.0, 204);
        }
        let mut got = Vec::new();
        for c in &people.clients {
            let res = c
                .post(t.url("/api/announcements/post"))
                .header("accept", "application/json")
                .form(&[
                    ("title", "Hi"),
                    ("body", "All"),
                    ("request_key", "post-key-0001"),
                ])
                .send()
                .await
                .unwrap();
            got.push(res.status().as_u16());
        }
        assert_eq!(got, [401, 403, 403, 403, 403, 200], "announcements/post");
        // Paging the log: each student their own sessions, nobody else's.
        matrix(
            &t,
            &people,
            Method::GET,
            "/api/v1/learning/sessions",
            None,
            [401, 200, 200, 403, 403, 403],
        )
        .await;
        let page = json!({"before": {"day": "2999-01-01", "id": 1}});
        matrix(
            &t,
            &people,
            Method::POST,
            "/api/learning/sessions",
            Some(page.clone()),
            [401, 200, 200, 403, 403, 403],
        )
        .await;
        let (_, own) = t
            .call(
                owner,
                Method::POST,
                "/api/learning/sessions",
                Some(page.clone()),
            )
            .await;
        assert!(!own["items"].as_array().unwrap().is_empty(), "{own}");
        let (_, other) = t
            .call(
                &people.clients[2],
                Method::POST,
                "/api/learning/sessions",
                Some(page),
            )
            .await;
        assert!(
            other["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["user_id"] != ana.id),
            "{other}"
        );
        let goal_edit = json!({"title": "Ship it well", "target_day": null});
        matrix(
            &t,
            &people,
            Method::PUT,
            &format!("/api/v1/learning/goals/{goal_id}"),
            Some(goal_edit),
            [401, 200, 404, 403, 403, 403],
        )
        .await;
        let mut got = Vec::new();
        let gid = goal_id.to_string();
        for c in &people.clients {
            got.push(
                form(
                    c,
                    "/api/learning/goals/edit",
                    &[("id", &gid), ("title", "Renamed")],
                )
                .await,
            );
        }
        assert_eq!(got, [401, 200, 404, 403, 403, 403], "learning/goals/edit");
        let (_, snap) = t.call(owner, Method::GET, "/api/v1/learning", None).await;
        assert_eq!(snap["goals"][0]["title"], "Renamed");
        matrix(
            &t,
            &people,
            Method::POST,
            "/api/learning/goals/complete",
            Some(json!({"id": goal_id, "completed": false})),
            [401, 200, 404, 403, 403, 403],
        )
        .await;
        matrix(
            &t,
            &people,
            Method::POST,
            "/api/activity/mark",
            Some(json!({"ids": [], "all": true, "read": true})),
            [401, 200, 200, 200, 200, 200],
        )
        .await;

        // Mentors' and admins' own views.
        matrix(
            &t,
            &people,
            Method::POST,
            "/api/learning/mentor-rows",
            None,
            [401, 403, 403, 200, 200, 403],
        )
        .await;
        matrix(
            &t,
            &people,
            Method::POST,
            "/api/learning/system-figures",
            None,
            [401, 403, 403, 403, 403, 200],
        )
        .await;
        matrix(
            &t,
            &people,
            Method::GET,
            "/api/v1/kpi/system",
            None,
            [401, 403, 403, 403, 403, 200],
        )
        .await;
        // Leaderboards: the school's for anyone signed in; a cohort's for its students, their
        // mentors and admins (404 for everyone else, as for a cohort that does not exist).
        let cohort = studyhall::accounts::cohorts::insert(&t.db.db, "Board", 0)
            .await
            .unwrap()
            .id;
        studyhall::accounts::users::set_cohort(&t.db.db, ana.id, Some(cohort))
            .await
            .unwrap();
        for (path, want) in [
            (
                "/api/v1/leaderboards".to_string(),
                [401, 200, 200, 200, 200, 200],
            ),
            (
                "/api/v1/leaderboards/school/week".to_string(),
                [401, 200, 200, 200, 200, 200],
            ),
            (
                format!("/api/v1/leaderboards/cohorts/{cohort}/month?which=previous"),
                [401, 200, 404, 404, 200, 200],
            ),
            (
                format!("/api/v1/leaderboards/cohorts/{}/week", cohort + 1000),
                [401, 404, 404, 404, 404, 404],
            ),
        ] {
            matrix(&t, &people, Method::GET, &path, None, want).await;
        }
        for (method, path, body, want) in [
            (
                Method::GET,
                "/api/v1/me/leaderboard".to_string(),
                None,
                [401, 200, 200, 200, 200, 200],
            ),
            (
                Method::PUT,
                "/api/v1/me/leaderboard".to_string(),
                Some(json!({"hidden": false})),
                [401, 200, 200, 200, 200, 200],
            ),
            (
                Method::PUT,
                "/api/v1/admin/school".to_string(),
                Some(json!({"name": "Studyhall", "time_zone": "UTC"})),
                [401, 403, 403, 403, 403, 200],
            ),
            (
                Method::PUT,
                format!("/api/v1/admin/cohorts/{cohort}/time-zone"),
                Some(json!({"time_zone": "UTC"})),
                [401, 403, 403, 403, 403, 200],
            ),
        ] {
            matrix(&t, &people, method, &path, body, want).await;
        }
        // Ana hides her name: Ben (another student) sees "A student"; she, her mentor and admins see it.
        let (s, _) = t
            .call(
                owner,
                Method::PUT,
                "/api/v1/me/leaderboard",
                Some(json!({"hidden": true})),
            )
            .await;
        assert_eq!(s, 200);
        for (i, named) in [(2, false), (4, true), (5, true), (1, true)] {
            let (_, board) = t
                .call(
                    &people.clients[i],
                    Method::GET,
                    "/api/v1/leaderboards/school/week",
                    None,
                )
                .await;
            let first = &board["rows"][0];
            assert_eq!(
                (
                    first["name"] == "ana@example.com",
                    first["user_id"].is_i64()
                ),
                (named, named),
                "{}: {board}",
                WHO[i]
            );
        }
        let (s, _) = t
            .call(
                owner,
                Method::PUT,
                "/api/v1/me/leaderboard",
                Some(json!({"hidden": false})),
            )
            .await;
        assert_eq!(s, 200);
        let (_, board) = t
            .call(
                owner,
                Method::GET,
                &format!("/api/v1/leaderboards/cohorts/{cohort}/week"),
                None,
            )
            .await;
        let logged = studyhall::leaderboard::service::points::of_user(
            &t.db.db,
            ana.id,
            (board["starts_at"].as_i64(), board["ends_at"].as_i64()),
        )
        .await
        .unwrap();
        assert!(logged > 0);
        assert_eq!(
            (board["me"]["rank"].as_i64(), board["me"]["points"].as_i64()),
            (Some(1), Some(logged)),
            "Ana's minutes this week: {board}"
        );
        let (_, kpi) = t.call(admin, Method::GET, "/api/v1/kpi/system", None).await;
        assert!(
            kpi["figures"]["users_online"].is_i64() && kpi["position"]["epoch"].is_string(),
            "{kpi}"
        );
        // Only students have figures: a mentor's or an admin's id is no student, for whoever may ask.
        for staff in [maya.id, root.id] {
            let (s, body) = t
                .call(
                    admin,
                    Method::GET,
                    &format!("/api/v1/users/{staff}/analytics"),
                    None,
                )
                .await;
            assert_eq!(s, 404, "{body}");
        }
        let (_, rows) = t
            .call(
                &people.clients[3],
                Method::POST,
                "/api/learning/mentor-rows",
                None,
            )
            .await;
        assert_eq!(rows, json!([]), "an unrelated mentor sees no students");
        let (_, rows) = t
            .call(
                &people.clients[4],
                Method::POST,
                "/api/learning/mentor-rows",
                None,
            )
            .await;
        assert_eq!(rows[0]["user_id"], a);

        // Notifications: everyone has an inbox, and only ever sees and changes their own.
        matrix(
            &t,
            &people,
            Method::GET,
            "/api/v1/notifications",
            None,
            [401, 200, 200, 200, 200, 200],
        )
        .await;
        matrix(
            &t,
            &people,
            Method::POST,
            "/api/inbox/snapshot",
            None,
            [401, 200, 200, 200, 200, 200],
        )
        .await;
        for (i, c) in people.clients.iter().enumerate().skip(2) {
            let (_, list) = t.call(c, Method::GET, "/api/v1/notifications", None).await;
            assert!(
                list["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|n| n["id"] != note_id),
                "{} sees Ana's",
                WHO[i]
            );
            let (s, _) = t
                .call(
                    c,
                    Method::POST,
                    "/api/v1/notifications/read",
                    Some(json!({"ids": [note_id]})),
                )
                .await;
            assert_eq!(
                s, 200,
                "{}: marking only ever touches their own inbox",
                WHO[i]
            );
            let (s, _) = t
                .call(
                    c,
                    Method::DELETE,
                    &format!("/api/v1/notifications/{note_id}"),
                    None,
                )
                .await;
            assert_eq!(s, 404, "{}", WHO[i]);
            let (s, _) = t
                .call(
                    c,
                    Method::POST,
                    "/api/inbox/delete",
                    Some(json!({"which": {"Ids": [note_id]}})),
                )
                .await;
            assert_eq!(s, 404, "{}", WHO[i]);
        }
        let (_, mine) = t
            .call(owner, Method::GET, "/api/v1/notifications", None)
            .await;
        assert_eq!(mine["items"][0]["id"], note_id);
        assert!(
            mine["items"][0]["read_at"].is_null(),
            "still unread: {mine}"
        );
        matrix(
            &t,
            &people,
            Method::DELETE,
            &format!("/api/v1/notifications/{note_id}"),
            None,
            [401, 200, 404, 404, 404, 404],
        )
        .await;

        matrix(
            &t,
            &people,
            Method::POST,
            "/api/inbox/seen",
            None,
            [401, 200, 200, 200, 200, 200],
        )
        .await;
        matrix(
            &t,
            &people,
            Method::POST,
            "/api/inbox/read",
            Some(json!({"which": "All", "read": true})),
            [401, 200, 200, 200, 200, 200],
        )
        .await;
        matrix(
            &t,
            &people,
            Method::POST,
            "/api/inbox/page",
            Some(json!({"filter": {}})),
            [401, 200, 200, 200, 200, 200],
        )
        .await;
        let prefs = json!({"preferences": {"muted": ["social"], "sound": false, "desktop": false}});
        matrix(
            &t,
            &people,
            Method::POST,
            "/api/inbox/preferences",
            Some(prefs),
            [401, 200, 200, 200, 200, 200],
        )
        .await;
        let unmute = json!({"preferences": {"muted": [], "sound": false, "desktop": false}});
        matrix(
            &t,
            &people,
            Method::POST,
            "/api/inbox/preferences",
            Some(unmute),
            [401, 200, 200, 200, 200, 200],
        )
        .await;

        // Sending: mentors to their own students, admins to anyone; never students.
        let to_ana = json!({"audience": {"type": "user", "id": a}, "kind": "social", "title": "Hi", "message": "Hello"});
        matrix(
            &t,
            &people,
            Method::POST,
            "/api/v1/notifications",
            Some(to_ana.clone()),
            [401, 403, 403, 403, 201, 201],
        )
        .await;
        matrix(
            &t,
            &people,
            Method::POST,
            "/api/notifications/send",
            Some(json!({"notification": to_ana})),
            [401, 403, 403, 403, 200, 200],
        )
        .await;
        let everyone = json!({"audience": {"type": "everyone"}, "kind": "social", "title": "Hi", "message": "All"});
        matrix(
            &t,
            &people,
            Method::POST,
            "/api/v1/notifications",
            Some(everyone),
            [401, 403, 403, 403, 403, 201],
        )
        .await;
        let bad = json!({"audience": {"type": "everyone"}, "kind": "social", "title": "", "message": "x", "link": "https://evil.example"});
        let (s, body) = t
            .call(admin, Method::POST, "/api/v1/notifications", Some(bad))
            .await;
        assert_eq!(s, 422, "{body}");
        let fields: Vec<&str> = body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["title", "link"]);
        // Recording activity: for yourself, or as an admin for anyone.
        let activity =
            json!({"user_id": a, "kind": "course.completed", "title": "Finished the course"});
        matrix(
            &t,
            &people,
            Method::POST,
            "/api/v1/activities",
            Some(activity),
            [401, 201, 403, 403, 403, 201],
        )
        .await;
        // API tokens: admins only.
        matrix(
            &t,
            &people,
            Method::GET,
            "/api/v1/admin/tokens",
            None,
            [401, 403, 403, 403, 403, 200],
        )
        .await;
        matrix(
            &t,
            &people,
            Method::POST,
            "/api/admin/tokens",
            None,
            [401, 403, 403, 403, 403, 200],
        )
        .await;

        matrix(
            &t,
            &people,
            Method::POST,
            "/api/admin/tokens/create",
            Some(json!({"name": "x", "scopes": ["analytics:read"]})),
            [401, 403, 403, 403, 403, 200],
        )
        .await;
        matrix(
            &t,
            &people,
            Method::POST,
            "/api/admin/tokens/revoke",
            Some(json!({"id": 999_999})),
            [401, 403, 403, 403, 403, 404],
        )
        .await;
        matrix(
            &t,
            &people,
            Method::POST,
            "/api/notifications/cohorts",
            None,
            [401, 403, 403, 200, 200, 200],
        )
        .await;
        // The person picker lists only whom the caller may address: admins anyone, a mentor their
        // own students, an unrelated mentor nobody; students are refused.
        let mut found = Vec::new();
        for c in &people.clients {
            let res = c
                .post(t.url("/api/notifications/people"))
                .header("accept", "application/json")
                .form(&[("query", "")])
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            let ids: Vec<i64> = body
                .as_array()
                .map(|l| l.iter().filter_map(|p| p["id"].as_i64()).collect())
                .unwrap_or_default();
            found.push((status, ids));
        }
        let statuses: Vec<u16> = found.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            statuses,
            [401, 403, 403, 200, 200, 200],
            "notifications/people"
        );
        assert_eq!(
            found[3].1,
            Vec::<i64>::new(),
            "an unrelated mentor addresses nobody"
        );
        assert_eq!(found[4].1, [a], "a mentor addresses their own student");
        assert!(
            found[5].1.contains(&a) && found[5].1.len() == 5,
            "{:?}",
            found[5].1
        );
        // The security log: everyone signed in reads their own.
        matrix(
            &t,
            &people,
            Method::POST,
            "/api/account/sign-ins",
            None,
            [401, 200, 200, 200, 200, 200],
        )
        .await;
        // ...and only their own: a sign-in of Ana's in Safari shows in her log and in no one else's.
        let mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 \
                   (KHTML, like Gecko) Version/17.0 Safari/605.1.15";
        let res = t
            .api()
            .post(t.url("/api/session/login"))
            .header("accept", "application/json")
            .header("user-agent", mac)
            .form(&[("email", "ana@example.com"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let mut seen = Vec::new();
        for c in &people.clients[1..] {
            let res = c
                .post(t.url("/api/account/sign-ins"))
                .header("accept", "application/json")
                .send()
                .await
                .unwrap();
            let log: Value = res.json().await.unwrap();
            let devices: Vec<String> = log
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["device"].as_str().unwrap_or_default().to_string())
                .collect();
            seen.push(devices.iter().any(|d| d.starts_with("Safari on ")));
        }
        assert_eq!(seen, [true, false, false, false, false], "whose sign-ins");
        // Editing and deleting announcements: admins only, through either door.
        let (s, posted) = t
            .call(
                admin,
                Method::POST,
                "/api/v1/announcements",
                Some(json!({"title": "Draft", "body": "Text"})),
            )
            .await;
        assert_eq!(s, 201, "{posted}");
        let aid = posted["id"].as_i64().unwrap().to_string();
        let path = format!("/api/v1/announcements/{aid}");
        let edit = json!({"title": "Final", "body": "New text"});
        matrix(
            &t,
            &people,
            Method::PUT,
            &path,
            Some(edit),
            [401, 403, 403, 403, 403, 200],
        )
        .await;
        let mut got = Vec::new();
        for c in &people.clients {
            let fields = [("id", aid.as_str()), ("title", "Again"), ("body", "Body")];
            got.push(form(c, "/api/announcements/edit", &fields).await);
        }
        assert_eq!(got, [401, 403, 403, 403, 403, 200], "announcements/edit");
        let mut got = Vec::new();
        for c in &people.clients {
            got.push(form(c, "/api/announcements/delete", &[("id", aid.as_str())]).await);
        }
        assert_eq!(got, [401, 403, 403, 403, 403, 200], "announcements/delete");
        matrix(
            &t,
            &people,
            Method::DELETE,
            &path,
            None,
            [401, 403, 403, 403, 403, 404],
        )
        .await;

        // Topics: the owner's learning stream for the owner, their mentor and admins; the inbox for the
        // owner alone; live figures and the admins' feed for admins.
        let topics: [(String, [bool; 5]); 4] = [
            (format!("user:{a}"), [true, false, false, true, true]),
            (format!("inbox:{a}"), [true, false, false, false, false]),
            ("kpi:system".to_string(), [false, false, false, false, true]),
            ("role:admin".to_string(), [false, false, false, false, true]),
        ];
        for (i, token) in people.tokens.iter().enumerate().skip(1) {
            let mut c = ws::connect(&t.ws_url(), token.as_deref().unwrap()).await;
            for (topic, allowed) in &topics {
                let answer = c.subscribe(topic, None).await;
                let ok = match answer {
                    ServerMessage::Subscribed { .. } => true,
                    ServerMessage::Error {
                        code: ErrorCode::Forbidden,
                        ..
                    } => false,
                    other => panic!("{}: {topic}: {other:?}", WHO[i]),
                };
                assert_eq!(ok, allowed[i - 1], "{} on {topic}", WHO[i]);
            }
        }
        assert_eq!(
            ws::try_connect(&t.ws_url(), Auth::Bearer("nope"))
                .await
                .err(),
            Some(401)
        );

        // An API token acts for its admin within its scopes, only on integration routes.
        let (s, created) = t
            .call(
                admin,
                Method::POST,
                "/api/v1/admin/tokens",
                Some(json!({"name": "LMS", "scopes": ["notifications:write"]})),
            )
            .await;
        assert_eq!(s, 201, "{created}");
        let secret = created["token"].as_str().unwrap().to_string();
        assert!(secret.starts_with("sht_"));
        let bearer = |m: Method, path: &str| t.api().request(m, t.url(path)).bearer_auth(&secret);
        let send = bearer(Method::POST, "/api/v1/notifications")
        .json(&json!({"audience": {"type": "user", "id": a}, "kind": "reminder", "title": "Sync", "message": "From the LMS"}))
        .send().await.unwrap();
        assert_eq!(send.status(), 201);
        let status = |r: reqwest::Response| r.status().as_u16();
        assert_eq!(
            status(
                bearer(Method::GET, &format!("/api/v1/users/{a}/analytics"))
                    .send()
                    .await
                    .unwrap()
            ),
            403,
            "no analytics:read"
        );
        assert_eq!(
            status(
                bearer(Method::GET, "/api/v1/notifications")
                    .send()
                    .await
                    .unwrap()
            ),
            403,
            "no notifications:read"
        );
        assert_eq!(
            status(
                bearer(Method::GET, "/api/v1/admin/tokens")
                    .send()
                    .await
                    .unwrap()
            ),
            401,
            "not an integration route"
        );
        assert_eq!(
            status(
                bearer(Method::POST, "/api/inbox/snapshot")
                    .send()
                    .await
                    .unwrap()
            ),
            401,
            "server functions ignore tokens"
        );
        // Ignored means anonymous: `session/current` says "nobody", as for anyone signed out.
        let current = bearer(Method::POST, "/api/session/current")
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(current.status(), 200);
        assert_eq!(current.json::<Value>().await.unwrap(), Value::Null);
        assert_eq!(
            status(
                bearer(Method::GET, "/api/v1/kpi/system")
                    .send()
                    .await
                    .unwrap()
            ),
            401,
            "the figures' route is not an integration route"
        );
        // An `analytics:read` token reads any student's figures, and no staff member's (they have none).
        let (s, reader) = t
            .call(
                admin,
                Method::POST,
                "/api/v1/admin/tokens",
                Some(json!({"name": "Reports", "scopes": ["analytics:read"]})),
            )
            .await;
        assert_eq!(s, 201, "{reader}");
        let reader = reader["token"].as_str().unwrap().to_string();
        for (id, want) in [(a, 200), (maya.id, 404), (root.id, 404)] {
            let res = t
                .api()
                .get(t.url(&format!("/api/v1/users/{id}/analytics")))
                .bearer_auth(&reader)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), want, "analytics of user {id}");
        }
        assert_eq!(
            ws::try_connect(&t.ws_url(), Auth::Bearer(&secret))
                .await
                .err(),
            Some(401)
        );
        let (_, list) = t
            .call(admin, Method::GET, "/api/v1/admin/tokens", None)
            .await;
        assert!(list[0]["last_used_at"].is_i64(), "{list}");
        assert!(
            list.to_string().find(&secret).is_none(),
            "the secret is never listed"
        );
        let id = created["summary"]["id"].as_i64().unwrap();
        assert_eq!(
            t.call(
                admin,
                Method::DELETE,
                &format!("/api/v1/admin/tokens/{id}"),
                None
            )
            .await
            .0,
            204
        );
        assert_eq!(
            status(
                bearer(Method::POST, "/api/v1/notifications")
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap()
            ),
            401,
            "revoked"
        );
        t.stop().await;
    }
);
