//! Milestone notifications: 3-, 7- and 30-day streaks and 10, 50 and 100 hours, each delivered once per
//! achievement, in the transaction of the change that reached it.
//!
//! An hours milestone is once ever (`hours:{n}`). A streak milestone is once per streak, and a streak is
//! a run of days that can grow at either end: logging an earlier day moves its first day back, deleting
//! or editing a day can move it forward. Keying it by the first day alone (as it once was) sent
//! "3-day streak!" again for every earlier day a student backfilled. So an award remembers the run it
//! was given for, `streak:{n}:{first}:{last}`, and a run that overlaps an awarded one is the same
//! streak: nothing is sent and the award's extent grows to cover the run.

use crate::learning::analytics::{format_day, parse_day};
use crate::learning::Analytics;
use crate::model::UserId;
use crate::notifications::service::{self as notifications, Item};
use crate::notifications::{Kind, Priority};
use crate::server::db::{internal, Tx};
use crate::server::realtime::Change;
use crate::{with_tx, AppError};
use chrono::{Duration, NaiveDate};

/// Streak lengths (days) and total hours that earn a notification.
pub const STREAK_MILESTONES: [i64; 3] = [3, 7, 30];
pub const HOUR_MILESTONES: [i64; 3] = [10, 50, 100];

/// The current streak as (first day, last day), if there is one.
fn current_run(figures: &Analytics) -> Option<(NaiveDate, NaiveDate)> {
    let last = figures.last_session_day.as_deref().and_then(parse_day)?;
    (figures.current_streak > 0).then(|| (last - Duration::days(figures.current_streak - 1), last))
}

fn streak_item(days: i64, (first, last): (NaiveDate, NaiveDate)) -> Item {
    notifications::rule(
        Kind::Achievement,
        if days >= 30 {
            Priority::High
        } else {
            Priority::Normal
        },
        format!("{days}-day streak!"),
        format!("You have learned {days} days in a row. Keep it going."),
        "/learning",
        format!("streak:{days}:{}:{}", format_day(first), format_day(last)),
    )
}

/// The milestone notifications the figures earn, with their keys (a streak's key names the run as it
/// is now; [`deliver`] decides whether it is a streak already awarded).
pub fn milestones(figures: &Analytics) -> Vec<Item> {
    let mut items = Vec::new();
    if let Some(run) = current_run(figures) {
        for days in STREAK_MILESTONES
            .into_iter()
            .filter(|d| figures.current_streak >= *d)
        {
            items.push(streak_item(days, run));
        }
    }
    for hours in HOUR_MILESTONES
        .into_iter()
        .filter(|h| figures.total_minutes >= h * 60)
    {
        items.push(notifications::rule(
            Kind::Milestone,
            if hours >= 100 {
                Priority::High
            } else {
                Priority::Normal
            },
            format!("{hours} hours of learning"),
            format!("You have logged {hours} hours in total."),
            "/",
            format!("hours:{hours}"),
        ));
    }
    items
}

/// The run a stored streak key names: `streak:{n}:{first}:{last}`, or the older `streak:{n}:{first}`
/// (whose run was at least `n` days long).
fn awarded_run(key: &str, days: i64) -> Option<(NaiveDate, NaiveDate)> {
    let rest = key.strip_prefix(&format!("streak:{days}:"))?;
    let mut parts = rest.split(':');
    let first = parse_day(parts.next()?)?;
    let last = match parts.next() {
        Some(l) => parse_day(l)?,
        None => first + Duration::days(days - 1),
    };
    Some((first, last))
}

/// Whether a streak of `days` was already awarded for a run overlapping `run`; if so its stored run
/// grows to cover `run`, so later edits at either end still find it.
async fn already_awarded(
    tx: &mut Tx,
    user: UserId,
    days: i64,
    run: (NaiveDate, NaiveDate),
) -> Result<bool, AppError> {
    let keys: Vec<String> = with_tx!(&mut *tx, c => sqlx::query_scalar(
        "SELECT key FROM notification_keys WHERE user_id = $1 AND key LIKE $2")
        .bind(user).bind(format!("streak:{days}:%"))
        .fetch_all(&mut *c).await.map_err(internal)?);
    let found = keys.into_iter().find_map(|k| {
        awarded_run(&k, days)
            .filter(|(first, last)| *first <= run.1 && run.0 <= *last)
            .map(|r| (k, r))
    });
    let Some((key, (first, last))) = found else {
        return Ok(false);
    };
    let union = (first.min(run.0), last.max(run.1));
    if union != (first, last) {
        let Some(grown) = streak_item(days, union).dedupe_key else {
            return Ok(true);
        };
        with_tx!(&mut *tx, c => sqlx::query(
            "UPDATE notification_keys SET key = $3 WHERE user_id = $1 AND key = $2")
            .bind(user).bind(&key).bind(&grown)
            .execute(&mut *c).await.map_err(internal)?.rows_affected());
    }
    Ok(true)
}

/// Delivers the milestones `figures` earn that were not awarded before, in `change`.
pub async fn deliver(
    change: &mut Change<'_>,
    user: UserId,
    figures: &Analytics,
) -> Result<(), AppError> {
    let run = current_run(figures);
    for item in milestones(figures) {
        let streak_days = item
            .dedupe_key
            .as_deref()
            .and_then(|k| k.strip_prefix("streak:"))
            .and_then(|k| k.split(':').next())
            .and_then(|d| d.parse::<i64>().ok());
        if let (Some(days), Some(run)) = (streak_days, run) {
            if already_awarded(change.tx(), user, days, run).await? {
                continue;
            }
        }
        notifications::deliver(change, user, &item).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_day(s).unwrap()
    }

    #[test]
    fn stored_keys_name_their_runs_old_and_new() {
        assert_eq!(
            awarded_run("streak:3:2026-03-01:2026-03-09", 3),
            Some((d("2026-03-01"), d("2026-03-09")))
        );
        // The older key named only the first day; its run was at least three days.
        assert_eq!(
            awarded_run("streak:3:2026-03-01", 3),
            Some((d("2026-03-01"), d("2026-03-03")))
        );
        assert_eq!(awarded_run("streak:30:2026-03-01", 3), None);
        assert_eq!(awarded_run("hours:10", 3), None);
    }
}
