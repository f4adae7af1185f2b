//! The leaderboard's service on SQLite and PostgreSQL: the ranking rules, names per viewer, periods
//! cut in three zones, boards kept in step with changes and rebuilt alike, and who reads which board.

use std::sync::Arc;
use studyhall::accounts::service::Caller;
use studyhall::accounts::{cohorts, users};
use studyhall::both_backends;
use studyhall::leaderboard::service::{self as boards, points, Leaderboards};
use studyhall::leaderboard::{Period, Scope, Which, GOAL_BONUS, HIDDEN_NAME};
use studyhall::learning::analytics::{format_day, local_day};
use studyhall::learning::service as learning;
use studyhall::learning::{GoalInput, SessionInput};
use studyhall::model::{Millis, Role};
use studyhall::server::db::Db;
use studyhall::server::now_ms;
use studyhall::server::realtime::{Hub, HubSettings, InProcessBus};
use studyhall::testing::TestDb;
use studyhall::AppError;

fn hub() -> Hub {
    Hub::new(HubSettings::default(), Arc::new(InProcessBus::default()))
}

async fn person(db: &Db, name: &str, role: Role, cohort: Option<i64>) -> Caller {
    let email = format!("{}@example.com", name.to_lowercase());
    let user = users::insert(
        db,
        users::NewUser {
            email: &email,
            display_name: name,
            role,
            time_zone: "UTC",
            password_hash: "not-a-hash",
            cohort_id: cohort,
        },
        now_ms(),
    )
    .await
    .unwrap();
    studyhall::testing::caller(user)
}

/// Logs `minutes` for `who` as of `at` (the session's day is their local day then).
async fn log(db: &Db, hub: &Hub, who: &Caller, minutes: i64, at: Millis) -> i64 {
    let day = format_day(local_day(&who.user.time_zone, at));
    let input = SessionInput {
        day,
        minutes,
        topic: "Rust".into(),
        note: None,
    };
    learning::log_session_at(db, hub, who, &input, at)
        .await
        .unwrap()
        .id
}

async fn read(
    lb: &Leaderboards,
    db: &Db,
    viewer: &Caller,
    scope: Scope,
    period: Period,
    which: Which,
    now: Millis,
) -> Result<studyhall::leaderboard::Board, AppError> {
    lb.board(db, &viewer.user, scope, period, which, 0, 50, now)
        .await
}

both_backends!(
    ties_share_a_rank_the_next_skips_and_only_active_students_appear,
    |t: TestDb| async move {
        let (db, hub) = (&t.db, hub());
        let cohort = cohorts::insert(db, "A", 0).await.unwrap().id;
        let mut s = Vec::new();
        for name in ["Ana", "Ben", "Cy", "Dee", "Eve", "Fay"] {
            s.push(person(db, name, Role::Student, Some(cohort)).await);
        }
        let mentor = person(db, "Max", Role::Mentor, None).await;
        let admin = person(db, "Root", Role::Admin, None).await;
        users::replace_mentors(db, s[2].user.id, &[mentor.user.id], now_ms())
            .await
            .unwrap();
        let now = now_ms();
        for (who, minutes) in [(0, 50), (1, 80), (2, 50), (3, 20), (5, 100)] {
            log(db, &hub, &s[who], minutes, now - 1000).await;
        }
        // Fay is disabled: never on a board. Eve logged nothing.
        users::set_disabled(db, s[5].user.id, Some(now))
            .await
            .unwrap();
        // Cy hides her name from other students.
        sqlx_hide(db, s[2].user.id).await;
        let lb = Leaderboards::default();
        let board = read(
            &lb,
            db,
            &s[1],
            Scope::Global,
            Period::Week,
            Which::Current,
            now,
        )
        .await
        .unwrap();
        let ranks: Vec<(u32, Option<i64>, &str, i64)> = board
            .rows
            .iter()
            .map(|r| (r.rank, r.user_id, r.name.as_str(), r.points))
            .collect();
        assert_eq!(
            ranks,
            [
                (1, Some(s[1].user.id), "Ben", 80),
                (2, Some(s[0].user.id), "Ana", 50),
                (2, None, HIDDEN_NAME, 50),
                (4, Some(s[3].user.id), "Dee", 20),
            ],
            "1, 2, 2, 4; equals by account age; Cy hidden from Ben; no Eve, no Fay, no staff"
        );
        assert_eq!(board.ranked, 4);
        assert_eq!(board.me.as_ref().map(|m| (m.rank, m.me)), Some((1, true)));
        for viewer in [&s[2], &mentor, &admin] {
            let board = read(
                &lb,
                db,
                viewer,
                Scope::Global,
                Period::Week,
                Which::Current,
                now,
            )
            .await
            .unwrap();
            assert_eq!(
                board.rows[2].name, "Cy",
                "Cy is named to herself, her mentor and admins"
            );
        }
        // Around me: up to five above and below.
        let board = read(
            &lb,
            db,
            &s[3],
            Scope::Cohort(cohort),
            Period::AllTime,
            Which::Current,
            now,
        )
        .await
        .unwrap();
        assert_eq!(board.around_me.len(), 4);
        assert_eq!(board.me.as_ref().map(|m| m.rank), Some(4));
    }
);

async fn sqlx_hide(db: &Db, user: i64) {
    match db {
        Db::Sqlite(pool) => sqlx::query("UPDATE users SET leaderboard_hidden = 1 WHERE id = $1")
            .bind(user)
            .execute(pool)
            .await
            .map(|_| ()),
        Db::Postgres(pool) => {
            sqlx::query("UPDATE users SET leaderboard_hidden = TRUE WHERE id = $1")
                .bind(user)
                .execute(pool)
                .await
                .map(|_| ())
        }
    }
    .unwrap();
}

async fn set_school_zone(db: &Db, zone: &str) {
    match db {
        Db::Sqlite(pool) => sqlx::query("UPDATE school SET time_zone = $1")
            .bind(zone)
            .execute(pool)
            .await
            .map(|_| ()),
        Db::Postgres(pool) => sqlx::query("UPDATE school SET time_zone = $1")
            .bind(zone)
            .execute(pool)
            .await
            .map(|_| ()),
    }
    .unwrap();
}

fn at(rfc3339: &str) -> Millis {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis()
}

both_backends!(
    a_session_a_minute_either_side_of_the_boundary_counts_in_its_own_period,
    |t: TestDb| async move {
        let (db, hub) = (&t.db, hub());
        let ana = person(db, "Ana", Role::Student, None).await;
        // Monday 00:00 in each zone: UTC+14, UTC-11, and Berlin at the end of a week that was an
        // hour longer (clocks went back on Sunday 25 October 2026).
        let zones = [
            ("Pacific/Kiritimati", at("2026-12-06T10:00:00Z")),
            ("Pacific/Pago_Pago", at("2026-12-14T11:00:00Z")),
            ("Europe/Berlin", at("2026-10-25T23:00:00Z")),
        ];
        let minute = 60_000;
        for (i, (zone, boundary)) in zones.into_iter().enumerate() {
            set_school_zone(db, zone).await;
            let before = 10 + i as i64;
            let after = 100 + i as i64;
            log(db, &hub, &ana, before, boundary - minute).await;
            log(db, &hub, &ana, after, boundary + minute).await;
            let lb = Leaderboards::default();
            let now = boundary + 2 * minute;
            let current = read(
                &lb,
                db,
                &ana,
                Scope::Global,
                Period::Week,
                Which::Current,
                now,
            )
            .await
            .unwrap();
            assert_eq!(current.starts_at, Some(boundary), "{zone}");
            assert_eq!(
                current.rows[0].points, after,
                "{zone}: the new week has only the later one"
            );
            let last = read(
                &lb,
                db,
                &ana,
                Scope::Global,
                Period::Week,
                Which::Previous,
                now,
            )
            .await
            .unwrap();
            assert_eq!(last.ends_at, Some(boundary));
            assert_eq!(
                last.rows[0].points, before,
                "{zone}: last week has the earlier one"
            );
            // Someone who logged only before the boundary starts the new week with nothing.
            let ben = person(db, &format!("Ben{i}"), Role::Student, None).await;
            log(db, &hub, &ben, 500, boundary - 5 * minute).await;
            let fresh = Leaderboards::default();
            let board = read(
                &fresh,
                db,
                &ben,
                Scope::Global,
                Period::Week,
                Which::Current,
                now,
            )
            .await
            .unwrap();
            assert!(board.me.is_none(), "{zone}: a new week starts empty");
            let last = read(
                &fresh,
                db,
                &ben,
                Scope::Global,
                Period::Week,
                Which::Previous,
                now,
            )
            .await
            .unwrap();
            assert_eq!(last.me.map(|m| (m.rank, m.points)), Some((1, 500)));
        }
    }
);

both_backends!(
    a_board_kept_in_step_agrees_with_one_built_again_from_the_log,
    |t: TestDb| async move {
        let (db, hub) = (&t.db, hub());
        let cohort = cohorts::insert(db, "A", 0).await.unwrap().id;
        let mut students = Vec::new();
        for i in 0..12 {
            students.push(person(db, &format!("S{i}"), Role::Student, Some(cohort)).await);
        }
        let lb = Leaderboards::default();
        let now = now_ms();
        let viewer = &students[0];
        // The boards exist (viewed) before the changes, so each change has to move them.
        for period in studyhall::leaderboard::Period::ALL {
            read(&lb, db, viewer, Scope::Global, period, Which::Current, now)
                .await
                .unwrap();
            read(
                &lb,
                db,
                viewer,
                Scope::Cohort(cohort),
                period,
                Which::Current,
                now,
            )
            .await
            .unwrap();
        }
        let mut sessions: Vec<(usize, i64)> = Vec::new();
        let mut state = 7_u64;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        for step in 0..120 {
            let who = next(12) as usize;
            let caller = &students[who];
            match next(5) {
                0 | 1 => sessions.push((
                    who,
                    log(db, &hub, caller, next(90) as i64 + 1, now - 5000).await,
                )),
                2 if !sessions.is_empty() => {
                    let (owner, id) = sessions.remove(next(sessions.len() as u64) as usize);
                    learning::delete_session(db, &hub, &students[owner], id)
                        .await
                        .unwrap();
                    lb.refresh(db, students[owner].user.id).await.unwrap();
                    continue;
                }
                3 => {
                    let goal = learning::set_goal(
                        db,
                        &hub,
                        caller,
                        &GoalInput {
                            title: format!("G{step}"),
                            target_day: None,
                        },
                    )
                    .await
                    .unwrap();
                    learning::complete_goal(db, &hub, caller, goal.id, true)
                        .await
                        .unwrap();
                }
                _ => {
                    // A student leaves the cohort (off its board, still on the school's) and comes back.
                    users::set_cohort(db, caller.user.id, None).await.unwrap();
                    lb.refresh(db, caller.user.id).await.unwrap();
                    users::set_cohort(db, caller.user.id, Some(cohort))
                        .await
                        .unwrap();
                }
            }
            lb.refresh(db, caller.user.id).await.unwrap();
        }
        let rebuilt = Leaderboards::default();
        for scope in [Scope::Global, Scope::Cohort(cohort)] {
            for period in studyhall::leaderboard::Period::ALL {
                let kept = read(&lb, db, viewer, scope, period, Which::Current, now)
                    .await
                    .unwrap();
                let again = read(&rebuilt, db, viewer, scope, period, Which::Current, now)
                    .await
                    .unwrap();
                assert_eq!(kept.rows, again.rows, "{scope} {period:?}");
                assert_eq!(kept.ranked, again.ranked);
                // And both agree with the sums read straight from the log.
                let sums = points::of_scope(db, scope, (kept.starts_at, kept.ends_at))
                    .await
                    .unwrap();
                let total: i64 = sums.iter().map(|(_, p)| p).sum();
                assert_eq!(kept.rows.iter().map(|r| r.points).sum::<i64>(), total);
            }
        }
        assert!(
            rebuilt
                .board(
                    db,
                    &viewer.user,
                    Scope::Global,
                    Period::AllTime,
                    Which::Current,
                    0,
                    50,
                    now
                )
                .await
                .unwrap()
                .rows
                .iter()
                .any(|r| r.points >= GOAL_BONUS),
            "goals count"
        );
    }
);

both_backends!(
    a_cohort_board_is_for_its_students_their_mentors_and_admins,
    |t: TestDb| async move {
        let db = &t.db;
        let a = cohorts::insert(db, "A", 0).await.unwrap().id;
        let b = cohorts::insert(db, "B", 0).await.unwrap().id;
        let ana = person(db, "Ana", Role::Student, Some(a)).await;
        let bo = person(db, "Bo", Role::Student, Some(b)).await;
        let loner = person(db, "Lo", Role::Student, None).await;
        let max = person(db, "Max", Role::Mentor, None).await;
        let mia = person(db, "Mia", Role::Mentor, None).await;
        let root = person(db, "Root", Role::Admin, None).await;
        users::replace_mentors(db, ana.user.id, &[max.user.id], now_ms())
            .await
            .unwrap();
        let lb = Leaderboards::default();
        let now = now_ms();
        for (who, allowed) in [
            (&ana, true),
            (&bo, false),
            (&loner, false),
            (&max, true),
            (&mia, false),
            (&root, true),
        ] {
            let got = read(
                &lb,
                db,
                who,
                Scope::Cohort(a),
                Period::Week,
                Which::Current,
                now,
            )
            .await;
            match (allowed, got) {
                (true, Ok(board)) => assert_eq!(board.scope_name, "A"),
                (false, Err(AppError::NotFound { .. })) => {}
                (allowed, other) => panic!(
                    "{}: allowed {allowed}, got {other:?}",
                    who.user.display_name
                ),
            }
            // Everyone reads the school's.
            read(
                &lb,
                db,
                who,
                Scope::Global,
                Period::Week,
                Which::Current,
                now,
            )
            .await
            .unwrap();
        }
        // A cohort that does not exist is the same answer, for admins too.
        assert!(matches!(
            read(
                &lb,
                db,
                &root,
                Scope::Cohort(b + 100),
                Period::Week,
                Which::Current,
                now
            )
            .await,
            Err(AppError::NotFound { .. })
        ));
        assert!(matches!(
            lb.board(
                db,
                &root.user,
                Scope::Global,
                Period::Week,
                Which::Current,
                0,
                101,
                now
            )
            .await,
            Err(AppError::Validation { .. })
        ));
        let choices = boards::choices(db, &max.user).await.unwrap();
        let scopes: Vec<Scope> = choices.scopes.iter().map(|c| c.scope).collect();
        assert_eq!(scopes, [Scope::Global, Scope::Cohort(a)]);
    }
);
