//! A student's goals: set, edit, complete or reopen, delete; a goal's target day within reason.

use super::*;

#[derive(sqlx::FromRow)]
pub(super) struct GoalRow {
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

pub(super) const GOAL_COLUMNS: &str = "id, user_id, title, target_day, completed_at, created_at";

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
