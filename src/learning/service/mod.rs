//! A student's learning log: sessions, goals and skills. Each change is written with everything it
//! causes in one transaction (the feed entry, the new figures on the student's stream, milestone
//! notifications, mentors told about completed goals), then published. This file holds what the
//! parts share (the student check, the change's common end, the owned-row delete); the writes are in
//! `sessions`, `goals` and `skills`, the reads in `reads`.

use crate::accounts::service::Caller;
use crate::accounts::users;
use crate::events::DurableEvent;
use crate::feed::kinds;
use crate::feed::service::{self as activity, Record};
use crate::learning::analytics::{self, format_day, local_day, parse_day};
use crate::learning::{
    self as model, Analytics, Goal, GoalInput, LearningChange, LearningChanged, LearningSession,
    LearningSnapshot, SessionCursor, SessionInput, SessionPage, Skill, StudentRow,
};
use crate::model::{Millis, Role, User, UserId};
use crate::notifications::service::{self as notifications, Item};
use crate::notifications::{Kind, Priority};
use crate::protocol::{Position, Topic};
use crate::server::db::{internal, unique_or_internal, Db, Unique};
use crate::server::idempotency::{self, Claim, Key};
use crate::server::realtime::{log, Change, Hub};
use crate::{with_db, with_tx, AppError, FieldError};
use chrono::Duration;

pub use crate::learning::milestones::{milestones, HOUR_MILESTONES, STREAK_MILESTONES};
/// How many sessions the learning page lists at first, and per "Show more".
pub const SESSIONS_PAGE: i64 = 20;
/// The largest page a client may ask for.
pub const SESSIONS_PAGE_MAX: i64 = 100;

fn student(caller: &Caller) -> Result<&User, AppError> {
    if caller.scopes.is_none() && caller.is(Role::Student) {
        Ok(&caller.user)
    } else {
        Err(AppError::Forbidden)
    }
}

mod goals;
mod reads;
mod sessions;
mod skills;

pub use goals::{
    complete_goal, complete_goal_at, delete_goal, set_goal, set_goal_at, set_goal_once,
    update_goal, GOAL_TARGET_YEARS,
};
pub use reads::{analytics_of, mentor_rows, sessions_page, snapshot};
pub use sessions::{delete_session, log_session, log_session_at, log_session_once, update_session};
pub use skills::{add_skill, add_skill_at, add_skill_once, delete_skill};

/// Ends a change to the student's log: emits their new figures with the change, delivers any
/// milestone it reached, then commits and publishes everything the change emitted.
async fn finish(
    mut change: Change<'_>,
    user: &User,
    what: LearningChange,
) -> Result<Analytics, AppError> {
    let now = change.now();
    let figures = analytics::compute(&mut change.conn(), user.id, &user.time_zone, now).await?;
    let event = DurableEvent::LearningChanged(LearningChanged {
        change: what,
        analytics: figures.clone(),
    });
    change.emit(Topic::User(user.id), &event).await?;
    crate::learning::milestones::deliver(&mut change, user.id, &figures).await?;
    change.commit().await?;
    Ok(figures)
}

/// Runs a delete of one of the caller's rows and publishes the change; 404 if it is not theirs.
async fn delete_owned(
    db: &Db,
    hub: &Hub,
    user: &User,
    sql: &str,
    id: i64,
    what: &str,
    done: LearningChange,
) -> Result<(), AppError> {
    let mut change = Change::begin(db, hub).await?;
    change.lock(Topic::User(user.id)).await?;
    let deleted = with_tx!(change.tx(), c => sqlx::query(sql).bind(id).bind(user.id)
        .execute(&mut *c).await.map_err(internal)?.rows_affected());
    if deleted == 0 {
        return Err(AppError::not_found(what));
    }
    finish(change, user, done).await?;
    Ok(())
}
