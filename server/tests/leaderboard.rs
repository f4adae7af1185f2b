//! The leaderboard through the real server on SQLite and PostgreSQL: a board someone is looking at
//! follows logging, editing and deleting at once, and a restarted server builds the same board.

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use studyhall::both_backends;
use studyhall::model::Role;
use studyhall::testing::TestDb;

/// The board's rows as (name, points, rank), once `done` holds (polled for up to 5 s).
async fn rows_when(
    t: &TestServer,
    client: &reqwest::Client,
    done: impl Fn(&[(String, i64, i64)]) -> bool,
) -> Vec<(String, i64, i64)> {
    let mut rows = Vec::new();
    for _ in 0..100 {
        let (status, board) = t
            .call(
                client,
                Method::GET,
                "/api/v1/leaderboards/school/week",
                None,
            )
            .await;
        assert_eq!(status, 200, "{board}");
        rows = board["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r: &Value| {
                (
                    r["name"].as_str().unwrap().to_string(),
                    r["points"].as_i64().unwrap(),
                    r["rank"].as_i64().unwrap(),
                )
            })
            .collect();
        if done(&rows) {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the board never got there: {rows:?}");
}

both_backends!(
    a_viewed_board_follows_logging_editing_and_deleting_and_survives_a_restart,
    |db: TestDb| async move {
        let mut t = TestServer::start(db).await;
        t.create_user("ana@example.com", Role::Student).await;
        t.create_user("ben@example.com", Role::Student).await;
        let clients = t
            .browsers_for(&["ana@example.com", "ben@example.com"])
            .await;
        let (ana, ben) = (&clients[1], &clients[2]);
        let today = studyhall::learning::analytics::format_day(
            studyhall::learning::analytics::local_day("UTC", studyhall::server::now_ms()),
        );
        let log = |minutes: i64| json!({"day": today, "minutes": minutes, "topic": "Rust"});
        // Ana looks at the empty board: this node now holds it.
        assert!(rows_when(&t, ana, |r| r.is_empty()).await.is_empty());
        let (s, _) = t
            .call(
                ana,
                Method::POST,
                "/api/v1/learning/sessions",
                Some(log(40)),
            )
            .await;
        assert_eq!(s, 201);
        let (s, session) = t
            .call(
                ben,
                Method::POST,
                "/api/v1/learning/sessions",
                Some(log(30)),
            )
            .await;
        assert_eq!(s, 201);
        let rows = rows_when(&t, ana, |r| r.len() == 2).await;
        assert_eq!(
            rows,
            [
                ("ana@example.com".into(), 40, 1),
                ("ben@example.com".into(), 30, 2)
            ]
        );
        // Ben edits his session up past Ana, then deletes it.
        let path = format!("/api/v1/learning/sessions/{}", session["id"]);
        let (s, _) = t.call(ben, Method::PUT, &path, Some(log(45))).await;
        assert_eq!(s, 200);
        let rows = rows_when(&t, ana, |r| r.first().is_some_and(|f| f.1 == 45)).await;
        assert_eq!(rows[1], ("ana@example.com".into(), 40, 2));
        let (s, _) = t.call(ben, Method::DELETE, &path, None).await;
        assert_eq!(s, 204);
        let rows = rows_when(&t, ana, |r| r.len() == 1).await;
        assert_eq!(rows, [("ana@example.com".into(), 40, 1)]);
        // A goal completed: 25 more.
        let (_, goal) = t
            .call(
                ana,
                Method::POST,
                "/api/v1/learning/goals",
                Some(json!({"title": "Ship"})),
            )
            .await;
        let (s, _) = t
            .call(
                ana,
                Method::PUT,
                &format!("/api/v1/learning/goals/{}/completed", goal["id"]),
                Some(json!({"completed": true})),
            )
            .await;
        assert_eq!(s, 200);
        let before = rows_when(&t, ana, |r| r.first().is_some_and(|f| f.1 == 65)).await;
        t.restart().await;
        let clients = t.browsers_for(&["ana@example.com"]).await;
        assert_eq!(
            rows_when(&t, &clients[1], |_| true).await,
            before,
            "rebuilt alike"
        );
        // Bad input: an unknown period, a page too large.
        let (s, body) = t
            .call(
                &clients[1],
                Method::GET,
                "/api/v1/leaderboards/school/weekly",
                None,
            )
            .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (400, Some("bad_request")),
            "{body}"
        );
        let (s, body) = t
            .call(
                &clients[1],
                Method::GET,
                "/api/v1/leaderboards/school/week?limit=500",
                None,
            )
            .await;
        assert_eq!(s, 422, "{body}");
        t.stop().await;
    }
);

both_backends!(
    viewers_get_each_boards_moves_not_the_list_and_a_cohorts_topic_is_for_its_readers,
    |db: TestDb| async move {
        use common::ws::connect;
        use studyhall::protocol::ServerMessage;
        let t = TestServer::start(db).await;
        let ana = t.create_user("ana@example.com", Role::Student).await;
        let ben = t.create_user("ben@example.com", Role::Student).await;
        let clients = t
            .browsers_for(&["ana@example.com", "ben@example.com"])
            .await;
        // Ana's page: the board, then its topic.
        let (s, _) = t
            .call(
                &clients[1],
                Method::GET,
                "/api/v1/leaderboards/school/week",
                None,
            )
            .await;
        assert_eq!(s, 200);
        let token = t.token("ana@example.com", common::PASSWORD).await;
        let mut ws = connect(&t.ws_url(), &token).await;
        assert!(matches!(
            ws.subscribe("leaderboard:week:global", None).await,
            ServerMessage::Subscribed { .. }
        ));
        let today = studyhall::learning::analytics::format_day(
            studyhall::learning::analytics::local_day("UTC", studyhall::server::now_ms()),
        );
        // Ben logs three sessions at once: one frame (or a few), each naming only him.
        for minutes in [10, 20, 30] {
            let (s, _) = t
                .call(
                    &clients[2],
                    Method::POST,
                    "/api/v1/learning/sessions",
                    Some(json!({"day": today, "minutes": minutes, "topic": "Rust"})),
                )
                .await;
            assert_eq!(s, 201);
        }
        let mut last = None;
        while let Some(message) = ws.try_recv(Duration::from_millis(1500)).await {
            if let ServerMessage::Ephemeral {
                event,
                data,
                user_id,
                ..
            } = message
            {
                assert_eq!((event.as_str(), user_id), ("leaderboard.moved", 0));
                let moves: studyhall::leaderboard::Moves = serde_json::from_value(data).unwrap();
                assert!(
                    moves.moved.iter().all(|m| m.user_id == Some(ben.id)),
                    "{moves:?}"
                );
                last = Some(moves);
                if last.as_ref().is_some_and(|m| m.moved[0].points == 60) {
                    break;
                }
            }
        }
        let last = last.expect("a leaderboard.moved frame");
        assert_eq!(last.ranked, 1);
        let m = &last.moved[0];
        assert_eq!(
            (m.to, m.points, m.name.as_deref()),
            (Some(1), 60, Some("ben@example.com"))
        );
        // Ana is not ranked (no points): her own moves never came. A cohort's topic follows the
        // cohort's rule.
        let cohort = studyhall::accounts::cohorts::insert(&t.db.db, "A", 0)
            .await
            .unwrap()
            .id;
        studyhall::accounts::users::set_cohort(&t.db.db, ana.id, Some(cohort))
            .await
            .unwrap();
        t.assert_topic_readers(
            &format!("leaderboard:week:cohort:{cohort}"),
            &[("ana@example.com", true), ("ben@example.com", false)],
        )
        .await;
        t.stop().await;
    }
);
