//! The realtime layer against the real server on 127.0.0.1:0 with a real WebSocket client, on SQLite
//! and PostgreSQL. Numbers in the test names follow the list in the realtime issue.

mod common;

use common::ws::{connect, refused, try_connect, Auth, Client};
use common::{session_cookie_of, TestServer, PASSWORD};
use serde_json::json;
use std::time::Duration;
use studyhall::events::{DurableEvent, Removed};
use studyhall::model::Role;
use studyhall::protocol::{close, ErrorCode, ResetReason, ServerMessage, Topic};
use studyhall::server::db::Db;
use studyhall::server::realtime::{log, Change, Hub, StoredEvent};
use studyhall::testing::TestDb;

const QUIET: Duration = Duration::from_millis(400);

/// Each test three times: one node on SQLite, one on PostgreSQL, and two nodes on PostgreSQL with
/// Redis between them (the test's clients alternate between the nodes; it writes through the first).
macro_rules! one_and_two_nodes {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)(TestDb::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                ($body)(TestDb::postgres().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn two_nodes() {
                let db = TestDb::postgres().await;
                common::TWO_NODES.scope(true, ($body)(db)).await;
            }
        }
    };
}

/// A small durable event numbered `n`: its data is `{"id": n}`.
fn numbered(n: i64) -> DurableEvent {
    DurableEvent::AnnouncementDeleted(Removed { id: n })
}

/// Writes and publishes one durable event, as every writer does (one [`Change`]).
async fn emit(db: &Db, hub: &Hub, topic: Topic, event: &DurableEvent) -> StoredEvent {
    let mut change = Change::begin(db, hub).await.unwrap();
    change.emit(topic, event).await.unwrap();
    change.commit().await.unwrap().remove(0)
}

async fn publish(t: &TestServer, topic: Topic, n: i64) -> StoredEvent {
    let s = t.services();
    emit(s.accounts.db(), &s.hub, topic, &numbered(n)).await
}

fn offset_of(m: &ServerMessage) -> i64 {
    match m {
        ServerMessage::Event { offset, .. } => *offset,
        other => panic!("expected an event, got {other:?}"),
    }
}

fn subscribed(m: ServerMessage) -> (String, i64, u64) {
    match m {
        ServerMessage::Subscribed {
            epoch,
            offset,
            replayed,
            ..
        } => (epoch, offset, replayed),
        other => panic!("expected subscribed, got {other:?}"),
    }
}

async fn student(t: &TestServer, email: &str) -> (i64, String) {
    let user = t.create_user(email, Role::Student).await;
    (user.id, t.token(email, PASSWORD).await)
}

/// A signed-in admin, for setting things up.
struct Admin {
    caller: studyhall::accounts::service::Caller,
    token: String,
}

async fn admin(t: &TestServer) -> Admin {
    t.create_user("root@example.com", Role::Admin).await;
    let token = t.token("root@example.com", PASSWORD).await;
    let caller = t
        .services()
        .accounts
        .authenticate(&token)
        .await
        .unwrap()
        .caller;
    Admin { caller, token }
}

/// A new cohort with `student` in it; returns the cohort's topic.
async fn cohort_with(t: &TestServer, admin: &Admin, name: &str, student: i64) -> String {
    let db = t.services().accounts.db();
    let cohort = studyhall::accounts::admin::create_cohort(db, &admin.caller, name)
        .await
        .unwrap();
    let hub = &t.services().hub;
    studyhall::accounts::admin::set_cohort(db, hub, &admin.caller, student, Some(cohort.id))
        .await
        .unwrap();
    format!("cohort:{}", cohort.id)
}

one_and_two_nodes!(t01_subscribe_receive_unsubscribe, |db: TestDb| async move {
    let t = TestServer::start(db).await;
    let (id, token) = student(&t, "s1@example.com").await;
    let mut c = connect(&t.ws_url(), &token).await;
    let (_, head, replayed) = subscribed(c.subscribe(&format!("user:{id}"), None).await);
    assert_eq!((head, replayed), (0, 0));
    let sent = publish(&t, Topic::User(id), 1).await;
    match c.recv().await {
        ServerMessage::Event {
            topic,
            offset,
            event,
            data,
            epoch,
            ..
        } => {
            assert_eq!(
                (topic, offset, event.as_str()),
                (Topic::User(id), 1, "announcement.deleted")
            );
            assert_eq!(data, json!({"id": 1}));
            assert_eq!(epoch, sent.epoch);
        }
        other => panic!("{other:?}"),
    }
    c.send(json!({"type": "unsubscribe", "id": "u", "topic": format!("user:{id}")}))
        .await;
    assert!(matches!(c.recv().await, ServerMessage::Unsubscribed { .. }));
    publish(&t, Topic::User(id), 2).await;
    assert_eq!(
        c.try_recv(QUIET).await,
        None,
        "no delivery after unsubscribe"
    );
    c.send(json!({"type": "ping", "id": "p"})).await;
    assert_eq!(
        c.recv().await,
        ServerMessage::Pong {
            id: Some("p".into())
        }
    );
    t.stop().await;
});

one_and_two_nodes!(
    t02_forbidden_topics_get_an_error_and_no_events,
    |db: TestDb| async move {
        let t = TestServer::start(db).await;
        let (ana, ana_token) = student(&t, "ana@example.com").await;
        let (ben, _) = student(&t, "ben@example.com").await;
        let mentor = t.create_user("mia@example.com", Role::Mentor).await;
        let mentor_token = t.token("mia@example.com", PASSWORD).await;
        t.create_user("root@example.com", Role::Admin).await;
        let admin_token = t.token("root@example.com", PASSWORD).await;
        // Every kind of topic Ana may not read.
        let forbidden = [
            Topic::User(ben),
            Topic::Room(1),
            Topic::Cohort(99),
            Topic::Role(Role::Mentor),
            Topic::Role(Role::Admin),
            Topic::Kpi(studyhall::protocol::KpiModule::Learning),
            Topic::Leaderboard(
                studyhall::protocol::Period::Week,
                studyhall::protocol::Scope::Cohort(99),
            ),
        ];
        let mut c = connect(&t.ws_url(), &ana_token).await;
        for topic in forbidden {
            match c.subscribe(&topic.to_string(), None).await {
                ServerMessage::Error {
                    code: ErrorCode::Forbidden,
                    id,
                    ..
                } => assert_eq!(id, Some(topic.to_string())),
                other => panic!("{topic}: expected forbidden, got {other:?}"),
            }
            publish(&t, topic, 1).await;
        }
        assert_eq!(
            c.try_recv(QUIET).await,
            None,
            "not one byte of a forbidden topic's events"
        );
        // What she may read works; an unrelated mentor may not read her stream, an admin may.
        subscribed(c.subscribe(&format!("user:{ana}"), None).await);
        subscribed(c.subscribe("role:student", None).await);
        subscribed(c.subscribe("announcements", None).await);
        let mut m = connect(&t.ws_url(), &mentor_token).await;
        assert!(matches!(
            m.subscribe(&format!("user:{ana}"), None).await,
            ServerMessage::Error {
                code: ErrorCode::Forbidden,
                ..
            }
        ));
        let root = t
            .services()
            .accounts
            .authenticate(&admin_token)
            .await
            .unwrap()
            .caller;
        studyhall::accounts::admin::set_mentors(
            t.services().accounts.db(),
            &t.services().hub,
            &root,
            ana,
            &[mentor.id],
        )
        .await
        .unwrap();
        subscribed(m.subscribe(&format!("user:{ana}"), None).await);
        let mut a = connect(&t.ws_url(), &admin_token).await;
        subscribed(a.subscribe(&format!("user:{ben}"), None).await);
        t.stop().await;
    }
);

one_and_two_nodes!(
    t03_resume_replays_exactly_what_was_missed,
    |db: TestDb| async move {
        let t = TestServer::start(db).await;
        let (id, token) = student(&t, "cy@example.com").await;
        let topic = Topic::User(id);
        let mut c = connect(&t.ws_url(), &token).await;
        let (epoch, _, _) = subscribed(c.subscribe(&topic.to_string(), None).await);
        for n in 1..=3 {
            publish(&t, topic, n).await;
            assert_eq!(offset_of(&c.recv().await), n);
        }
        drop(c);
        // While away: 20 events.
        for n in 4..=23 {
            publish(&t, topic, n).await;
        }
        // Another writer keeps publishing while the client resumes.
        let writer = {
            let services = t.services().clone();
            tokio::spawn(async move {
                for n in 24..=60 {
                    emit(services.accounts.db(), &services.hub, topic, &numbered(n)).await;
                    tokio::task::yield_now().await;
                }
            })
        };
        let mut c = connect(&t.ws_url(), &token).await;
        c.send(json!({"type": "subscribe", "id": "r", "topic": topic.to_string(), "since": {"epoch": epoch, "offset": 3}})).await;
        let mut seen = Vec::new();
        let mut subscribed_at = None;
        while seen.len() < 57 {
            match c.recv().await {
                ServerMessage::Event { offset, .. } => seen.push(offset),
                ServerMessage::Subscribed {
                    replayed, offset, ..
                } => subscribed_at = Some((replayed, offset)),
                other => panic!("{other:?}"),
            }
        }
        writer.await.unwrap();
        assert_eq!(
            seen,
            (4..=60).collect::<Vec<_>>(),
            "every missed and live event, in order, once"
        );
        let (replayed, at) = subscribed_at.expect("subscribed arrives");
        assert!(replayed >= 20 && at >= 23, "replayed {replayed} up to {at}");
        assert_eq!(c.try_recv(QUIET).await, None, "nothing twice");
        t.stop().await;
    }
);

one_and_two_nodes!(
    t04_concurrent_writers_give_gapless_increasing_offsets,
    |db: TestDb| async move {
        let t = TestServer::start(db).await;
        let (id, token) = student(&t, "di@example.com").await;
        let topic = Topic::User(id);
        let mut readers = Vec::new();
        for _ in 0..3 {
            let mut c = connect(&t.ws_url(), &token).await;
            subscribed(c.subscribe(&topic.to_string(), None).await);
            readers.push(c);
        }
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let services = t.services().clone();
                tokio::spawn(async move {
                    for n in 0..25 {
                        let event = numbered(w * 100 + n);
                        emit(services.accounts.db(), &services.hub, topic, &event).await;
                    }
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap();
        }
        for c in &mut readers {
            let offsets: Vec<i64> = {
                let mut v = Vec::new();
                for _ in 0..100 {
                    v.push(offset_of(&c.recv().await));
                }
                v
            };
            assert_eq!(offsets, (1..=100).collect::<Vec<_>>());
            assert_eq!(c.try_recv(QUIET).await, None);
        }
        t.stop().await;
    }
);

one_and_two_nodes!(
    t05_resume_survives_a_server_restart,
    |db: TestDb| async move {
        let mut t = TestServer::start(db).await;
        let (id, token) = student(&t, "ed@example.com").await;
        let topic = Topic::User(id);
        let mut c = connect(&t.ws_url(), &token).await;
        let (epoch, _, _) = subscribed(c.subscribe(&topic.to_string(), None).await);
        publish(&t, topic, 1).await;
        assert_eq!(offset_of(&c.recv().await), 1);
        let before = studyhall::accounts::users::get(t.services().accounts.db(), id)
            .await
            .unwrap()
            .last_seen_at;
        t.restart().await;
        assert_eq!(
            c.closed(Duration::from_secs(5)).await,
            close::GOING_AWAY,
            "shutdown says going away"
        );
        // The shutdown stored last-seen for everyone still connected (in one statement).
        let after = studyhall::accounts::users::get(t.services().accounts.db(), id)
            .await
            .unwrap()
            .last_seen_at;
        assert!(
            after.is_some() && after > before,
            "last seen {before:?} -> {after:?}"
        );
        for n in 2..=5 {
            publish(&t, topic, n).await;
        }
        let mut c = connect(&t.ws_url(), &token).await;
        let m = c.subscribe(&topic.to_string(), Some((&epoch, 1))).await;
        let mut offsets = vec![offset_of(&m)];
        for _ in 0..3 {
            offsets.push(offset_of(&c.recv().await));
        }
        assert_eq!(offsets, vec![2, 3, 4, 5]);
        let (same_epoch, at, replayed) = subscribed(c.recv().await);
        assert_eq!((same_epoch, at, replayed), (epoch, 5, 4));
        t.stop().await;
    }
);

one_and_two_nodes!(
    t06_gaps_beyond_retention_and_unknown_epochs_are_said,
    |db: TestDb| async move {
        let t = TestServer::start(db).await;
        let (id, token) = student(&t, "fi@example.com").await;
        let topic = Topic::User(id);
        for n in 1..=10 {
            publish(&t, topic, n).await;
        }
        let db = t.services().accounts.db().clone();
        // Keep only the newest 3 events.
        log::apply_retention(&db, 3, i64::MAX / 4, studyhall::server::now_ms())
            .await
            .unwrap();
        let head = log::head(&db, topic).await.unwrap();
        assert_eq!((head.head, head.oldest), (10, 8));
        let mut c = connect(&t.ws_url(), &token).await;
        match c
            .subscribe(&topic.to_string(), Some((&head.epoch, 2)))
            .await
        {
            ServerMessage::Reset {
                reason,
                offset,
                epoch,
                ..
            } => {
                assert_eq!((reason, offset), (ResetReason::BeyondRetention, 10));
                assert_eq!(epoch, head.epoch);
            }
            other => panic!("{other:?}"),
        }
        // Live events still flow after a reset.
        publish(&t, topic, 11).await;
        assert_eq!(offset_of(&c.recv().await), 11);
        // From offset 7 is still recoverable (8, 9, 10 are kept).
        let mut d = connect(&t.ws_url(), &token).await;
        let first = d
            .subscribe(&topic.to_string(), Some((&head.epoch, 7)))
            .await;
        assert_eq!(offset_of(&first), 8);
        // A position from another epoch.
        let mut e = connect(&t.ws_url(), &token).await;
        match e
            .subscribe(&topic.to_string(), Some(("not-this-log", 4)))
            .await
        {
            ServerMessage::Reset { reason, offset, .. } => {
                assert_eq!((reason, offset), (ResetReason::EpochChanged, 11))
            }
            other => panic!("{other:?}"),
        }
        // A position ahead of the log.
        let mut f = connect(&t.ws_url(), &token).await;
        match f
            .subscribe(&topic.to_string(), Some((&head.epoch, 500)))
            .await
        {
            ServerMessage::Reset { reason, .. } => assert_eq!(reason, ResetReason::UnknownOffset),
            other => panic!("{other:?}"),
        }
        t.stop().await;
    }
);

one_and_two_nodes!(
    t07_bad_frames_get_documented_answers,
    |db: TestDb| async move {
        let t = TestServer::start_with(
            db,
            &[
                ("STUDYHALL_WS_PUBLISHES_PER_MINUTE", "5"),
                ("STUDYHALL_WS_MAX_FRAME_BYTES", "4096"),
            ],
        )
        .await;
        let root = admin(&t).await;
        let (id, token) = student(&t, "gu@example.com").await;
        let cohort_topic = cohort_with(&t, &root, "Lab", id).await;
        let (other_id, other_token) = student(&t, "ha@example.com").await;
        let mut bystander = connect(&t.ws_url(), &other_token).await;
        subscribed(bystander.subscribe(&format!("user:{other_id}"), None).await);

        let mut c = connect(&t.ws_url(), &token).await;
        let code = |m: ServerMessage| match m {
            ServerMessage::Error { code, .. } => code,
            other => panic!("expected an error, got {other:?}"),
        };
        c.send_text("{definitely not json".into()).await;
        assert_eq!(code(c.recv().await), ErrorCode::Malformed);
        c.send_text("\u{0}\u{1}garbage".into()).await;
        assert_eq!(code(c.recv().await), ErrorCode::Malformed);
        c.send(json!({"type": "teleport"})).await;
        assert_eq!(code(c.recv().await), ErrorCode::UnknownType);
        c.send(json!({"type": "subscribe", "topic": "user:banana"}))
            .await;
        assert_eq!(code(c.recv().await), ErrorCode::InvalidTopic);
        // Publishing: typing on her cohort is allowed five times a minute (test setting), then refused.
        subscribed(c.subscribe(&cohort_topic, None).await);
        let _presence = c.recv().await;
        for _ in 0..5 {
            c.send(json!({"type": "publish", "id": "p", "topic": cohort_topic, "event": "typing", "data": {}})).await;
            assert_eq!(
                c.recv().await,
                ServerMessage::Published {
                    id: Some("p".into())
                }
            );
        }
        c.send(json!({"type": "publish", "topic": cohort_topic, "event": "typing", "data": {}}))
            .await;
        assert_eq!(code(c.recv().await), ErrorCode::RateLimited);
        // The connection survived all of it.
        c.send(json!({"type": "ping"})).await;
        assert_eq!(c.recv().await, ServerMessage::Pong { id: None });
        // An oversized frame closes with 1009.
        c.send_text(format!(
            "{{\"type\":\"ping\",\"id\":\"{}\"}}",
            "x".repeat(5000)
        ))
        .await;
        assert_eq!(c.closed(Duration::from_secs(5)).await, close::TOO_BIG);
        // Others on the server are unaffected.
        publish(&t, Topic::User(other_id), 1).await;
        assert_eq!(offset_of(&bystander.recv().await), 1);
        t.stop().await;
    }
);

// About one process's hub (its slow-consumer count and connections): its clients use that node.
one_and_two_nodes!(
    t08_a_client_that_stops_reading_is_cut_off,
    |db: TestDb| async move {
        let t = TestServer::start_with(db, &[("STUDYHALL_WS_QUEUE", "32")]).await;
        t.create_user("root@example.com", Role::Admin).await;
        let token = t.token("root@example.com", PASSWORD).await;
        let mut slow = connect(&t.primary_ws_url(), &token).await;
        subscribed(slow.subscribe("announcements", None).await);
        let mut healthy = connect(&t.primary_ws_url(), &token).await;
        subscribed(healthy.subscribe("announcements", None).await);
        // The slow client never reads again. Publish ~40 MB of events.
        let payload = "x".repeat(16 * 1024);
        let mut received = 0;
        let mut worst = Duration::ZERO;
        for n in 0..2500 {
            let s = t.services();
            let big = DurableEvent::AnnouncementCreated(studyhall::announcements::Announcement {
                id: n,
                title: "Bulk".into(),
                body: payload.clone(),
                author_name: None,
                created_at: 0,
                offset: 0,
            });
            let mut change = Change::begin(s.accounts.db(), &s.hub).await.unwrap();
            change.emit(Topic::Announcements, &big).await.unwrap();
            // Timed from the commit (which publishes), as `hub.publish` was timed before.
            let sent_at = std::time::Instant::now();
            let e = change.commit().await.unwrap().remove(0);
            // The healthy client keeps up and keeps its latency.
            match healthy.recv().await {
                ServerMessage::Event { offset, .. } => assert_eq!(offset, e.offset),
                other => panic!("{other:?}"),
            }
            worst = worst.max(sent_at.elapsed());
            received += 1;
            if n % 100 == 0 && t.services().hub.stats().slow_consumers > 0 {
                break;
            }
        }
        println!("healthy client: {received} events, worst publish-to-receive {worst:?}");
        // Flagged once however many of its frames were dropped after that; the healthy one never.
        assert_eq!(
            t.services().hub.stats().slow_consumers,
            1,
            "the reader that stopped was flagged, and only it"
        );
        assert_eq!(
            slow.closed(Duration::from_secs(15)).await,
            close::SLOW_CONSUMER
        );
        // Its connection is gone from the hub: its memory is released.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(t.services().hub.stats().connections, 1);
        t.stop().await;
    }
);

one_and_two_nodes!(
    t09_expired_or_revoked_sessions_close_and_foreign_origins_are_refused,
    |db: TestDb| async move {
        let t = TestServer::start_with(
            db,
            &[
                ("STUDYHALL_API_TOKEN_TTL", "2s"),
                ("STUDYHALL_WS_SESSION_CHECK", "1s"),
            ],
        )
        .await;
        let (_, token) = student(&t, "io@example.com").await;
        let mut c = connect(&t.ws_url(), &token).await;
        assert_eq!(
            c.closed(Duration::from_secs(6)).await,
            close::SESSION_ENDED,
            "token expiry closes the socket"
        );

        let fresh = t.token("io@example.com", PASSWORD).await;
        let mut d = connect(&t.ws_url(), &fresh).await;
        let res = t
            .api()
            .delete(t.url("/api/v1/auth/token"))
            .bearer_auth(&fresh)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204);
        assert_eq!(
            d.closed(Duration::from_secs(5)).await,
            close::SESSION_ENDED,
            "revocation closes the socket"
        );
        assert_eq!(
            try_connect(&t.ws_url(), Auth::Bearer(&fresh)).await.err(),
            Some(401)
        );

        // A browser session from a foreign page: refused before the upgrade.
        let browser = t.browser();
        let login = t.login(&browser, "io@example.com", PASSWORD).await;
        let cookie = session_cookie_of(&login)
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let evil = try_connect(
            &t.ws_url(),
            Auth::Cookie {
                cookie: &cookie,
                origin: "https://evil.example",
            },
        )
        .await;
        assert_eq!(evil.err(), Some(403));
        let own = try_connect(
            &t.ws_url(),
            Auth::Cookie {
                cookie: &cookie,
                origin: &t.base,
            },
        )
        .await;
        assert!(own.is_ok(), "the site's own origin is accepted");
        t.stop().await;
    }
);

one_and_two_nodes!(t10_presence_counts_tabs, |db: TestDb| async move {
    let t = TestServer::start(db).await;
    let root = admin(&t).await;
    let (ana, ana_token) = student(&t, "jo@example.com").await;
    let topic = cohort_with(&t, &root, "Night", ana).await;
    let db = t.services().accounts.db().clone();

    let mut watcher = connect(&t.ws_url(), &root.token).await;
    subscribed(watcher.subscribe(&topic, None).await);
    assert_eq!(
        watcher.recv().await,
        ServerMessage::Presence {
            topic: topic.parse().unwrap(),
            present: vec![root.caller.user.id],
            away: vec![],
        }
    );

    let mut tab1 = connect(&t.ws_url(), &ana_token).await;
    subscribed(tab1.subscribe(&topic, None).await);
    match tab1.recv().await {
        ServerMessage::Presence { present, .. } => assert_eq!(present.len(), 2),
        other => panic!("{other:?}"),
    }
    let joined = ServerMessage::PresenceDiff {
        topic: topic.parse().unwrap(),
        joined: vec![ana],
        left: vec![],
        away: vec![],
        back: vec![],
    };
    assert_eq!(watcher.recv().await, joined);
    let mut tab2 = connect(&t.ws_url(), &ana_token).await;
    subscribed(tab2.subscribe(&topic, None).await);
    let _ = tab2.recv().await;
    assert_eq!(
        watcher.try_recv(QUIET).await,
        None,
        "a second tab is not a second arrival"
    );
    // Away only when every tab is: one hidden tab changes nothing, both do; a newcomer's list says
    // so; one tab in use again brings the user back.
    let status = |away: bool| json!({"type": "status", "away": away});
    tab1.send(status(true)).await;
    assert_eq!(
        watcher.try_recv(QUIET).await,
        None,
        "one tab of two is away"
    );
    tab2.send(status(true)).await;
    let diff = |away: Vec<i64>, back: Vec<i64>| ServerMessage::PresenceDiff {
        topic: topic.parse().unwrap(),
        joined: vec![],
        left: vec![],
        away,
        back,
    };
    assert_eq!(watcher.recv().await, diff(vec![ana], vec![]));
    let mut late = connect(&t.ws_url(), &root.token).await;
    subscribed(late.subscribe(&topic, None).await);
    match late.recv().await {
        ServerMessage::Presence { present, away, .. } => {
            assert_eq!((present.len(), away), (2, vec![ana]))
        }
        other => panic!("{other:?}"),
    }
    drop(late);
    tab2.send(status(true)).await;
    assert_eq!(
        watcher.try_recv(QUIET).await,
        None,
        "saying it again changes nothing"
    );
    tab1.send(status(false)).await;
    assert_eq!(watcher.recv().await, diff(vec![], vec![ana]));
    tab2.send(status(false)).await;
    // A pong after it: the status has been applied (one connection's frames are handled in order).
    tab2.send(json!({"type": "ping", "id": "after-status"}))
        .await;
    while !matches!(tab2.recv().await, ServerMessage::Pong { .. }) {}
    drop(tab1);
    assert_eq!(
        watcher.try_recv(QUIET).await,
        None,
        "closing one tab keeps the user present"
    );
    drop(tab2);
    let left = ServerMessage::PresenceDiff {
        topic: topic.parse().unwrap(),
        joined: vec![],
        left: vec![ana],
        away: vec![],
        back: vec![],
    };
    assert_eq!(watcher.recv().await, left);
    // Last seen is kept when the last connection goes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let user = studyhall::accounts::users::get(&db, ana).await.unwrap();
    assert!(user.last_seen_at.is_some());
    let _unused: Option<Client> = None;
    t.stop().await;
});

one_and_two_nodes!(
    t11_ephemeral_events_limits_and_lost_access,
    |db: TestDb| async move {
        let t = TestServer::start_with(
            db,
            &[
                ("STUDYHALL_WS_MAX_SUBSCRIPTIONS", "3"),
                ("STUDYHALL_WS_SESSION_CHECK", "1s"),
            ],
        )
        .await;
        let root = admin(&t).await;
        let db = t.services().accounts.db().clone();
        let (kim, kim_token) = student(&t, "kim@example.com").await;
        let topic = cohort_with(&t, &root, "Dawn", kim).await;

        // Typing reaches other subscribers (the sender's other tabs too), never the sending connection.
        let mut tab1 = connect(&t.ws_url(), &kim_token).await;
        let mut tab2 = connect(&t.ws_url(), &kim_token).await;
        for tab in [&mut tab1, &mut tab2] {
            subscribed(tab.subscribe(&topic, None).await);
            let _presence = tab.recv().await;
        }
        tab1.send(json!({"type": "publish", "id": "t", "topic": topic, "event": "typing", "data": {"on": true}})).await;
        assert_eq!(
            tab1.recv().await,
            ServerMessage::Published {
                id: Some("t".into())
            }
        );
        match tab2.recv().await {
            ServerMessage::Ephemeral {
                event,
                user_id,
                data,
                ..
            } => {
                assert_eq!(
                    (event.as_str(), user_id, data),
                    ("typing", kim, json!({"on": true}))
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(tab1.try_recv(QUIET).await, None, "no echo to the sender");
        // Other event names, and topics that take no client events, are not allowed.
        tab1.send(
            json!({"type": "publish", "topic": topic, "event": "announcement.created", "data": {}}),
        )
        .await;
        assert!(matches!(
            tab1.recv().await,
            ServerMessage::Error {
                code: ErrorCode::NotAllowed,
                ..
            }
        ));
        tab1.send(json!({"type": "publish", "topic": format!("user:{kim}"), "event": "typing", "data": {}})).await;
        assert!(matches!(
            tab1.recv().await,
            ServerMessage::Error {
                code: ErrorCode::NotAllowed,
                ..
            }
        ));

        // The subscription cap (3 in this test).
        subscribed(tab1.subscribe(&format!("user:{kim}"), None).await);
        subscribed(tab1.subscribe("announcements", None).await);
        assert!(matches!(
            tab1.subscribe("role:student", None).await,
            ServerMessage::Error {
                code: ErrorCode::TooManySubscriptions,
                ..
            }
        ));

        // Moved out of the cohort: the subscription ends at the next check, with an explanation.
        studyhall::accounts::admin::set_cohort(&db, &t.services().hub, &root.caller, kim, None)
            .await
            .unwrap();
        let mut got_forbidden = false;
        loop {
            match tab2
                .try_recv(Duration::from_secs(4))
                .await
                .expect("lost access is announced")
            {
                ServerMessage::Error {
                    code: ErrorCode::Forbidden,
                    ..
                } => got_forbidden = true,
                ServerMessage::Unsubscribed { topic: t2, .. } => {
                    assert_eq!(t2.to_string(), topic);
                    break;
                }
                ServerMessage::PresenceDiff { .. } => {}
                other => panic!("{other:?}"),
            }
        }
        assert!(got_forbidden);
        publish(&t, topic.parse().unwrap(), 1).await;
        assert_eq!(
            tab2.try_recv(QUIET).await,
            None,
            "nothing more from the cohort"
        );

        // A client speaking another protocol version is told and closed.
        let mut old = connect(&t.ws_url(), &kim_token).await;
        old.send(json!({"type": "hello", "version": 99})).await;
        assert!(matches!(
            old.recv().await,
            ServerMessage::Error {
                code: ErrorCode::UnsupportedVersion,
                ..
            }
        ));
        assert_eq!(
            old.closed(Duration::from_secs(5)).await,
            close::UNSUPPORTED_VERSION
        );
        t.stop().await;
    }
);

one_and_two_nodes!(
    t12_announcement_snapshot_then_subscribe_misses_nothing,
    |db: TestDb| async move {
        let t = TestServer::start(db).await;
        t.create_user("root@example.com", Role::Admin).await;
        let token = t.token("root@example.com", PASSWORD).await;
        let post = |title: String| {
            let (api, url, token) = (t.api(), t.url("/api/v1/announcements"), token.clone());
            async move {
                let res = api
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({"title": title, "body": "b"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201);
                res.json::<serde_json::Value>().await.unwrap()
            }
        };
        post("first".into()).await;
        let snapshot: serde_json::Value = t
            .api()
            .get(t.url("/api/v1/announcements"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(snapshot["items"][0]["title"], "first");
        let (epoch, offset) = (
            snapshot["position"]["epoch"].as_str().unwrap().to_string(),
            snapshot["position"]["offset"].as_i64().unwrap(),
        );
        assert_eq!(offset, 1);
        // Posted between the snapshot and the subscription: replayed, with the same data as live.
        let second = post("second".into()).await;
        let mut c = connect(&t.ws_url(), &token).await;
        match c.subscribe("announcements", Some((&epoch, offset))).await {
            ServerMessage::Event {
                offset,
                data,
                event,
                ..
            } => {
                assert_eq!((offset, event.as_str()), (2, "announcement.created"));
                assert_eq!(
                    data, second,
                    "the stored event is the announcement, offset included"
                );
            }
            other => panic!("{other:?}"),
        }
        let invalid = t
            .api()
            .post(t.url("/api/v1/announcements"))
            .bearer_auth(&token)
            .json(&json!({"title": " ", "body": "b"}))
            .send()
            .await
            .unwrap();
        assert_eq!(invalid.status(), 422);
        let (_, student_token) = student(&t, "lu@example.com").await;
        let denied = t
            .api()
            .post(t.url("/api/v1/announcements"))
            .bearer_auth(&student_token)
            .json(&json!({"title": "x", "body": "y"}))
            .send()
            .await
            .unwrap();
        assert_eq!(denied.status(), 403);
        t.stop().await;
    }
);

one_and_two_nodes!(
    t13_connection_cap_and_silent_peers,
    |db: TestDb| async move {
        let t = TestServer::start_with(
            db,
            &[
                ("STUDYHALL_WS_MAX_CONNECTIONS_PER_USER", "2"),
                ("STUDYHALL_WS_HEARTBEAT", "1s"),
                ("STUDYHALL_WS_IDLE_TIMEOUT", "2s"),
                ("STUDYHALL_EVENT_RETENTION_COUNT", "500"),
            ],
        )
        .await;
        let (_, token) = student(&t, "mo@example.com").await;
        // The welcome announces the cap and the retention count as configured, so a client can
        // discover both.
        let mut first = try_connect(&t.ws_url(), Auth::Bearer(&token))
            .await
            .expect("upgrade accepted");
        match first.recv().await {
            ServerMessage::Welcome {
                heartbeat_ms,
                limits,
                ..
            } => {
                assert_eq!(heartbeat_ms, 1000);
                assert_eq!(
                    (
                        limits.max_connections_per_user,
                        limits.retained_events_per_topic
                    ),
                    (2, 500)
                );
            }
            other => panic!("expected welcome, got {other:?}"),
        }
        let _second = connect(&t.ws_url(), &token).await;
        assert_eq!(
            refused(&t.ws_url(), &token).await,
            close::TOO_MANY_CONNECTIONS
        );
        // A peer that sends nothing (not even pongs: this client does not read) is dropped; one
        // that answers the heartbeat's pings stays, past the idle timeout.
        let (_, other) = student(&t, "lu@example.com").await;
        let mut live = connect(&t.ws_url(), &other).await;
        let pings = live.pings_within(Duration::from_secs(4)).await;
        assert!(pings >= 2, "a ping a second, got {pings} in 4 s");
        assert_eq!(
            first.closed(Duration::from_secs(5)).await,
            close::HEARTBEAT_TIMEOUT
        );
        live.send(serde_json::json!({"type": "ping", "id": "still"}))
            .await;
        assert!(
            matches!(live.recv().await, ServerMessage::Pong { .. }),
            "the answering peer is still served"
        );
        t.stop().await;
    }
);

// About one process's shutdown: its clients use that node (the other node's are not closing).
one_and_two_nodes!(
    t14_a_closing_hub_closes_sockets_and_turns_new_ones_away,
    |db: TestDb| async move {
        let t = TestServer::start(db).await;
        let (id, token) = student(&t, "flo@example.com").await;
        let mut held = connect(&t.primary_ws_url(), &token).await;
        subscribed(held.subscribe(&Topic::User(id).to_string(), None).await);
        // What shutdown does to sockets, without stopping the HTTP server.
        assert_eq!(t.services().hub.close_all(), [id], "who was connected");
        assert_eq!(held.closed(Duration::from_secs(5)).await, close::GOING_AWAY);
        // An upgrade that completes now is closed at once, before any welcome.
        assert_eq!(
            refused(&t.primary_ws_url(), &token).await,
            close::GOING_AWAY
        );
        t.stop().await;
    }
);
