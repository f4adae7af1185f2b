//! Reading the learning log: the student's own snapshot and session pages, a student's figures for
//! whoever may see them, and a mentor's rows of their students.

use super::goals::{GoalRow, GOAL_COLUMNS};
use super::sessions::{SessionRow, SESSION_COLUMNS};
use super::*;

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
