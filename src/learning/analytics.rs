//! A student's figures (hours, streaks, counts, weekly and monthly totals), computed from the log with
//! indexed queries every time, so they can never drift from it; and the admin's system-wide figures.

use crate::accounts::service::Caller;
use crate::learning::{Analytics, PeriodTotal, SystemFigures};
use crate::model::{Millis, Role, UserId};
use crate::protocol::{KpiModule, Position, Topic};
use crate::server::db::{fetch_in, internal, Conn, Db};
use crate::server::realtime::log;
use crate::{with_conn, with_db, AppError};
use chrono::{Datelike, Duration, NaiveDate};
use std::collections::HashMap;

pub const WEEKS: usize = 12;
pub const MONTHS: usize = 12;
const DAY_FORMAT: &str = "%Y-%m-%d";

/// The local date at `now` in the IANA zone `tz` (UTC if the zone is unknown).
pub fn local_day(tz: &str, now: Millis) -> NaiveDate {
    let utc = chrono::DateTime::from_timestamp_millis(now).unwrap_or_default();
    match tz.parse::<chrono_tz::Tz>() {
        Ok(zone) => utc.with_timezone(&zone).date_naive(),
        Err(_) => utc.date_naive(),
    }
}

pub fn parse_day(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw, DAY_FORMAT)
        .ok()
        .filter(|d| d.format(DAY_FORMAT).to_string() == raw)
}

pub fn format_day(day: NaiveDate) -> String {
    day.format(DAY_FORMAT).to_string()
}

/// (current, longest) streak over the sorted, distinct days with a session. The current streak ends
/// today, or yesterday (today is not over yet), and is 0 otherwise.
pub fn streaks(days: &[NaiveDate], today: NaiveDate) -> (i64, i64) {
    let mut longest = 0;
    let mut run = 0;
    let mut prev: Option<NaiveDate> = None;
    for &day in days {
        run = match prev {
            Some(p) if day == p + Duration::days(1) => run + 1,
            Some(p) if day == p => run,
            _ => 1,
        };
        longest = longest.max(run);
        prev = Some(day);
    }
    let current = match prev {
        Some(last) if last == today || last == today - Duration::days(1) => run,
        _ => 0,
    };
    (current, longest)
}

pub fn week_start(day: NaiveDate) -> NaiveDate {
    day - Duration::days(day.weekday().num_days_from_monday() as i64)
}

fn month_start(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

fn months_before(month: NaiveDate, n: u32) -> NaiveDate {
    let index = month.year() * 12 + month.month0() as i32 - n as i32;
    NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1)
        .unwrap_or(month)
}

/// Weekly (Monday-based) and monthly totals ending with the period containing `today`, oldest first.
pub fn period_totals(
    per_day: &[(NaiveDate, i64)],
    today: NaiveDate,
) -> (Vec<PeriodTotal>, Vec<PeriodTotal>) {
    let this_week = week_start(today);
    let mut weekly: Vec<PeriodTotal> = (0..WEEKS)
        .rev()
        .map(|i| {
            let start = this_week - Duration::weeks(i as i64);
            PeriodTotal {
                start: format_day(start),
                label: start.format("%b %-d").to_string(),
                minutes: 0,
            }
        })
        .collect();
    let this_month = month_start(today);
    let mut monthly: Vec<PeriodTotal> = (0..MONTHS)
        .rev()
        .map(|i| {
            let start = months_before(this_month, i as u32);
            PeriodTotal {
                start: format_day(start),
                label: start.format("%b %Y").to_string(),
                minutes: 0,
            }
        })
        .collect();
    let first_week = this_week - Duration::weeks(WEEKS as i64 - 1);
    let first_month = months_before(this_month, MONTHS as u32 - 1);
    for &(day, minutes) in per_day {
        if day > today {
            continue;
        }
        if day >= first_week {
            let i = (week_start(day) - first_week).num_weeks() as usize;
            weekly[i].minutes += minutes;
        }
        if day >= first_month {
            let i = ((day.year() - first_month.year()) * 12 + day.month0() as i32
                - first_month.month0() as i32) as usize;
            monthly[i].minutes += minutes;
        }
    }
    (weekly, monthly)
}

/// Computes a student's figures on `conn` (inside a writer's transaction, so an event can carry the
/// figures its change produced, or on a pooled connection for a read).
pub async fn compute(
    conn: &mut Conn<'_>,
    user_id: UserId,
    time_zone: &str,
    now: Millis,
) -> Result<Analytics, AppError> {
    let today = local_day(time_zone, now);
    // (day, minutes, sessions) per day; (set, completed) goals; skills.
    type Counts = (Vec<(String, i64, i64)>, (i64, i64), i64);
    let (rows, goals, skills): Counts = with_conn!(conn, c => {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT day, CAST(SUM(minutes) AS BIGINT), COUNT(*) FROM learning_sessions \
             WHERE user_id = $1 GROUP BY day ORDER BY day")
            .bind(user_id).fetch_all(&mut *c).await.map_err(internal)?;
        let (set, completed, skills): (i64, i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(completed_at), (SELECT COUNT(*) FROM skills WHERE user_id = $1) \
             FROM goals WHERE user_id = $1")
            .bind(user_id).fetch_one(&mut *c).await.map_err(internal)?;
        (rows, (set, completed), skills)
    });
    let per_day: Vec<(NaiveDate, i64)> = rows
        .iter()
        .filter_map(|(day, minutes, _)| parse_day(day).map(|d| (d, *minutes)))
        .collect();
    let days: Vec<NaiveDate> = per_day.iter().map(|(d, _)| *d).collect();
    let (current_streak, longest_streak) = streaks(&days, today);
    let (weekly, monthly) = period_totals(&per_day, today);
    Ok(Analytics {
        user_id,
        total_minutes: rows.iter().map(|r| r.1).sum(),
        current_streak,
        longest_streak,
        sessions: rows.iter().map(|r| r.2).sum(),
        goals_set: goals.0,
        goals_completed: goals.1,
        skills,
        this_week_minutes: weekly.last().map(|w| w.minutes).unwrap_or(0),
        weekly,
        monthly,
        last_session_day: rows.last().map(|r| r.0.clone()),
        computed_at: now,
        today: format_day(today),
    })
}

/// What a mentor's table shows of one student; the same as those fields of [`compute`]'s figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowFigures {
    pub this_week_minutes: i64,
    pub current_streak: i64,
    pub total_minutes: i64,
}

/// A student's [`RowFigures`] from their minutes per day, sorted by day.
pub fn row_figures(per_day: &[(NaiveDate, i64)], today: NaiveDate) -> RowFigures {
    let this_week = week_start(today);
    let days: Vec<NaiveDate> = per_day.iter().map(|(d, _)| *d).collect();
    RowFigures {
        this_week_minutes: per_day
            .iter()
            .filter(|(d, _)| (this_week..=today).contains(d))
            .map(|(_, m)| m)
            .sum(),
        current_streak: streaks(&days, today).0,
        total_minutes: per_day.iter().map(|(_, m)| m).sum(),
    }
}

/// Minutes per day, sorted by day, of each of `students` who logged any: one query per 500 students
/// ([`fetch_in`]), where [`compute`] would make two each.
pub async fn per_day_of(
    db: &Db,
    students: &[UserId],
) -> Result<HashMap<UserId, Vec<(NaiveDate, i64)>>, AppError> {
    let rows: Vec<(UserId, String, i64)> = fetch_in(db, students, |list| {
        format!(
            "SELECT user_id, day, CAST(SUM(minutes) AS BIGINT) FROM learning_sessions \
             WHERE user_id IN ({list}) GROUP BY user_id, day ORDER BY user_id, day"
        )
    })
    .await?;
    let mut per_student: HashMap<UserId, Vec<(NaiveDate, i64)>> = HashMap::new();
    for (user, day, minutes) in rows {
        if let Some(day) = parse_day(&day) {
            per_student.entry(user).or_default().push((day, minutes));
        }
    }
    Ok(per_student)
}

/// Reads a student's figures on a pooled connection.
pub async fn for_user(
    db: &Db,
    user_id: UserId,
    time_zone: &str,
    now: Millis,
) -> Result<Analytics, AppError> {
    let mut pooled = db.acquire().await?;
    compute(&mut pooled.conn(), user_id, time_zone, now).await
}

/// The admin dashboard's snapshot of `kpi:system`: the figures and the position they are current to
/// (read first, so anything later arrives as an event). Admins signed in only: an API token is
/// refused (no scope covers it).
pub async fn system_snapshot(
    db: &Db,
    caller: &Caller,
    users_online: i64,
) -> Result<(SystemFigures, Position), AppError> {
    if caller.scopes.is_some() || !caller.is(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let head = log::head(db, Topic::Kpi(KpiModule::System)).await?;
    let figures = system_figures(db, users_online, crate::server::now_ms()).await?;
    let position = Position {
        epoch: head.epoch,
        offset: head.head,
    };
    Ok((figures, position))
}

/// System-wide figures for the admin dashboard. "Today" is the UTC day.
pub async fn system_figures(
    db: &Db,
    users_online: i64,
    now: Millis,
) -> Result<SystemFigures, AppError> {
    let today = format_day(local_day("UTC", now));
    let day_start = now - now.rem_euclid(24 * 3600 * 1000);
    let week_ago = format_day(local_day("UTC", now) - Duration::days(6));
    let (sessions, minutes, notifications, active) = with_db!(db, pool => {
        let (sessions, minutes): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), CAST(SUM(minutes) AS BIGINT) FROM learning_sessions WHERE created_at >= $1")
            .bind(day_start).fetch_one(pool).await.map_err(internal)?;
        let notifications: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE created_at >= $1")
            .bind(day_start).fetch_one(pool).await.map_err(internal)?;
        let active: i64 = sqlx::query_scalar(
            "SELECT COUNT(DISTINCT user_id) FROM learning_sessions WHERE day >= $1 AND day <= $2")
            .bind(&week_ago).bind(&today).fetch_one(pool).await.map_err(internal)?;
        (sessions, minutes, notifications, active)
    });
    Ok(SystemFigures {
        users_online,
        sessions_logged_today: sessions,
        minutes_logged_today: minutes.unwrap_or(0),
        notifications_sent_today: notifications,
        active_students_this_week: active,
        computed_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_day(s).unwrap()
    }

    #[test]
    fn streaks_count_consecutive_days_ending_today_or_yesterday() {
        let days = [
            d("2026-02-27"),
            d("2026-02-28"),
            d("2026-03-01"),
            d("2026-03-05"),
            d("2026-03-06"),
        ];
        assert_eq!(streaks(&days, d("2026-03-06")), (2, 3));
        assert_eq!(
            streaks(&days, d("2026-03-07")),
            (2, 3),
            "yesterday still counts"
        );
        assert_eq!(
            streaks(&days, d("2026-03-08")),
            (0, 3),
            "a missed day ends it"
        );
        assert_eq!(streaks(&[], d("2026-03-08")), (0, 0));
    }

    #[test]
    fn days_are_local_to_the_students_time_zone() {
        // 2026-03-01 23:30 UTC is already March 2nd in Tokyo and still March 1st in Los Angeles.
        let now = chrono::NaiveDateTime::parse_from_str("2026-03-01 23:30", "%Y-%m-%d %H:%M")
            .unwrap()
            .and_utc()
            .timestamp_millis();
        assert_eq!(local_day("Asia/Tokyo", now), d("2026-03-02"));
        assert_eq!(local_day("America/Los_Angeles", now), d("2026-03-01"));
        assert_eq!(local_day("UTC", now), d("2026-03-01"));
    }

    #[test]
    fn period_totals_bucket_by_monday_weeks_and_calendar_months() {
        let today = d("2026-03-04"); // a Wednesday
        let per_day = [
            (d("2026-03-02"), 30), // this week (Monday)
            (d("2026-03-01"), 45), // last week (Sunday), but this month? no: March 1st is this month
            (d("2026-02-15"), 60),
            (d("2025-03-31"), 10), // 12th month back: excluded (window starts April 2025)
            (d("2026-03-05"), 99), // the future: ignored
        ];
        let (weekly, monthly) = period_totals(&per_day, today);
        assert_eq!(weekly.len(), WEEKS);
        assert_eq!(weekly.last().unwrap().start, "2026-03-02");
        assert_eq!(weekly.last().unwrap().minutes, 30);
        assert_eq!(weekly[WEEKS - 2].minutes, 45);
        assert_eq!(monthly.len(), MONTHS);
        assert_eq!(monthly.first().unwrap().start, "2025-04-01");
        assert_eq!(monthly.last().unwrap().minutes, 75);
        assert_eq!(monthly[MONTHS - 2].minutes, 60);
        assert_eq!(monthly.iter().map(|m| m.minutes).sum::<i64>(), 135);
    }

    #[test]
    fn row_figures_agree_with_the_full_figures() {
        let today = d("2026-03-04"); // a Wednesday
        let per_day = [
            (d("2025-01-10"), 15),
            (d("2026-02-27"), 20), // last week
            (d("2026-03-01"), 45), // Sunday: last week, this month
            (d("2026-03-02"), 30), // Monday: this week
            (d("2026-03-03"), 10),
            (d("2026-03-04"), 5),
        ];
        let (weekly, _) = period_totals(&per_day, today);
        let days: Vec<NaiveDate> = per_day.iter().map(|(d, _)| *d).collect();
        let row = row_figures(&per_day, today);
        assert_eq!(row.this_week_minutes, weekly.last().unwrap().minutes);
        assert_eq!(row.this_week_minutes, 45);
        assert_eq!(row.current_streak, streaks(&days, today).0);
        assert_eq!(row.current_streak, 4);
        assert_eq!(row.total_minutes, 125);
        assert_eq!(row_figures(&[], today), RowFigures::default());
    }

    #[test]
    fn days_parse_strictly() {
        assert!(parse_day("2026-02-29").is_none());
        assert!(parse_day("2026-3-1").is_none());
        assert!(parse_day("2026-03-01").is_some());
    }
}
