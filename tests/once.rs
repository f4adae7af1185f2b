//! Things that must happen once: a create sent twice with the same idempotency key (a double click, a
//! retry), a streak milestone however the streak's days are logged, and sign-ins kept out of the feed.
//! On SQLite and on PostgreSQL.

use std::sync::Arc;
use studyhall::accounts::service::Caller;
use studyhall::accounts::SessionKind;
use studyhall::accounts::{sign_ins, users};
use studyhall::both_backends;
use studyhall::feed::service as activity;
use studyhall::feed::FeedFilter;
use studyhall::learning::analytics::{format_day, local_day};
use studyhall::learning::service as learning;
use studyhall::learning::{GoalInput, SessionInput};
use studyhall::model::{Role, User};
use studyhall::notifications::service as notifications;
use studyhall::notifications::NotificationFilter;
use studyhall::server::db::Db;
use studyhall::server::realtime::{Hub, HubSettings, InProcessBus};
use studyhall::server::{now_ms, ClientInfo};
use studyhall::testing::TestDb;
use studyhall::AppError;

fn hub() -> Hub {
    Hub::new(HubSettings::default(), Arc::new(InProcessBus::default()))
}

async fn student(db: &Db, email: &str) -> Caller {
    let user: User = users::insert(
        db,
        users::NewUser {
            email,
            display_name: "Ana",
            role: Role::Student,
            time_zone: "UTC",
            password_hash: "not-a-hash",
            cohort_id: None,
        },
        now_ms(),
    )
    .await
    .unwrap();
    studyhall::testing::caller(user)
}

fn days_ago(n: i64) -> String {
    format_day(local_day("UTC", now_ms()) - chrono::Duration::days(n))
}

fn session(day: String, topic: &str) -> SessionInput {
    SessionInput {
        day,
        minutes: 30,
        topic: topic.into(),
        note: None,
    }
}

async fn count(db: &Db, sql: &str, user: i64) -> i64 {
    studyhall::with_db!(db, pool => sqlx::query_scalar::<_, i64>(sql).bind(user).fetch_one(pool).await)
        .unwrap()
}

both_backends!(
    the_same_key_creates_once_and_answers_the_same,
    |t: TestDb| async move {
        let db = &t.db;
        let hub = hub();
        let ana = student(db, "ana@example.com").await;
        let ben = student(db, "ben@example.com").await;
        let key = Some("6f1c2a9e-0b7d-4c1e-9a55-3d2f8e7b1a10");
        let input = session(days_ago(0), "Rust");

        let first = learning::log_session_once(db, &hub, &ana, &input, key)
            .await
            .unwrap();
        let again = learning::log_session_once(db, &hub, &ana, &input, key)
            .await
            .unwrap();
        assert_eq!(first, again, "a repeat answers the first session");
        let other = learning::log_session_once(db, &hub, &ana, &input, Some("another-key-1"))
            .await
            .unwrap();
        assert_ne!(first.id, other.id, "a different key is a different session");
        let none = learning::log_session_once(db, &hub, &ana, &input, None)
            .await
            .unwrap();
        assert_ne!(none.id, other.id, "no key, no deduplication");
        let sessions = "SELECT COUNT(*) FROM learning_sessions WHERE user_id = $1";
        assert_eq!(count(db, sessions, ana.user.id).await, 3);
        // One feed entry per session actually made.
        let feed = "SELECT COUNT(*) FROM activities WHERE user_id = $1";
        assert_eq!(count(db, feed, ana.user.id).await, 3);

        // Keys are per user: Ben's request with Ana's key is his own.
        let his = learning::log_session_once(db, &hub, &ben, &input, key)
            .await
            .unwrap();
        assert_ne!(his.id, first.id);
        assert_eq!(his.user_id, ben.user.id);

        // And per kind of thing: the same key on a goal and a skill makes each once.
        let goal = GoalInput {
            title: "Ship it".into(),
            target_day: None,
        };
        let g1 = learning::set_goal_once(db, &hub, &ana, &goal, key)
            .await
            .unwrap();
        let g2 = learning::set_goal_once(db, &hub, &ana, &goal, key)
            .await
            .unwrap();
        assert_eq!(g1, g2);
        let goals = "SELECT COUNT(*) FROM goals WHERE user_id = $1";
        assert_eq!(count(db, goals, ana.user.id).await, 1);
        let s1 = learning::add_skill_once(db, &hub, &ana, "SQL", key)
            .await
            .unwrap();
        // Without the key this would be a 422 (the skill exists); with it, the first answer.
        let s2 = learning::add_skill_once(db, &hub, &ana, "SQL", key)
            .await
            .unwrap();
        assert_eq!(s1, s2);
        let g3 = learning::set_goal_once(db, &hub, &ana, &goal, Some("goal-key-2"))
            .await
            .unwrap();
        assert_ne!(g3.id, g1.id);

        // A malformed key is a 422 on its own field, and nothing is written.
        let err = learning::log_session_once(db, &hub, &ana, &input, Some("short"))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, AppError::Validation { fields } if fields[0].field == "idempotency_key"),
            "{err:?}"
        );
        assert_eq!(count(db, sessions, ana.user.id).await, 3);
    }
);

both_backends!(
    a_double_submit_in_parallel_creates_one_row,
    |t: TestDb| async move {
        let db = t.db.clone();
        let hub = hub();
        let ana = student(&db, "ana@example.com").await;
        let input = session(days_ago(0), "Rust");
        let key = "b2d7c1f0-parallel-double-click";
        let runs = (0..4).map(|_| learning::log_session_once(&db, &hub, &ana, &input, Some(key)));
        let results: Vec<_> = futures_join(runs).await;
        let ids: Vec<i64> = results.into_iter().map(|r| r.unwrap().id).collect();
        assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
        let sessions = "SELECT COUNT(*) FROM learning_sessions WHERE user_id = $1";
        assert_eq!(count(&db, sessions, ana.user.id).await, 1);
    }
);

/// Runs the futures concurrently on this task (no extra dependency for a join).
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in pinned.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(Option::unwrap).collect()
}

async fn streak_titles(db: &Db, who: &Caller) -> Vec<String> {
    notifications::list(db, who, &NotificationFilter::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|n| n.title)
        .filter(|t| t.contains("streak"))
        .collect()
}

both_backends!(
    a_streak_milestone_comes_once_however_its_days_are_logged,
    |t: TestDb| async move {
        let db = &t.db;
        let hub = hub();
        let ana = student(db, "ana@example.com").await;
        // Today, yesterday, the day before: a 3-day streak.
        for n in [0, 1, 2] {
            learning::log_session(db, &hub, &ana, &session(days_ago(n), "Rust"))
                .await
                .unwrap();
        }
        assert_eq!(streak_titles(db, &ana).await, ["3-day streak!"]);
        // Backfilling earlier days moves the streak's first day back each time: still the same streak
        // (keyed by its first day alone, each of these sent "3-day streak!" again).
        let mut earliest = None;
        for n in [3, 4, 5] {
            earliest = Some(
                learning::log_session(db, &hub, &ana, &session(days_ago(n), "Rust"))
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(streak_titles(db, &ana).await, ["3-day streak!"]);
        // Deleting the first day (or editing it away) moves the first day forward: the same streak.
        let first = earliest.unwrap();
        learning::delete_session(db, &hub, &ana, first.id)
            .await
            .unwrap();
        let moved = learning::log_session(db, &hub, &ana, &session(days_ago(4), "SQL"))
            .await
            .unwrap();
        learning::update_session(db, &hub, &ana, moved.id, &session(days_ago(10), "SQL"))
            .await
            .unwrap();
        assert_eq!(streak_titles(db, &ana).await, ["3-day streak!"]);
        // Seven days in a row is a new achievement, sent once.
        for n in [4, 5, 6] {
            learning::log_session(db, &hub, &ana, &session(days_ago(n), "Rust"))
                .await
                .unwrap();
        }
        assert_eq!(
            streak_titles(db, &ana).await,
            ["7-day streak!", "3-day streak!"]
        );
    }
);

both_backends!(
    a_new_streak_after_a_gap_is_a_new_achievement,
    |t: TestDb| async move {
        let db = &t.db;
        let hub = hub();
        let ana = student(db, "ana@example.com").await;
        // An old streak, ten to twelve days ago: not current, so nothing is sent for it.
        for n in [10, 11, 12] {
            learning::log_session(db, &hub, &ana, &session(days_ago(n), "Rust"))
                .await
                .unwrap();
        }
        assert!(streak_titles(db, &ana).await.is_empty());
        for n in [0, 1, 2] {
            learning::log_session(db, &hub, &ana, &session(days_ago(n), "Rust"))
                .await
                .unwrap();
        }
        assert_eq!(streak_titles(db, &ana).await, ["3-day streak!"]);
    }
);

both_backends!(
    sign_ins_go_to_the_security_log_not_the_feed,
    |t: TestDb| async move {
        let db = &t.db;
        let ana = student(db, "ana@example.com").await;
        let client = ClientInfo {
            ip: Some("203.0.113.7".into()),
            user_agent: Some(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/120.0.0.0 Safari/537.36"
                    .into(),
            ),
        };
        for i in 0..(sign_ins::KEPT + 3) {
            sign_ins::record(db, ana.user.id, SessionKind::Browser, &client, 1_000 + i).await;
        }
        let log = sign_ins::recent(db, ana.user.id, 100).await.unwrap();
        assert_eq!(log.len() as i64, sign_ins::KEPT, "only the newest are kept");
        assert_eq!(log[0].at, 1_000 + sign_ins::KEPT + 2, "newest first");
        assert_eq!(log[0].device, "Chrome on Linux");
        assert_eq!(log[0].ip.as_deref(), Some("203.0.113.7"));
        let (feed, _) = activity::items(db, &ana, &FeedFilter::default())
            .await
            .unwrap();
        assert!(feed.is_empty(), "no sign-in in the feed: {feed:?}");
    }
);

async fn staff(db: &Db, email: &str, role: Role) -> Caller {
    let c = student(db, email).await;
    users::set_role(db, c.user.id, role).await.unwrap();
    Caller {
        user: users::find(db, c.user.id).await.unwrap().unwrap(),
        ..c
    }
}

both_backends!(
    announcements_and_sends_are_made_once_per_key,
    |t: TestDb| async move {
        use studyhall::announcements::service as announcements;
        use studyhall::notifications::{Audience, Kind, NewNotification, Priority};
        let db = &t.db;
        let hub = hub();
        let ana = student(db, "ana@example.com").await;
        let root = staff(db, "root@example.com", Role::Admin).await;
        let key = Some("post-key-0001");
        let a1 = announcements::post_once(db, &hub, &root, "Hi", "Welcome", key)
            .await
            .unwrap();
        let a2 = announcements::post_once(db, &hub, &root, "Hi", "Welcome", key)
            .await
            .unwrap();
        assert_eq!(a1, a2);
        let a3 = announcements::post_once(db, &hub, &root, "Hi", "Welcome", Some("post-key-0002"))
            .await
            .unwrap();
        assert_ne!(a1.id, a3.id);
        let posts = "SELECT COUNT(*) FROM announcements WHERE author_id = $1";
        assert_eq!(count(db, posts, root.user.id).await, 2);
        // One event per announcement made, none for the repeat.
        let events = studyhall::with_db!(db, pool => sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM events WHERE topic = 'announcements'").fetch_one(pool).await)
        .unwrap();
        assert_eq!(events, 2);

        let note = NewNotification {
            audience: Audience::User { id: ana.user.id },
            kind: Kind::Social,
            priority: Priority::Normal,
            title: "Hi".into(),
            message: "Hello".into(),
            link: None,
            ttl_secs: None,
        };
        let s1 = notifications::send_once(db, &hub, &root, &note, key)
            .await
            .unwrap();
        let s2 = notifications::send_once(db, &hub, &root, &note, key)
            .await
            .unwrap();
        assert_eq!((s1, s2.recipients), (s2, 1));
        let inbox = "SELECT COUNT(*) FROM notifications WHERE user_id = $1";
        assert_eq!(count(db, inbox, ana.user.id).await, 1);
        notifications::send_once(db, &hub, &root, &note, Some("send-key-0002"))
            .await
            .unwrap();
        assert_eq!(count(db, inbox, ana.user.id).await, 2);
        let err = notifications::send_once(db, &hub, &root, &note, Some("no"))
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Validation { .. }), "{err:?}");
        // A student may not post, key or not.
        let err = announcements::post_once(db, &hub, &ana, "Hi", "x", key)
            .await
            .unwrap_err();
        assert_eq!(err, AppError::Forbidden);
    }
);

both_backends!(keys_are_forgotten_after_a_day, |t: TestDb| async move {
    use studyhall::server::idempotency;
    let db = &t.db;
    let hub = hub();
    let ana = student(db, "ana@example.com").await;
    let input = session(days_ago(0), "Rust");
    let key = Some("old-key-00001");
    let first = learning::log_session_once(db, &hub, &ana, &input, key)
        .await
        .unwrap();
    let now = now_ms();
    assert_eq!(
        idempotency::purge(db, now).await.unwrap(),
        0,
        "a fresh key is kept"
    );
    let age = format!(
        "UPDATE idempotency_keys SET created_at = {} WHERE user_id = $1",
        now - idempotency::KEEP_MS - 1
    );
    studyhall::with_db!(db, pool => sqlx::query(&age).bind(ana.user.id).execute(pool).await.map(|_| ()))
        .unwrap();
    assert_eq!(idempotency::purge(db, now).await.unwrap(), 1);
    let later = learning::log_session_once(db, &hub, &ana, &input, key)
        .await
        .unwrap();
    assert_ne!(later.id, first.id, "a forgotten key is a new create");
});

both_backends!(sessions_page_in_order_each_once, |t: TestDb| async move {
    let db = &t.db;
    let hub = hub();
    let ana = student(db, "ana@example.com").await;
    // 45 sessions, several per day, logged out of order.
    for i in 0..45 {
        let day = days_ago((i * 7) % 15);
        learning::log_session(db, &hub, &ana, &session(day, "Rust"))
            .await
            .unwrap();
    }
    let snap = learning::snapshot(db, &ana).await.unwrap();
    assert_eq!(snap.sessions.len() as i64, learning::SESSIONS_PAGE);
    let mut seen = snap.sessions.clone();
    let mut next = snap.more_sessions.clone();
    let mut pages = 1;
    while let Some(before) = next {
        // A session logged meanwhile (today, so before every cursor) neither repeats nor hides a row.
        if pages == 1 {
            learning::log_session(db, &hub, &ana, &session(days_ago(0), "New"))
                .await
                .unwrap();
        }
        let page = learning::sessions_page(db, &ana, Some(&before), None)
            .await
            .unwrap();
        seen.extend(page.items);
        next = page.next;
        pages += 1;
    }
    assert_eq!((seen.len(), pages), (45, 3));
    let mut want = seen.clone();
    want.sort_by(|a, b| b.day.cmp(&a.day).then(b.id.cmp(&a.id)));
    assert_eq!(seen, want, "newest day first, then newest first");
    let mut ids: Vec<i64> = seen.iter().map(|s| s.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 45, "each once");
    // Bounds, a bad cursor and other callers.
    let some = learning::sessions_page(db, &ana, None, Some(5))
        .await
        .unwrap();
    assert_eq!(some.items.len(), 5);
    for limit in [0, learning::SESSIONS_PAGE_MAX + 1] {
        let err = learning::sessions_page(db, &ana, None, Some(limit))
            .await
            .unwrap_err();
        assert!(
            matches!(err, AppError::Validation { .. }),
            "{limit}: {err:?}"
        );
    }
    let bad = studyhall::learning::SessionCursor {
        day: "soon".into(),
        id: 1,
    };
    let err = learning::sessions_page(db, &ana, Some(&bad), None)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Validation { .. }), "{err:?}");
    let maya = staff(db, "maya@example.com", Role::Mentor).await;
    let err = learning::sessions_page(db, &maya, None, None)
        .await
        .unwrap_err();
    assert_eq!(err, AppError::Forbidden);
    let ben = student(db, "ben@example.com").await;
    let his = learning::sessions_page(db, &ben, None, None).await.unwrap();
    assert!(
        his.items.is_empty() && his.next.is_none(),
        "only the caller's own"
    );
});
