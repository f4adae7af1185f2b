//! Study groups over the real server: the authorization matrix of every `/api/v1/groups` route, the
//! group server functions and a private group's room topic, for anonymous, the group's owner, a
//! student of another cohort, an unrelated mentor and an admin who is not a member.

mod common;

use common::{TestServer, PASSWORD};
use reqwest::Method;
use serde_json::json;
use studyhall::both_backends;
use studyhall::testing::TestDb;

const WHO: [&str; 5] = [
    "anonymous",
    "owner",
    "other cohort's student",
    "unrelated mentor",
    "admin, not a member",
];

both_backends!(
    every_group_route_function_and_topic_answers_each_role,
    |db: TestDb| async move {
        let t = TestServer::start(db).await;
        let common::ChatCast { ana, ben, .. } = t.chat_cast().await;
        let clients = t
            .browsers_for(&[
                "ana@example.com",
                "cy@example.com",
                "max@example.com",
                "root@example.com",
            ])
            .await;
        let owner = &clients[1];
        let ben_client = t.browser();
        t.login(&ben_client, "ben@example.com", PASSWORD).await;

        let make = |public: bool| json!({"name": "Circle", "public": public, "member_limit": 5});
        t.matrix(
            &WHO,
            &clients,
            Method::GET,
            "/api/v1/groups",
            None,
            [401, 200, 200, 200, 200],
        )
        .await;
        t.matrix(
            &WHO,
            &clients,
            Method::POST,
            "/api/v1/groups",
            Some(make(true)),
            [401, 201, 201, 201, 201],
        )
        .await;
        let (s, private) = t
            .call(owner, Method::POST, "/api/v1/groups", Some(make(false)))
            .await;
        assert_eq!(s, 201, "{private}");
        let room = private["room"]["id"].as_i64().unwrap();
        let (_, public) = t
            .call(owner, Method::POST, "/api/v1/groups", Some(make(true)))
            .await;
        let open_room = public["room"]["id"].as_i64().unwrap();
        let base = format!("/api/v1/groups/{room}");
        let hidden = |owner: u16| [401, owner, 404, 404, 404];

        t.matrix(&WHO, &clients, Method::GET, &base, None, hidden(200))
            .await;
        t.matrix(
            &WHO,
            &clients,
            Method::GET,
            &format!("/api/v1/groups/{open_room}"),
            None,
            [401, 200, 200, 200, 200],
        )
        .await;
        t.matrix(
            &WHO,
            &clients,
            Method::POST,
            &format!("{base}/join"),
            None,
            hidden(200),
        )
        .await;
        t.matrix(
            &WHO,
            &clients,
            Method::GET,
            &format!("{base}/invitable"),
            None,
            hidden(200),
        )
        .await;
        let ben_body = Some(json!({"user_id": ben.id}));
        t.matrix(
            &WHO,
            &clients,
            Method::PUT,
            &format!("{base}/owner"),
            ben_body.clone(),
            hidden(422),
        )
        .await;
        t.matrix(
            &WHO,
            &clients,
            Method::POST,
            &format!("{base}/invitations"),
            ben_body.clone(),
            hidden(204),
        )
        .await;
        // In a public group outsiders see it but do not invite.
        t.matrix(
            &WHO,
            &clients,
            Method::POST,
            &format!("/api/v1/groups/{open_room}/invitations"),
            ben_body.clone(),
            [401, 204, 403, 403, 403],
        )
        .await;
        t.matrix(
            &WHO,
            &clients,
            Method::POST,
            &format!("{base}/decline"),
            None,
            [401, 204, 204, 204, 204],
        )
        .await;
        let (s, joined) = t
            .call(&ben_client, Method::POST, &format!("{base}/join"), None)
            .await;
        assert_eq!(s, 200, "Ben accepts: {joined}");
        assert_eq!(joined["member_count"], 2);

        // The server functions the pages use answer alike.
        let fns = [
            ("/api/chat/group", json!({"room": room}), 200),
            ("/api/chat/group/join", json!({"room": room}), 200),
            ("/api/chat/group/invitable", json!({"room": room}), 200),
            (
                "/api/chat/group/invite",
                json!({"room": room, "user_id": ben.id}),
                409,
            ),
            ("/api/chat/leave", json!({"room": room}), 409),
        ];
        for (path, body, owner) in fns {
            t.matrix(
                &WHO,
                &clients,
                Method::POST,
                path,
                Some(body),
                hidden(owner),
            )
            .await;
        }
        t.matrix(
            &WHO,
            &clients,
            Method::POST,
            "/api/chat/groups",
            None,
            [401, 200, 200, 200, 200],
        )
        .await;
        t.matrix(
            &WHO,
            &clients,
            Method::POST,
            "/api/chat/group/create",
            Some(json!({"group": make(true)})),
            [401, 200, 200, 200, 200],
        )
        .await;
        t.matrix(
            &WHO,
            &clients,
            Method::POST,
            "/api/chat/group/decline",
            Some(json!({"room": room})),
            [401, 200, 200, 200, 200],
        )
        .await;

        // The private group's room: its members only, admins included.
        t.assert_topic_readers(
            &format!("room:{room}"),
            &[
                ("ben@example.com", true),
                ("cy@example.com", false),
                ("max@example.com", false),
                ("root@example.com", false),
            ],
        )
        .await;

        // Handing over and removing, then archiving: the owner's, and only theirs.
        t.matrix(
            &WHO,
            &clients,
            Method::POST,
            "/api/chat/group/owner",
            Some(json!({"room": room, "user_id": ben.id})),
            hidden(200),
        )
        .await;
        let (s, _) = t
            .call(
                &ben_client,
                Method::POST,
                "/api/chat/remove",
                Some(json!({"room": room, "user_id": ana.id})),
            )
            .await;
        assert_eq!(s, 200, "the new owner removes the former one");
        t.matrix(
            &WHO,
            &clients,
            Method::POST,
            &format!("{base}/archive"),
            None,
            [401, 404, 404, 404, 404],
        )
        .await;
        let (s, archived) = t
            .call(
                &ben_client,
                Method::POST,
                "/api/chat/group/archive",
                Some(json!({"room": room})),
            )
            .await;
        assert_eq!(
            (s, archived["room"]["archived"].as_bool()),
            (200, Some(true))
        );
        t.stop().await;
    }
);
