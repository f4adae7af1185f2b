//! Logging, editing and deleting a student's learning sessions.

use super::*;

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

#[derive(sqlx::FromRow)]
pub(super) struct SessionRow {
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

pub(super) const SESSION_COLUMNS: &str =
    "id, user_id, day, minutes, topic, note, created_at, updated_at";

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
