//! Service tests for the learning log, analytics, the activity feed and notifications, run on SQLite
//! and on PostgreSQL.

use std::sync::Arc;
use studyhall::accounts::service::Caller;
use studyhall::accounts::ApiScope;
use studyhall::accounts::{overview, users};
use studyhall::both_backends;
use studyhall::feed::service as activity;
use studyhall::feed::FeedFilter;
use studyhall::learning::analytics::{format_day, local_day};
use studyhall::learning::service as learning;
use studyhall::learning::{GoalInput, SessionInput};
use studyhall::model::Role;
use studyhall::notifications::service as notifications;
use studyhall::notifications::service::Target;
use studyhall::notifications::{
    Audience, Kind, NewNotification, NotificationFilter, Preferences, Priority,
};
use studyhall::protocol::Topic;
use studyhall::server::db::Db;
use studyhall::server::now_ms;
use studyhall::server::realtime::{log, Hub, HubSettings, InProcessBus};
use studyhall::testing::TestDb;
use studyhall::AppError;

fn hub() -> Hub {
    Hub::new(HubSettings::default(), Arc::new(InProcessBus::default()))
}

async fn user(db: &Db, email: &str, name: &str, role: Role, tz: &str) -> Caller {
    let user = users::insert(
        db,
        users::NewUser {
            email,
            display_name: name,
            role,
            time_zone: tz,
            password_hash: "not-a-hash",
            cohort_id: None,
        },
        now_ms(),
    )
    .await
    .unwrap();
    studyhall::testing::caller(user)
}

fn days_ago(tz: &str, n: i64) -> String {
    format_day(local_day(tz, now_ms()) - chrono::Duration::days(n))
}

fn session(day: String, minutes: i64, topic: &str) -> SessionInput {
    SessionInput {
        day,
        minutes,
        topic: topic.into(),
        note: None,
    }
}

/// Recomputes the headline figures by brute force from the listed sessions.
async fn brute_force(db: &Db, caller: &Caller) -> (i64, i64) {
    let snap = learning::snapshot(db, caller).await.unwrap();
    (
        snap.sessions.iter().map(|s| s.minutes).sum(),
        snap.sessions.len() as i64,
    )
}

both_backends!(
    analytics_follow_every_edit_and_delete,
    |t: TestDb| async move {
        let db = &t.db;
        let hub = hub();
        let tz = "Pacific/Auckland";
        let ana = user(db, "ana@example.com", "Ana", Role::Student, tz).await;
        let mut ids = Vec::new();
        for (n, minutes) in [(0, 30), (1, 45), (2, 60), (4, 20)] {
            let s =
                learning::log_session(db, &hub, &ana, &session(days_ago(tz, n), minutes, "Rust"))
                    .await
                    .unwrap();
            ids.push(s.id);
        }
        let a = learning::analytics_of(db, &ana, ana.user.id)
            .await
            .unwrap()
            .0;
        assert_eq!((a.total_minutes, a.sessions), brute_force(db, &ana).await);
        assert_eq!(a.total_minutes, 155);
        assert_eq!((a.current_streak, a.longest_streak), (3, 3));
        assert_eq!(a.weekly.iter().map(|w| w.minutes).sum::<i64>(), 155);
        assert_eq!(a.monthly.iter().map(|m| m.minutes).sum::<i64>(), 155);
        assert_eq!(a.today, days_ago(tz, 0));

        // Moving yesterday's session three days back breaks the current streak at today.
        learning::update_session(db, &hub, &ana, ids[1], &session(days_ago(tz, 3), 90, "Go"))
            .await
            .unwrap();
        let a = learning::analytics_of(db, &ana, ana.user.id)
            .await
            .unwrap()
            .0;
        assert_eq!((a.total_minutes, a.sessions), brute_force(db, &ana).await);
        assert_eq!(a.total_minutes, 200);
        assert_eq!(
            (a.current_streak, a.longest_streak),
            (1, 3),
            "days 0 | 2,3,4"
        );

        learning::delete_session(db, &hub, &ana, ids[0])
            .await
            .unwrap();
        let a = learning::analytics_of(db, &ana, ana.user.id)
            .await
            .unwrap()
            .0;
        assert_eq!((a.total_minutes, a.sessions), brute_force(db, &ana).await);
        assert_eq!(a.total_minutes, 170);
        assert_eq!(a.current_streak, 0, "nothing today or yesterday");

        // The last event on the stream carries the same figures as a fresh read.
        let head = log::head(db, Topic::User(ana.user.id)).await.unwrap();
        let events = log::read(db, Topic::User(ana.user.id), &head.epoch, 0, head.head, 100)
            .await
            .unwrap();
        let last = events
            .iter()
            .rev()
            .find(|e| e.event == "learning.changed")
            .unwrap();
        assert_eq!(last.data["analytics"]["total_minutes"], 170);

        // Someone else's session cannot be changed, and bad input names its fields.
        let ben = user(db, "ben@example.com", "Ben", Role::Student, "UTC").await;
        let err = learning::delete_session(db, &hub, &ben, ids[2])
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::NotFound { .. }), "{err:?}");
        let err = learning::log_session(db, &hub, &ben, &session("2999-01-01".into(), 0, " "))
            .await
            .unwrap_err();
        for field in ["day", "minutes", "topic"] {
            assert!(err.field_message(field).is_some(), "{field}: {err:?}");
        }
        let mentor = user(db, "m@example.com", "Maya", Role::Mentor, "UTC").await;
        assert_eq!(
            learning::log_session(db, &hub, &mentor, &session(days_ago("UTC", 0), 10, "x")).await,
            Err(AppError::Forbidden)
        );
    }
);

both_backends!(
    milestones_arrive_once_and_goals_tell_mentors,
    |t: TestDb| async move {
        let db = &t.db;
        let hub = hub();
        let ana = user(db, "ana@example.com", "Ana", Role::Student, "UTC").await;
        let maya = user(db, "maya@example.com", "Maya", Role::Mentor, "UTC").await;
        users::replace_mentors(db, ana.user.id, &[maya.user.id], now_ms())
            .await
            .unwrap();
        for n in [2, 1, 0] {
            learning::log_session(db, &hub, &ana, &session(days_ago("UTC", n), 200, "Rust"))
                .await
                .unwrap();
        }
        // A second session today changes nothing about the milestones reached.
        learning::log_session(db, &hub, &ana, &session(days_ago("UTC", 0), 5, "Rust"))
            .await
            .unwrap();
        let inbox = notifications::list(db, &ana, &NotificationFilter::default())
            .await
            .unwrap();
        let titles: Vec<&str> = inbox.items.iter().map(|n| n.title.as_str()).collect();
        assert_eq!(
            titles,
            ["10 hours of learning", "3-day streak!"],
            "newest first"
        );
        assert_eq!(inbox.items[1].kind, Kind::Achievement);

        let goal = learning::set_goal(
            db,
            &hub,
            &ana,
            &GoalInput {
                title: "Ship it".into(),
                target_day: None,
            },
        )
        .await
        .unwrap();
        learning::complete_goal(db, &hub, &ana, goal.id, true)
            .await
            .unwrap();
        learning::complete_goal(db, &hub, &ana, goal.id, false)
            .await
            .unwrap();
        learning::complete_goal(db, &hub, &ana, goal.id, true)
            .await
            .unwrap();
        let mentor_inbox = notifications::list(db, &maya, &NotificationFilter::default())
            .await
            .unwrap();
        assert_eq!(mentor_inbox.items.len(), 1, "told once per goal");
        assert_eq!(mentor_inbox.items[0].title, "Ana completed a goal");
        assert_eq!(
            mentor_inbox.items[0].link.as_deref(),
            Some(&*format!("/activity?student={}", ana.user.id))
        );
        let a = learning::analytics_of(db, &maya, ana.user.id)
            .await
            .unwrap()
            .0;
        assert_eq!((a.goals_set, a.goals_completed), (1, 1));

        // Clearing the inbox does not bring the milestones back.
        notifications::delete(db, &hub, &ana, Target::All)
            .await
            .unwrap();
        learning::log_session(db, &hub, &ana, &session(days_ago("UTC", 0), 5, "Rust"))
            .await
            .unwrap();
        let after = notifications::list(db, &ana, &NotificationFilter::default())
            .await
            .unwrap();
        assert!(
            after.items.is_empty(),
            "milestones come once: {:?}",
            after.items
        );
        // The app's own activity kinds cannot be forged through the API.
        let forged = activity::record_for(
            db,
            &hub,
            &ana,
            &studyhall::feed::NewActivity {
                user_id: ana.user.id,
                kind: "goal_completed".into(),
                title: "Completed everything".into(),
                details: None,
                subject: None,
            },
        )
        .await
        .unwrap_err();
        assert!(forged.field_message("kind").is_some(), "{forged:?}");
    }
);

both_backends!(
    the_feed_shows_each_viewer_what_they_may_see,
    |t: TestDb| async move {
        let db = &t.db;
        let hub = hub();
        let ana = user(db, "ana@example.com", "Ana", Role::Student, "UTC").await;
        let ben = user(db, "ben@example.com", "Ben", Role::Student, "UTC").await;
        let maya = user(db, "maya@example.com", "Maya", Role::Mentor, "UTC").await;
        let omar = user(db, "omar@example.com", "Omar", Role::Mentor, "UTC").await;
        let root = user(db, "root@example.com", "Root", Role::Admin, "UTC").await;
        users::replace_mentors(db, ana.user.id, &[maya.user.id], now_ms())
            .await
            .unwrap();
        for i in 0..5 {
            learning::log_session(db, &hub, &ana, &session(days_ago("UTC", 0), 10 + i, "Rust"))
                .await
                .unwrap();
        }
        learning::add_skill(db, &hub, &ben, "SQL").await.unwrap();
        let err = learning::add_skill(db, &hub, &ben, "sql")
            .await
            .unwrap_err();
        assert!(
            err.field_message("name").is_some(),
            "duplicate skill: {err:?}"
        );

        let page = |who: &Caller, f: FeedFilter| {
            let (db, who) = (db.clone(), who.clone());
            async move { activity::list(&db, &who, &f).await }
        };
        let of =
            |p: &studyhall::feed::FeedPage| p.items.iter().map(|a| a.user_id).collect::<Vec<_>>();
        assert!(of(&page(&ana, FeedFilter::default()).await.unwrap())
            .iter()
            .all(|id| *id == ana.user.id));
        assert_eq!(
            page(&ben, FeedFilter::default()).await.unwrap().items.len(),
            1
        );
        assert_eq!(
            page(&maya, FeedFilter::default())
                .await
                .unwrap()
                .items
                .len(),
            5
        );
        assert_eq!(
            page(&omar, FeedFilter::default())
                .await
                .unwrap()
                .items
                .len(),
            0
        );
        assert_eq!(
            page(&root, FeedFilter::default())
                .await
                .unwrap()
                .items
                .len(),
            6
        );
        let filter_ana = FeedFilter {
            user_id: Some(ana.user.id),
            ..Default::default()
        };
        assert_eq!(
            page(&omar, filter_ana.clone()).await,
            Err(AppError::Forbidden)
        );
        assert_eq!(
            page(&ben, filter_ana.clone()).await,
            Err(AppError::Forbidden)
        );

        // Cursor pagination: pages of two, newest first, no overlap, nothing skipped.
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let p = page(
                &maya,
                FeedFilter {
                    limit: Some(2),
                    before,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            seen.extend(p.items.iter().map(|a| a.id));
            match p.next {
                Some(n) => before = Some(n),
                None => break,
            }
        }
        let mut sorted = seen.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        sorted.dedup();
        assert_eq!(seen, sorted);
        assert_eq!(seen.len(), 5);

        // Read state is per viewer; own activity is never unread.
        assert_eq!(page(&maya, FeedFilter::default()).await.unwrap().unread, 5);
        assert_eq!(page(&ana, FeedFilter::default()).await.unwrap().unread, 0);
        activity::mark(db, &maya, &seen[..2], true).await.unwrap();
        assert_eq!(page(&maya, FeedFilter::default()).await.unwrap().unread, 3);
        activity::mark_all_read(db, &maya).await.unwrap();
        assert_eq!(page(&maya, FeedFilter::default()).await.unwrap().unread, 0);
        activity::mark(db, &maya, &seen[4..], false).await.unwrap();
        let unread = page(
            &maya,
            FeedFilter {
                unread: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            unread.items.iter().map(|a| a.id).collect::<Vec<_>>(),
            [seen[4]]
        );
        assert_eq!(
            page(&root, FeedFilter::default()).await.unwrap().unread,
            6,
            "admin's own marks"
        );
        // Ben cannot mark what he cannot see: nothing is written for him (his own feed would look the
        // same either way, so look at the read-state table itself).
        activity::mark(db, &ben, &seen, true).await.unwrap();
        let written: i64 = studyhall::with_db!(db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM activity_reads WHERE viewer_id = $1")
            .bind(ben.user.id).fetch_one(pool).await)
        .unwrap();
        assert_eq!(written, 0, "marks on activities Ben cannot see were stored");
    }
);

both_backends!(
    notifications_are_private_muted_and_expire,
    |t: TestDb| async move {
        let db = &t.db;
        let hub = hub();
        let ana = user(db, "ana@example.com", "Ana", Role::Student, "UTC").await;
        let ben = user(db, "ben@example.com", "Ben", Role::Student, "UTC").await;
        let maya = user(db, "maya@example.com", "Maya", Role::Mentor, "UTC").await;
        let root = user(db, "root@example.com", "Root", Role::Admin, "UTC").await;
        users::replace_mentors(db, ana.user.id, &[maya.user.id], now_ms())
            .await
            .unwrap();
        let note = |audience: Audience, kind: Kind, ttl: Option<i64>| NewNotification {
            audience,
            kind,
            priority: Priority::High,
            title: "Heads up".into(),
            message: "Read this".into(),
            link: Some("/learning".into()),
            ttl_secs: ttl,
        };
        // Mentors reach their own students only, and never as "system"; students send nothing.
        let r = notifications::send(
            db,
            &hub,
            &maya,
            &note(Audience::MyStudents, Kind::Social, None),
        )
        .await
        .unwrap();
        assert_eq!((r.recipients, r.delivered), (1, 1));
        assert_eq!(
            notifications::send(
                db,
                &hub,
                &maya,
                &note(Audience::User { id: ben.user.id }, Kind::Social, None)
            )
            .await,
            Err(AppError::Forbidden)
        );
        assert!(notifications::send(
            db,
            &hub,
            &maya,
            &note(Audience::MyStudents, Kind::System, None)
        )
        .await
        .is_err());
        assert_eq!(
            notifications::send(
                db,
                &hub,
                &maya,
                &note(Audience::Everyone, Kind::Social, None)
            )
            .await,
            Err(AppError::Forbidden)
        );
        assert_eq!(
            notifications::send(
                db,
                &hub,
                &ana,
                &note(Audience::User { id: ben.user.id }, Kind::Social, None)
            )
            .await,
            Err(AppError::Forbidden)
        );
        let mut bad = note(Audience::Everyone, Kind::Social, Some(0));
        bad.link = Some("https://evil.example".into());
        bad.title = " ".into();
        let err = notifications::send(db, &hub, &root, &bad)
            .await
            .unwrap_err();
        for field in ["title", "link", "ttl_secs"] {
            assert!(err.field_message(field).is_some(), "{field}: {err:?}");
        }

        // Ben mutes social: an announcement to everyone skips him; system cannot be muted.
        let prefs = Preferences {
            muted: vec![Kind::Social],
            sound: true,
            desktop: false,
        };
        notifications::set_preferences(db, &hub, &ben, &prefs)
            .await
            .unwrap();
        let mut system = prefs.clone();
        system.muted.push(Kind::System);
        assert!(notifications::set_preferences(db, &hub, &ben, &system)
            .await
            .is_err());
        let r = notifications::send(
            db,
            &hub,
            &root,
            &note(
                Audience::Role {
                    role: Role::Student,
                },
                Kind::Social,
                None,
            ),
        )
        .await
        .unwrap();
        assert_eq!((r.recipients, r.delivered), (2, 1));

        // Counts, seen, read, unread, delete — and only ever on the caller's own inbox.
        let snap = notifications::snapshot(db, &ana).await.unwrap();
        assert_eq!(
            (snap.counts.unseen, snap.counts.unread, snap.counts.total),
            (2, 2, 2)
        );
        let ids: Vec<i64> = snap.items.iter().map(|n| n.id).collect();
        let c = notifications::mark_seen(db, &hub, &ana).await.unwrap();
        assert_eq!((c.unseen, c.unread), (0, 2));
        let c = notifications::mark_read(db, &hub, &ben, Target::Ids(ids.clone()), true)
            .await
            .unwrap();
        assert_eq!(c.unread, 0, "Ben's own (empty) inbox");
        assert_eq!(
            notifications::snapshot(db, &ana)
                .await
                .unwrap()
                .counts
                .unread,
            2,
            "Ana's untouched"
        );
        let c = notifications::mark_read(db, &hub, &ana, Target::Ids(vec![ids[0]]), true)
            .await
            .unwrap();
        assert_eq!(c.unread, 1);
        let c = notifications::mark_read(db, &hub, &ana, Target::Ids(vec![ids[0]]), false)
            .await
            .unwrap();
        assert_eq!(c.unread, 2);
        let c = notifications::mark_read(db, &hub, &ana, Target::All, true)
            .await
            .unwrap();
        assert_eq!(c.unread, 0);
        assert!(matches!(
            notifications::delete(db, &hub, &root, Target::Ids(ids.clone())).await,
            Err(AppError::NotFound { .. })
        ));
        assert_eq!(
            notifications::snapshot(db, &ana)
                .await
                .unwrap()
                .counts
                .total,
            2,
            "not root's to delete"
        );
        let c = notifications::delete(db, &hub, &ana, Target::Ids(vec![ids[1]]))
            .await
            .unwrap();
        assert_eq!(c.total, 1);

        // Expiry: gone from every view at once, then purged with an event carrying fresh counts.
        notifications::send(
            db,
            &hub,
            &root,
            &note(Audience::User { id: ana.user.id }, Kind::Reminder, Some(1)),
        )
        .await
        .unwrap();
        assert_eq!(
            notifications::snapshot(db, &ana)
                .await
                .unwrap()
                .counts
                .total,
            2
        );
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let snap = notifications::snapshot(db, &ana).await.unwrap();
        assert_eq!((snap.counts.total, snap.items.len()), (1, 1));
        assert_eq!(
            notifications::purge_expired(db, &hub, now_ms())
                .await
                .unwrap(),
            1
        );
        let head = log::head(db, Topic::Inbox(ana.user.id)).await.unwrap();
        let last = log::read(
            db,
            Topic::Inbox(ana.user.id),
            &head.epoch,
            head.head - 1,
            head.head,
            1,
        )
        .await
        .unwrap();
        assert_eq!(last[0].event, "notifications.expired");
        assert_eq!(last[0].data["counts"]["total"], 1);

        // Mentors have an hourly limit on sends (admins do not).
        let mut limited = None;
        for n in 0..notifications::MENTOR_SENDS_PER_HOUR + 1 {
            let mut one = note(Audience::MyStudents, Kind::Social, None);
            one.title = format!("Note {n}");
            // Sends in the same millisecond are one batch: keep them apart.
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            if let Err(e) = notifications::send(db, &hub, &maya, &one).await {
                limited = Some((n, e));
                break;
            }
        }
        let (n, e) = limited.expect("the limit is reached");
        assert!(
            n >= notifications::MENTOR_SENDS_PER_HOUR - 1,
            "limited after {n}"
        );
        assert!(
            matches!(e, AppError::RateLimited { retry_after_secs, .. } if retry_after_secs > 0),
            "{e:?}"
        );

        let mut reader = ana.clone();
        reader.scopes = Some(vec![ApiScope::NotificationsRead]);
        assert!(
            notifications::list(db, &reader, &NotificationFilter::default())
                .await
                .is_ok()
        );
        assert_eq!(
            notifications::delete(db, &hub, &reader, Target::All).await,
            Err(AppError::Forbidden),
            "a read token never deletes"
        );
        // A token acts within its scopes only.
        let mut token = root.clone();
        token.scopes = Some(vec![ApiScope::NotificationsWrite]);
        assert!(notifications::send(
            db,
            &hub,
            &token,
            &note(Audience::Everyone, Kind::System, None)
        )
        .await
        .is_ok());
        assert_eq!(
            notifications::snapshot(db, &token).await,
            Err(AppError::Forbidden)
        );
        assert_eq!(
            learning::analytics_of(db, &token, ana.user.id)
                .await
                .map(|_| ()),
            Err(AppError::Forbidden)
        );
    }
);

both_backends!(
    a_mentors_table_agrees_with_each_students_own_figures,
    |t: TestDb| async move {
        let db = &t.db;
        let hub = hub();
        let maya = user(db, "maya@example.com", "Maya", Role::Mentor, "UTC").await;
        let omar = user(db, "omar@example.com", "Omar", Role::Mentor, "UTC").await;
        let ana = user(db, "ana@example.com", "Ana", Role::Student, "UTC").await;
        // Far enough east that "today" and "this week" are not the server's UTC ones every hour.
        let ben = user(
            db,
            "ben@example.com",
            "Ben",
            Role::Student,
            "Pacific/Kiritimati",
        )
        .await;
        let cara = user(db, "cara@example.com", "Cara", Role::Student, "UTC").await;
        let dan = user(db, "dan@example.com", "Dan", Role::Student, "UTC").await;
        let eve = user(db, "eve@example.com", "Eve", Role::Student, "UTC").await;
        // Eleven hours behind UTC: with Ben's zone, one of the two is on another date than UTC at any hour.
        let fia = user(
            db,
            "fia@example.com",
            "Fia",
            Role::Student,
            "Pacific/Pago_Pago",
        )
        .await;
        for s in [&ana, &ben, &cara, &dan, &fia] {
            users::replace_mentors(db, s.user.id, &[maya.user.id], now_ms())
                .await
                .unwrap();
        }
        users::replace_mentors(db, eve.user.id, &[omar.user.id], now_ms())
            .await
            .unwrap();
        for (s, tz) in [(&ana, "UTC"), (&ben, "Pacific/Kiritimati")] {
            for (n, minutes) in [
                (0, 30),
                (1, 45),
                (2, 20),
                (9, 60),
                (10, 10),
                (11, 10),
                (12, 10),
                (40, 15),
            ] {
                learning::log_session(db, &hub, s, &session(days_ago(tz, n), minutes, "Rust"))
                    .await
                    .unwrap();
            }
        }
        learning::log_session(
            db,
            &hub,
            &ben,
            &session(days_ago("Pacific/Kiritimati", 0), 5, "Go"),
        )
        .await
        .unwrap();
        for n in [0, 1, 3] {
            learning::log_session(
                db,
                &hub,
                &fia,
                &session(days_ago("Pacific/Pago_Pago", n), 40, "Go"),
            )
            .await
            .unwrap();
        }
        learning::log_session(db, &hub, &dan, &session(days_ago("UTC", 0), 10, "Rust"))
            .await
            .unwrap();
        users::set_disabled(db, dan.user.id, Some(now_ms()))
            .await
            .unwrap();
        learning::log_session(db, &hub, &eve, &session(days_ago("UTC", 0), 10, "Rust"))
            .await
            .unwrap();

        let rows = learning::mentor_rows(db, &maya).await.unwrap();
        let ids: Vec<_> = rows.iter().map(|r| r.user_id).collect();
        assert_eq!(
            ids,
            [ana.user.id, ben.user.id, cara.user.id, fia.user.id],
            "the mentor's active students, by id: not a disabled one, not another mentor's"
        );
        for row in &rows {
            let (figures, position) = learning::analytics_of(db, &maya, row.user_id)
                .await
                .unwrap();
            assert_eq!(
                (row.this_week_minutes, row.current_streak, row.total_minutes),
                (
                    figures.this_week_minutes,
                    figures.current_streak,
                    figures.total_minutes
                ),
                "row of {}",
                row.display_name
            );
            assert_eq!(row.position, position, "row of {}", row.display_name);
            let newest = activity::list(
                db,
                &maya,
                &FeedFilter {
                    user_id: Some(row.user_id),
                    ..FeedFilter::default()
                },
            )
            .await
            .unwrap()
            .items
            .first()
            .map(|a| a.created_at);
            assert_eq!(row.last_activity_at, newest, "row of {}", row.display_name);
        }
        assert_eq!(rows[0].total_minutes, 200);
        assert_eq!(rows[1].total_minutes, 205);
        assert_eq!(
            rows[0].current_streak, 3,
            "the run ending today, not the longer one before"
        );
        let cara_row = &rows[2];
        assert_eq!(
            (
                cara_row.this_week_minutes,
                cara_row.current_streak,
                cara_row.total_minutes
            ),
            (0, 0, 0)
        );
        assert_eq!(cara_row.last_activity_at, None);
        assert_eq!(
            (rows[3].total_minutes, rows[3].current_streak),
            (120, 2),
            "today and yesterday where Fia lives"
        );
        assert_eq!(cara_row.position.offset, 0, "a stream made for the row");
        assert_eq!(
            log::head(db, Topic::User(cara.user.id))
                .await
                .unwrap()
                .epoch,
            cara_row.position.epoch,
            "the position names the stream that now exists"
        );

        assert_eq!(learning::mentor_rows(db, &omar).await.unwrap().len(), 1);
        for other in [&ana, &t_admin(db).await] {
            assert_eq!(
                learning::mentor_rows(db, other).await.map(|_| ()),
                Err(AppError::Forbidden)
            );
        }
    }
);

async fn t_admin(db: &Db) -> Caller {
    user(db, "root@example.com", "Root", Role::Admin, "UTC").await
}

both_backends!(
    a_mentor_with_more_students_than_one_query_binds_sees_them_all,
    |t: TestDb| async move {
        let db = &t.db;
        let hub = hub();
        let maya = user(db, "maya@example.com", "Maya", Role::Mentor, "UTC").await;
        let mut ids = Vec::new();
        for i in 0..501 {
            let s = user(
                db,
                &format!("s{i}@example.com"),
                &format!("S{i}"),
                Role::Student,
                "UTC",
            )
            .await;
            users::replace_mentors(db, s.user.id, &[maya.user.id], now_ms())
                .await
                .unwrap();
            // The first and the last of the class learned: each in another chunk of the IN lists.
            if i == 0 || i == 500 {
                learning::log_session(
                    db,
                    &hub,
                    &s,
                    &session(days_ago("UTC", 0), 25 + i as i64, "Rust"),
                )
                .await
                .unwrap();
            }
            ids.push(s.user.id);
        }
        let rows = learning::mentor_rows(db, &maya).await.unwrap();
        assert_eq!(rows.iter().map(|r| r.user_id).collect::<Vec<_>>(), ids);
        for (i, row) in rows.iter().enumerate() {
            let learned = i == 0 || i == 500;
            assert_eq!(
                (row.total_minutes, row.last_activity_at.is_some()),
                (if learned { 25 + i as i64 } else { 0 }, learned),
                "row {i}"
            );
        }
        let heads = log::heads(
            db,
            &ids.iter()
                .rev()
                .map(|id| Topic::User(*id))
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();
        for (row, head) in rows.iter().zip(heads.iter().rev()) {
            assert_eq!(
                (&row.position.epoch, row.position.offset),
                (&head.epoch, head.head)
            );
        }
    }
);

both_backends!(
    each_role_sees_only_the_people_it_works_with,
    |t: TestDb| async move {
        let db = &t.db;
        let maya = user(db, "maya@example.com", "Maya", Role::Mentor, "UTC").await;
        let ana = user(db, "ana@example.com", "Ana", Role::Student, "UTC").await;
        let ben = user(db, "ben@example.com", "Ben", Role::Student, "UTC").await;
        let root = user(db, "root@example.com", "Root", Role::Admin, "UTC").await;
        for s in [&ana, &ben] {
            users::replace_mentors(db, s.user.id, &[maya.user.id], now_ms())
                .await
                .unwrap();
        }
        users::set_disabled(db, ben.user.id, Some(now_ms()))
            .await
            .unwrap();
        let ids = |people: &[studyhall::model::PersonRef]| -> Vec<i64> {
            people.iter().map(|p| p.id).collect()
        };

        let of_ana = overview::for_caller(db, &ana).await.unwrap();
        assert_eq!(ids(&of_ana.mentors), [maya.user.id]);
        assert!(of_ana.students.is_empty() && of_ana.role_counts.is_empty());

        let of_maya = overview::for_caller(db, &maya).await.unwrap();
        assert_eq!(
            ids(&of_maya.students),
            [ana.user.id],
            "not the disabled Ben"
        );
        assert!(of_maya.mentors.is_empty() && of_maya.role_counts.is_empty());

        let of_root = overview::for_caller(db, &root).await.unwrap();
        assert!(of_root.mentors.is_empty() && of_root.students.is_empty());
        assert_eq!(
            of_root.role_counts,
            [(Role::Admin, 1), (Role::Mentor, 1), (Role::Student, 1)],
            "active users only (not the disabled Ben)"
        );
    }
);

both_backends!(skills_count_without_any_goal, |t: TestDb| async move {
    let db = &t.db;
    let hub = hub();
    let ana = user(db, "ana@example.com", "Ana", Role::Student, "UTC").await;
    let figures = |c: &Caller| {
        let c = c.clone();
        async move {
            let a = learning::analytics_of(db, &c, c.user.id).await.unwrap().0;
            (a.skills, a.goals_set, a.goals_completed)
        }
    };
    assert_eq!(figures(&ana).await, (0, 0, 0));
    for name in ["Rust", "SQL"] {
        learning::add_skill(db, &hub, &ana, name).await.unwrap();
    }
    // The skill count rides on the goals query: it must not need a goal row to be counted.
    assert_eq!(figures(&ana).await, (2, 0, 0));
    learning::set_goal(
        db,
        &hub,
        &ana,
        &GoalInput {
            title: "Ship it".into(),
            target_day: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(figures(&ana).await, (2, 1, 0));
});
