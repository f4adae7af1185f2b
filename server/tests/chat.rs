//! Chat over the real server: the authorization matrix of every `/api/v1/rooms` route (search
//! included) and the room topic (anonymous, a member, a student of another cohort, an unrelated
//! mentor, an admin who is not a member), a message arriving live, and a member removed from a room losing it on their open socket
//! at once, told why.

mod common;

use common::ws;
use common::{TestServer, PASSWORD};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;
use studyhall::both_backends;
use studyhall::model::Role;
use studyhall::protocol::{ErrorCode, ServerMessage};
use studyhall::testing::TestDb;

const WHO: [&str; 5] = [
    "anonymous",
    "member",
    "other cohort's student",
    "unrelated mentor",
    "admin, not a member",
];

/// The next message that is not a presence change.
async fn next(c: &mut ws::Client) -> ServerMessage {
    loop {
        match c.recv().await {
            ServerMessage::PresenceDiff { .. } | ServerMessage::Presence { .. } => continue,
            other => return other,
        }
    }
}

both_backends!(
    every_room_route_and_topic_answers_each_role,
    |db: TestDb| async move {
        let t = TestServer::start(db).await;
        let common::ChatCast { ana, ben, .. } = t.chat_cast().await;
        let emails = [
            "ana@example.com",
            "cy@example.com",
            "max@example.com",
            "root@example.com",
        ];
        let clients = t.browsers_for(&emails).await;
        let (member, admin) = (&clients[1], &clients[4]);

        t.matrix(
            &WHO,
            &clients,
            Method::GET,
            "/api/v1/rooms",
            None,
            [401, 200, 200, 200, 200],
        )
        .await;
        // Ana may open a room with Ben (same cohort); Cy and the unrelated mentor may not; an admin may.
        let ben_body = Some(json!({"user_id": ben.id}));
        t.matrix(
            &WHO,
            &clients,
            Method::POST,
            "/api/v1/rooms/direct",
            ben_body,
            [401, 200, 403, 403, 200],
        )
        .await;
        let (_, rooms) = t.call(member, Method::GET, "/api/v1/rooms", None).await;
        let room = rooms["rooms"][0]["room"]["id"].as_i64().unwrap();
        assert_eq!(rooms["rooms"][0]["room"]["name"], "ben@example.com");
        let channel = Some(json!({"name": "Help", "members": [ana.id]}));
        t.matrix(
            &WHO,
            &clients,
            Method::POST,
            "/api/v1/rooms",
            channel,
            [401, 403, 403, 403, 201],
        )
        .await;

        let base = format!("/api/v1/rooms/{room}");
        let (s, sent) = t
            .call(
                member,
                Method::POST,
                &format!("{base}/messages"),
                Some(json!({"client_id": "m1", "body": "hi"})),
            )
            .await;
        assert_eq!(s, 201, "{sent}");
        let id = sent["id"].as_i64().unwrap();
        let msg = format!("{base}/messages/{id}");
        let no = |member: u16| [401, member, 404, 404, 404];
        t.matrix(&WHO, &clients, Method::GET, &base, None, no(200))
            .await;
        t.matrix(
            &WHO,
            &clients,
            Method::GET,
            &format!("{base}/messages"),
            None,
            no(200),
        )
        .await;
        t.matrix(
            &WHO,
            &clients,
            Method::POST,
            &format!("{base}/messages"),
            Some(json!({"client_id": "m2", "body": "again"})),
            no(201),
        )
        .await;
        t.matrix(
            &WHO,
            &clients,
            Method::PATCH,
            &msg,
            Some(json!({"body": "hello"})),
            no(200),
        )
        .await;
        t.matrix(
            &WHO,
            &clients,
            Method::POST,
            &format!("{msg}/reactions"),
            Some(json!({"emoji": "👍"})),
            no(200),
        )
        .await;
        t.matrix(
            &WHO,
            &clients,
            Method::POST,
            &format!("{base}/read"),
            Some(json!({"up_to": id})),
            no(200),
        )
        .await;
        t.matrix(
            &WHO,
            &clients,
            Method::PUT,
            &format!("{base}/muted"),
            Some(json!({"muted": true})),
            no(200),
        )
        .await;
        // A direct room takes no one by hand and cannot be left.
        t.matrix(
            &WHO,
            &clients,
            Method::POST,
            &format!("{base}/members"),
            Some(json!({"user_ids": [ben.id]})),
            no(403),
        )
        .await;
        t.matrix(
            &WHO,
            &clients,
            Method::DELETE,
            &format!("{base}/members/{}", ben.id),
            None,
            no(403),
        )
        .await;
        t.matrix(
            &WHO,
            &clients,
            Method::DELETE,
            &format!("{base}/members/me"),
            None,
            no(409),
        )
        .await;
        t.matrix(&WHO, &clients, Method::DELETE, &msg, None, no(200))
            .await;
        // What the refusals left: Ana's two messages (one a tombstone), nothing by anyone else.
        let (_, page) = t
            .call(member, Method::GET, &format!("{base}/messages"), None)
            .await;
        let authors: Vec<&str> = page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["author"]["display_name"].as_str().unwrap())
            .collect();
        assert_eq!(authors, ["ana@example.com", "ana@example.com"]);
        assert!(page["messages"][1]["deleted_at"].is_i64(), "{page}");

        // The server functions the page uses answer alike.
        let fns = [
            ("/api/chat/room", json!({"room": room}), 200),
            (
                "/api/chat/history",
                json!({"room": room, "before": id + 100}),
                200,
            ),
            (
                "/api/chat/send",
                json!({"room": room, "message": {"client_id": "f1", "body": "from the page"}}),
                200,
            ),
            (
                "/api/chat/react",
                json!({"room": room, "id": id, "emoji": "🎉"}),
                409,
            ),
            ("/api/chat/read", json!({"room": room, "up_to": id}), 200),
            ("/api/chat/mute", json!({"room": room, "muted": false}), 200),
            (
                "/api/chat/edit",
                json!({"room": room, "id": id, "body": "x"}),
                409,
            ),
            ("/api/chat/delete", json!({"room": room, "id": id}), 200),
        ];
        for (path, body, member) in fns {
            t.matrix(
                &WHO,
                &clients,
                Method::POST,
                path,
                Some(body),
                [401, member, 404, 404, 404],
            )
            .await;
        }
        t.matrix(
            &WHO,
            &clients,
            Method::POST,
            "/api/chat/rooms",
            None,
            [401, 200, 200, 200, 200],
        )
        .await;
        // Search answers everyone signed in, with only their own rooms' messages.
        t.matrix(
            &WHO,
            &clients,
            Method::GET,
            "/api/v1/rooms/search?q=page",
            None,
            [401, 200, 200, 200, 200],
        )
        .await;
        t.matrix(
            &WHO,
            &clients,
            Method::POST,
            "/api/chat/search",
            Some(json!({"q": "page"})),
            [401, 200, 200, 200, 200],
        )
        .await;
        for (i, finds) in [(1, true), (2, false), (3, false), (4, false)] {
            let (_, r) = t
                .call(
                    &clients[i],
                    Method::GET,
                    "/api/v1/rooms/search?q=page",
                    None,
                )
                .await;
            let hits = r["hits"].as_array().unwrap();
            assert_eq!(!hits.is_empty(), finds, "{}: {r}", WHO[i]);
        }
        t.matrix(
            &WHO,
            &clients,
            Method::POST,
            "/api/chat/direct",
            Some(json!({"user_id": ben.id})),
            [401, 200, 403, 403, 200],
        )
        .await;

        // The room's topic: its members only, admins included.
        t.assert_topic_readers(
            &format!("room:{room}"),
            &[
                ("ana@example.com", true),
                ("cy@example.com", false),
                ("max@example.com", false),
                ("root@example.com", false),
            ],
        )
        .await;
        let _ = admin;
        t.stop().await;
    }
);

both_backends!(
    messages_arrive_live_and_a_removed_member_loses_the_room_at_once,
    |db: TestDb| async move {
        let t = TestServer::start(db).await;
        let ana = t.create_user("ana@example.com", Role::Student).await;
        t.create_user("root@example.com", Role::Admin).await;
        let admin = t.browser();
        t.login(&admin, "root@example.com", PASSWORD).await;
        let (s, made) = t
            .call(
                &admin,
                Method::POST,
                "/api/v1/rooms",
                Some(json!({"name": "Help", "members": [ana.id]})),
            )
            .await;
        assert_eq!(s, 201, "{made}");
        let room = made["room"]["id"].as_i64().unwrap();
        let token = t.token("ana@example.com", PASSWORD).await;
        let mut c = ws::connect(&t.ws_url(), &token).await;
        assert!(matches!(
            c.subscribe(&format!("user:{}", ana.id), None).await,
            ServerMessage::Subscribed { .. }
        ));
        assert!(matches!(
            c.subscribe(&format!("room:{room}"), None).await,
            ServerMessage::Subscribed { .. }
        ));
        let send = |n: u32| {
            let (t, admin) = (&t, &admin);
            async move {
                let body = json!({"client_id": format!("a{n}"), "body": format!("message {n}")});
                t.call(
                    admin,
                    Method::POST,
                    &format!("/api/v1/rooms/{room}/messages"),
                    Some(body),
                )
                .await
                .0
            }
        };
        assert_eq!(send(1).await, 201);
        match next(&mut c).await {
            ServerMessage::Event { event, data, .. } => {
                assert_eq!(event, "chat.message.posted");
                assert_eq!(data["body"], "message 1");
            }
            other => panic!("{other:?}"),
        }
        // Removed: the removal event on her own stream, then the room is taken from her socket.
        let (s, _) = t
            .call(
                &admin,
                Method::DELETE,
                &format!("/api/v1/rooms/{room}/members/{}", ana.id),
                None,
            )
            .await;
        assert_eq!(s, 204);
        let mut told = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
        while told.len() < 3 {
            let wait = deadline.saturating_duration_since(tokio::time::Instant::now());
            match c.try_recv(wait).await {
                Some(ServerMessage::PresenceDiff { .. }) => {}
                Some(m) => told.push(m),
                None => panic!("within a second she had only {told:?}"),
            }
        }
        assert!(
            matches!(&told[0], ServerMessage::Event { event, .. } if event == "chat.room.left"),
            "{told:?}"
        );
        assert!(
            matches!(
                &told[1],
                ServerMessage::Error {
                    code: ErrorCode::Forbidden,
                    ..
                }
            ),
            "{told:?}"
        );
        assert!(
            matches!(&told[2], ServerMessage::Unsubscribed { .. }),
            "{told:?}"
        );
        assert_eq!(send(2).await, 201);
        assert_eq!(
            c.try_recv(Duration::from_millis(300)).await,
            None,
            "nothing of the room after removal"
        );
        t.stop().await;
    }
);
