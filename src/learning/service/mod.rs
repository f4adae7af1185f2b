//! A student's learning log: sessions, goals and skills. Each change is written with everything it
//! causes in one transaction (the feed entry, the new figures on the student's stream, milestone
//! notifications, mentors told about completed goals), then published.

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

/// A session's day: a real date, not in the future (in the student's zone) and not absurdly old.
fn session_day(raw: &str, user: &User, now: Millis) -> Result<String, FieldError> {
    let today = local_day(&user.time_zone, now);
    match parse_day(raw.trim()) {
        None => Err(FieldError::new("day", "Enter a date as YYYY-MM-DD.")),
        Some(d) if d > today => Err(FieldError::new("day", "That date is in the future.")),
        Some(d) if d < today - Duration::days(3650) => Err(FieldError::new(
            "day",
            "That date is more than ten years ago.",
        )),
        Some(d) => Ok(format_day(d)),
    }
}

fn validate_session(
    input: &SessionInput,
    user: &User,
    now: Millis,
) -> Result<SessionInput, AppError> {
    let day = session_day(&input.day, user, now);
    let minutes = if (1..=model::MINUTES_MAX).contains(&input.minutes) {
        Ok(input.minutes)
    } else {
        Err(FieldError::new(
            "minutes",
            "Enter between 1 minute and 24 hours.",
        ))
    };
    let topic = crate::validate::text("topic", &input.topic, model::TOPIC_MAX);
    let note = crate::validate::optional_text("note", input.note.as_deref(), model::NOTE_MAX);
    crate::validate::collect([
        day.as_ref().err().cloned(),
        minutes.as_ref().err().cloned(),
        topic.as_ref().err().cloned(),
        note.as_ref().err().cloned(),
    ])?;
    Ok(SessionInput {
        day: day.unwrap(),
        minutes: minutes.unwrap(),
        topic: topic.unwrap(),
        note: note.unwrap(),
    })
}

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

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: i64,
    user_id: i64,
    day: String,
    minutes: i64,
    topic: String,
    note: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl From<SessionRow> for LearningSession {
    fn from(r: SessionRow) -> Self {
        LearningSession {
            id: r.id,
            user_id: r.user_id,
            day: r.day,
            minutes: r.minutes,
            topic: r.topic,
            note: r.note,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const SESSION_COLUMNS: &str = "id, user_id, day, minutes, topic, note, created_at, updated_at";

pub async fn log_session(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    input: &SessionInput,
) -> Result<LearningSession, AppError> {
    log_session_once(db, hub, caller, input, None).await
}

/// Logs a session at most once per idempotency key: a repeat of `key` answers the first request's
/// session (see [`crate::server::idempotency`]). The same holds for [`set_goal_once`] and [`add_skill_once`].
pub async fn log_session_once(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    input: &SessionInput,
    key: Option<&str>,
) -> Result<LearningSession, AppError> {
    let key = Key::parse(key)?;
    create_session(
        db,
        hub,
        caller,
        input,
        key.as_ref(),
        crate::server::now_ms(),
    )
    .await
}

pub async fn log_session_at(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    input: &SessionInput,
    now: Millis,
) -> Result<LearningSession, AppError> {
    create_session(db, hub, caller, input, None, now).await
}

async fn create_session(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    input: &SessionInput,
    key: Option<&Key>,
    now: Millis,
) -> Result<LearningSession, AppError> {
    let user = student(caller)?;
    let input = validate_session(input, user, now)?;
    let mut change = Change::begin_at(db, hub, now).await?;
    change.lock(Topic::User(user.id)).await?;
    let ticket =
        match idempotency::claim(change.tx(), user.id, "learning.session", key, now).await? {
            Claim::Done(session) => return Ok(session),
            Claim::New(ticket) => ticket,
        };
    let sql = format!(
        "INSERT INTO learning_sessions (user_id, day, minutes, topic, note, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {SESSION_COLUMNS}"
    );
    let session: LearningSession = with_tx!(change.tx(), c => sqlx::query_as::<_, SessionRow>(&sql)
        .bind(user.id).bind(&input.day).bind(input.minutes).bind(&input.topic).bind(&input.note).bind(now)
        .fetch_one(&mut *c).await.map_err(internal)?)
    .into();
    idempotency::finish(change.tx(), ticket, &session).await?;
    activity::record(
        &mut change,
        user,
        Record {
            kind: kinds::SESSION_LOGGED,
            subject: Some(format!("session:{}", session.id)),
            title: format!(
                "{} logged {} of {}",
                user.display_name,
                model::format_minutes(session.minutes),
                session.topic
            ),
            details: session.note.clone(),
        },
    )
    .await?;
    finish(
        change,
        user,
        LearningChange::SessionSaved {
            session: session.clone(),
        },
    )
    .await?;
    Ok(session)
}

pub async fn update_session(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    id: i64,
    input: &SessionInput,
) -> Result<LearningSession, AppError> {
    let user = student(caller)?;
    let now = crate::server::now_ms();
    let input = validate_session(input, user, now)?;
    let mut change = Change::begin_at(db, hub, now).await?;
    change.lock(Topic::User(user.id)).await?;
    let sql = format!(
        "UPDATE learning_sessions SET day = $3, minutes = $4, topic = $5, note = $6, updated_at = $7 \
         WHERE id = $1 AND user_id = $2 RETURNING {SESSION_COLUMNS}"
    );
    let session: LearningSession = with_tx!(change.tx(), c => sqlx::query_as::<_, SessionRow>(&sql)
        .bind(id).bind(user.id).bind(&input.day).bind(input.minutes).bind(&input.topic)
        .bind(&input.note).bind(now)
        .fetch_optional(&mut *c).await.map_err(internal)?)
    .ok_or_else(|| AppError::not_found("That session"))?
    .into();
    finish(
        change,
        user,
        LearningChange::SessionSaved {
            session: session.clone(),
        },
    )
    .await?;
    Ok(session)
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

pub async fn delete_session(db: &Db, hub: &Hub, caller: &Caller, id: i64) -> Result<(), AppError> {
    let user = student(caller)?;
    delete_owned(
        db,
        hub,
        user,
        "DELETE FROM learning_sessions WHERE id = $1 AND user_id = $2",
        id,
        "That session",
        LearningChange::SessionDeleted { id },
    )
    .await
}

#[derive(sqlx::FromRow)]
struct GoalRow {
    id: i64,
    user_id: i64,
    title: String,
    target_day: Option<String>,
    completed_at: Option<i64>,
    created_at: i64,
}

impl From<GoalRow> for Goal {
    fn from(r: GoalRow) -> Self {
        Goal {
            id: r.id,
            user_id: r.user_id,
            title: r.title,
            target_day: r.target_day,
            completed_at: r.completed_at,
            created_at: r.created_at,
        }
    }
}

const GOAL_COLUMNS: &str = "id, user_id, title, target_day, completed_at, created_at";

pub async fn set_goal(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    input: &GoalInput,
) -> Result<Goal, AppError> {
    set_goal_once(db, hub, caller, input, None).await
}

pub async fn set_goal_once(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    input: &GoalInput,
    key: Option<&str>,
) -> Result<Goal, AppError> {
    let key = Key::parse(key)?;
    create_goal(
        db,
        hub,
        caller,
        input,
        key.as_ref(),
        crate::server::now_ms(),
    )
    .await
}

/// How far a goal's target day may be from today (in the student's zone), either way.
pub const GOAL_TARGET_YEARS: u32 = 10;

/// A goal's target day, if any: a real date within [`GOAL_TARGET_YEARS`] of today, so neither
/// `0000-01-01` nor `+10000-01-01` (which chrono parses and formats back) is stored.
fn goal_target(raw: Option<&str>, user: &User, now: Millis) -> Result<Option<String>, FieldError> {
    let today = local_day(&user.time_zone, now);
    let span = chrono::Months::new(12 * GOAL_TARGET_YEARS);
    let (earliest, latest) = (today - span, today + span);
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(raw) => match parse_day(raw) {
            None => Err(FieldError::new("target_day", "Enter a date as YYYY-MM-DD.")),
            Some(d) if d > latest => Err(FieldError::new(
                "target_day",
                format!("Choose a date within {GOAL_TARGET_YEARS} years from today."),
            )),
            Some(d) if d < earliest => Err(FieldError::new(
                "target_day",
                format!("That date is more than {GOAL_TARGET_YEARS} years ago."),
            )),
            Some(d) => Ok(Some(format_day(d))),
        },
    }
}

fn validate_goal(
    input: &GoalInput,
    user: &User,
    now: Millis,
) -> Result<(String, Option<String>), AppError> {
    let title = crate::validate::text("title", &input.title, model::GOAL_TITLE_MAX);
    let target = goal_target(input.target_day.as_deref(), user, now);
    crate::validate::collect([
        title.as_ref().err().cloned(),
        target.as_ref().err().cloned(),
    ])?;
    Ok((title.unwrap(), target.unwrap()))
}

/// Changes a goal's title and target date (completion has its own call).
pub async fn update_goal(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    id: i64,
    input: &GoalInput,
) -> Result<Goal, AppError> {
    let user = student(caller)?;
    let now = crate::server::now_ms();
    let (title, target) = validate_goal(input, user, now)?;
    let mut change = Change::begin_at(db, hub, now).await?;
    change.lock(Topic::User(user.id)).await?;
    let sql = format!(
        "UPDATE goals SET title = $3, target_day = $4 WHERE id = $1 AND user_id = $2 RETURNING {GOAL_COLUMNS}"
    );
    let goal: Goal = with_tx!(change.tx(), c => sqlx::query_as::<_, GoalRow>(&sql)
        .bind(id).bind(user.id).bind(&title).bind(&target)
        .fetch_optional(&mut *c).await.map_err(internal)?)
    .ok_or_else(|| AppError::not_found("That goal"))?
    .into();
    finish(
        change,
        user,
        LearningChange::GoalSaved { goal: goal.clone() },
    )
    .await?;
    Ok(goal)
}

pub async fn set_goal_at(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    input: &GoalInput,
    now: Millis,
) -> Result<Goal, AppError> {
    create_goal(db, hub, caller, input, None, now).await
}

async fn create_goal(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    input: &GoalInput,
    key: Option<&Key>,
    now: Millis,
) -> Result<Goal, AppError> {
    let user = student(caller)?;
    let (title, target) = validate_goal(input, user, now)?;
    let mut change = Change::begin_at(db, hub, now).await?;
    change.lock(Topic::User(user.id)).await?;
    let ticket = match idempotency::claim(change.tx(), user.id, "learning.goal", key, now).await? {
        Claim::Done(goal) => return Ok(goal),
        Claim::New(ticket) => ticket,
    };
    let sql = format!(
        "INSERT INTO goals (user_id, title, target_day, created_at) VALUES ($1, $2, $3, $4) RETURNING {GOAL_COLUMNS}"
    );
    let goal: Goal = with_tx!(change.tx(), c => sqlx::query_as::<_, GoalRow>(&sql)
        .bind(user.id).bind(&title).bind(&target).bind(now)
        .fetch_one(&mut *c).await.map_err(internal)?)
    .into();
    idempotency::finish(change.tx(), ticket, &goal).await?;
    activity::record(
        &mut change,
        user,
        Record {
            kind: kinds::GOAL_SET,
            subject: Some(format!("goal:{}", goal.id)),
            title: format!("{} set a goal: {}", user.display_name, goal.title),
            details: goal.target_day.as_ref().map(|d| format!("Target: {d}")),
        },
    )
    .await?;
    finish(
        change,
        user,
        LearningChange::GoalSaved { goal: goal.clone() },
    )
    .await?;
    Ok(goal)
}

/// Marks a goal completed (or open again). Completing records an activity and tells the student's
/// mentors, once per goal.
pub async fn complete_goal(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    id: i64,
    completed: bool,
) -> Result<Goal, AppError> {
    complete_goal_at(db, hub, caller, id, completed, crate::server::now_ms()).await
}

pub async fn complete_goal_at(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    id: i64,
    completed: bool,
    now: Millis,
) -> Result<Goal, AppError> {
    let user = student(caller)?;
    let mentors = users::mentors_of(db, user.id).await?;
    let mut change = Change::begin_at(db, hub, now).await?;
    change.lock(Topic::User(user.id)).await?;
    let sql = format!(
        "UPDATE goals SET completed_at = CASE WHEN $3 THEN COALESCE(completed_at, $4) ELSE NULL END \
         WHERE id = $1 AND user_id = $2 RETURNING {GOAL_COLUMNS}"
    );
    let goal: Goal = with_tx!(change.tx(), c => sqlx::query_as::<_, GoalRow>(&sql)
        .bind(id).bind(user.id).bind(completed).bind(now)
        .fetch_optional(&mut *c).await.map_err(internal)?)
    .ok_or_else(|| AppError::not_found("That goal"))?
    .into();
    if completed && goal.completed_at == Some(now) {
        activity::record(
            &mut change,
            user,
            Record {
                kind: kinds::GOAL_COMPLETED,
                subject: Some(format!("goal:{}", goal.id)),
                title: format!("{} completed a goal: {}", user.display_name, goal.title),
                details: None,
            },
        )
        .await?;
        let item = Item {
            kind: Kind::Social,
            priority: Priority::Normal,
            title: format!("{} completed a goal", user.display_name),
            message: goal.title.clone(),
            link: Some(format!("/activity?student={}", user.id)),
            expires_at: None,
            sender_id: Some(user.id),
            dedupe_key: Some(format!("goal-completed:{}", goal.id)),
        };
        for mentor in &mentors {
            notifications::deliver(&mut change, *mentor, &item).await?;
        }
    }
    finish(
        change,
        user,
        LearningChange::GoalSaved { goal: goal.clone() },
    )
    .await?;
    Ok(goal)
}

pub async fn delete_goal(db: &Db, hub: &Hub, caller: &Caller, id: i64) -> Result<(), AppError> {
    let user = student(caller)?;
    delete_owned(
        db,
        hub,
        user,
        "DELETE FROM goals WHERE id = $1 AND user_id = $2",
        id,
        "That goal",
        LearningChange::GoalDeleted { id },
    )
    .await
}

pub async fn add_skill(db: &Db, hub: &Hub, caller: &Caller, name: &str) -> Result<Skill, AppError> {
    add_skill_once(db, hub, caller, name, None).await
}

pub async fn add_skill_once(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    name: &str,
    key: Option<&str>,
) -> Result<Skill, AppError> {
    let key = Key::parse(key)?;
    create_skill(db, hub, caller, name, key.as_ref(), crate::server::now_ms()).await
}

pub async fn add_skill_at(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    name: &str,
    now: Millis,
) -> Result<Skill, AppError> {
    create_skill(db, hub, caller, name, None, now).await
}

async fn create_skill(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    name: &str,
    key: Option<&Key>,
    now: Millis,
) -> Result<Skill, AppError> {
    let user = student(caller)?;
    let name = crate::validate::text("name", name, model::SKILL_NAME_MAX)
        .map_err(|e| AppError::Validation { fields: vec![e] })?;
    let mut change = Change::begin_at(db, hub, now).await?;
    change.lock(Topic::User(user.id)).await?;
    let ticket = match idempotency::claim(change.tx(), user.id, "learning.skill", key, now).await? {
        Claim::Done(skill) => return Ok(skill),
        Claim::New(ticket) => ticket,
    };
    let (id, created_at): (i64, i64) = with_tx!(change.tx(), c => sqlx::query_as(
        "INSERT INTO skills (user_id, name, created_at) VALUES ($1, $2, $3) RETURNING id, created_at")
        .bind(user.id).bind(&name).bind(now)
        .fetch_one(&mut *c).await
        .map_err(|e| unique_or_internal(e, Unique::SkillName, "name", "You have already added that skill."))?);
    let skill = Skill {
        id,
        user_id: user.id,
        name,
        created_at,
    };
    idempotency::finish(change.tx(), ticket, &skill).await?;
    activity::record(
        &mut change,
        user,
        Record {
            kind: kinds::SKILL_ADDED,
            subject: Some(format!("skill:{}", skill.id)),
            title: format!("{} added a skill: {}", user.display_name, skill.name),
            details: None,
        },
    )
    .await?;
    finish(
        change,
        user,
        LearningChange::SkillAdded {
            skill: skill.clone(),
        },
    )
    .await?;
    Ok(skill)
}

pub async fn delete_skill(db: &Db, hub: &Hub, caller: &Caller, id: i64) -> Result<(), AppError> {
    let user = student(caller)?;
    delete_owned(
        db,
        hub,
        user,
        "DELETE FROM skills WHERE id = $1 AND user_id = $2",
        id,
        "That skill",
        LearningChange::SkillDeleted { id },
    )
    .await
}

fn position(head: &log::Head) -> Position {
    Position {
        epoch: head.epoch.clone(),
        offset: head.head,
    }
}

/// The caller's own learning page. The stream's head is read first, so anything after it arrives live.
pub async fn snapshot(db: &Db, caller: &Caller) -> Result<LearningSnapshot, AppError> {
    let user = student(caller)?;
    let head = log::head(db, Topic::User(user.id)).await?;
    let now = crate::server::now_ms();
    let first = session_rows(db, user.id, None, SESSIONS_PAGE).await?;
    let goal_sql = format!(
        "SELECT {GOAL_COLUMNS} FROM goals WHERE user_id = $1 ORDER BY completed_at IS NOT NULL, id DESC"
    );
    let (goals, skills) = with_db!(db, pool => {
        let goals = sqlx::query_as::<_, GoalRow>(&goal_sql).bind(user.id)
            .fetch_all(pool).await.map_err(internal)?;
        let skills: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT id, name, created_at FROM skills WHERE user_id = $1 ORDER BY lower(name)")
            .bind(user.id).fetch_all(pool).await.map_err(internal)?;
        (goals, skills)
    });
    Ok(LearningSnapshot {
        sessions: first.items,
        more_sessions: first.next,
        goals: goals.into_iter().map(Into::into).collect(),
        skills: skills
            .into_iter()
            .map(|(id, name, created_at)| Skill {
                id,
                user_id: user.id,
                name,
                created_at,
            })
            .collect(),
        analytics: analytics::for_user(db, user.id, &user.time_zone, now).await?,
        position: position(&head),
    })
}

/// The caller's sessions after `before` (from the newest without it), `limit` at a time (default
/// [`SESSIONS_PAGE`], at most [`SESSIONS_PAGE_MAX`]). Keyset paging, so a session logged meanwhile
/// neither repeats nor hides a row.
pub async fn sessions_page(
    db: &Db,
    caller: &Caller,
    before: Option<&SessionCursor>,
    limit: Option<i64>,
) -> Result<SessionPage, AppError> {
    let user = student(caller)?;
    let limit = limit.unwrap_or(SESSIONS_PAGE);
    if !(1..=SESSIONS_PAGE_MAX).contains(&limit) {
        return Err(AppError::validation(
            "limit",
            &format!("Ask for 1 to {SESSIONS_PAGE_MAX} sessions at a time."),
        ));
    }
    let before = match before {
        None => None,
        Some(c) => Some(SessionCursor {
            day: parse_day(c.day.trim())
                .map(format_day)
                .ok_or_else(|| AppError::validation("before_day", "Enter a date as YYYY-MM-DD."))?,
            id: c.id,
        }),
    };
    session_rows(db, user.id, before.as_ref(), limit).await
}

/// One page of a user's sessions, newest day first; one row more than asked says whether more follow.
async fn session_rows(
    db: &Db,
    user_id: UserId,
    before: Option<&SessionCursor>,
    limit: i64,
) -> Result<SessionPage, AppError> {
    let after = if before.is_some() {
        "AND (day < $3 OR (day = $3 AND id < $4))"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM learning_sessions WHERE user_id = $1 {after} \
         ORDER BY day DESC, id DESC LIMIT $2"
    );
    let rows = with_db!(db, pool => {
        let q = sqlx::query_as::<_, SessionRow>(&sql).bind(user_id).bind(limit + 1);
        let q = match before {
            Some(c) => q.bind(&c.day).bind(c.id),
            None => q,
        };
        q.fetch_all(pool).await.map_err(internal)?
    });
    let mut items: Vec<LearningSession> = rows.into_iter().map(Into::into).collect();
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next = more.then(|| items.last()).flatten().map(|s| SessionCursor {
        day: s.day.clone(),
        id: s.id,
    });
    Ok(SessionPage { items, next })
}

/// A student's figures with the position of their stream, for anyone who may see them: the student,
/// their mentors, admins, and admin tokens with `analytics:read`. Only students have figures (only they
/// log sessions): a mentor's or an admin's id is "no such student", 404, for whoever may ask.
pub async fn analytics_of(
    db: &Db,
    caller: &Caller,
    student_id: UserId,
) -> Result<(Analytics, Position), AppError> {
    caller.require_scope(crate::accounts::ApiScope::AnalyticsRead)?;
    if !activity::may_see(db, &caller.user, student_id).await? {
        return Err(AppError::Forbidden);
    }
    // A student's own dashboard asks for this on every page: the caller's record is already loaded.
    let found;
    let student = if student_id == caller.user.id {
        &caller.user
    } else {
        found = users::find(db, student_id)
            .await?
            .ok_or_else(|| AppError::not_found("That user"))?;
        &found
    };
    if student.role != Role::Student {
        return Err(AppError::not_found("That student"));
    }
    let head = log::head(db, Topic::User(student.id)).await?;
    let figures =
        analytics::for_user(db, student.id, &student.time_zone, crate::server::now_ms()).await?;
    Ok((figures, position(&head)))
}

/// A mentor's table: each of their active students with this week's hours, streak and last activity.
/// Four queries however many students there are (more past 500, and one per student whose stream does
/// not exist yet); each row's position is read before its figures, so anything they miss arrives live.
pub async fn mentor_rows(db: &Db, caller: &Caller) -> Result<Vec<StudentRow>, AppError> {
    if caller.scopes.is_some() || !caller.is(Role::Mentor) {
        return Err(AppError::Forbidden);
    }
    let now = crate::server::now_ms();
    let students = users::active_students_of(db, caller.user.id).await?;
    let ids: Vec<UserId> = students.iter().map(|s| s.id).collect();
    let topics: Vec<Topic> = ids.iter().map(|id| Topic::User(*id)).collect();
    let heads = log::heads(db, &topics).await?;
    let mut per_day = analytics::per_day_of(db, &ids).await?;
    let last_activity = activity::last_activity_of(db, &ids).await?;
    Ok(students
        .into_iter()
        .zip(heads)
        .map(|(student, head)| {
            let today = local_day(&student.time_zone, now);
            let days = per_day.remove(&student.id).unwrap_or_default();
            let figures = analytics::row_figures(&days, today);
            StudentRow {
                user_id: student.id,
                this_week_minutes: figures.this_week_minutes,
                current_streak: figures.current_streak,
                total_minutes: figures.total_minutes,
                last_activity_at: last_activity.get(&student.id).copied(),
                position: position(&head),
                display_name: student.display_name,
            }
        })
        .collect())
}

#[cfg(test)]
mod goal_target_tests {
    use super::*;

    #[test]
    fn a_target_day_is_a_real_date_within_ten_years_of_the_students_today() {
        let user = User {
            id: 1,
            email: "ana@example.com".into(),
            display_name: "Ana".into(),
            role: Role::Student,
            time_zone: "Pacific/Kiritimati".into(),
            cohort_id: None,
            created_at: 0,
            last_seen_at: None,
            disabled: false,
        };
        // 2026-12-01 12:00 UTC is already 2 December in Kiritimati (UTC+14).
        let now = 1_796_126_400_000;
        let target = |raw: Option<&str>| goal_target(raw, &user, now).map_err(|e| e.field);
        assert_eq!(target(None), Ok(None));
        assert_eq!(target(Some("  ")), Ok(None));
        assert_eq!(target(Some(" 2027-03-01 ")), Ok(Some("2027-03-01".into())));
        assert_eq!(target(Some("2036-12-02")), Ok(Some("2036-12-02".into())));
        assert_eq!(target(Some("2016-12-02")), Ok(Some("2016-12-02".into())));
        for bad in [
            "+10000-01-01",
            "0000-01-01",
            "9999-12-31",
            "2036-12-03",
            "2016-12-01",
            "2027-02-30",
            "27-03-01",
        ] {
            assert_eq!(target(Some(bad)), Err("target_day".into()), "{bad}");
        }
    }
}
