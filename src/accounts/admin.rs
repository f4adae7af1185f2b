//! User administration. Every function checks that the actor is an admin before it reads or writes.
//! A change to who is in a cohort or who mentors whom also brings the chat rooms that follow from it
//! in step (the cohort's room, a student's direct room with each mentor), told to open pages live.

use crate::accounts::service::{create_user, Caller};
use crate::accounts::{cohorts, sessions, users};
use crate::accounts::{AdminUserRow, NewUserInput, UserFilter};
use crate::model::{Cohort, CohortId, Page, Role, User, UserId};
use crate::server::db::{internal, Db};
use crate::server::now_ms;
use crate::server::realtime::{Change, Hub};
use crate::validate;
use crate::with_db;
use crate::AppError;

fn require_admin(actor: &Caller) -> Result<(), AppError> {
    if actor.is(Role::Admin) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn not_self(actor: &Caller, target: UserId, what: &str) -> Result<(), AppError> {
    if actor.user.id == target {
        Err(AppError::Conflict {
            message: format!("You cannot {what} your own account."),
        })
    } else {
        Ok(())
    }
}

pub async fn list_users(
    db: &Db,
    actor: &Caller,
    filter: &UserFilter,
) -> Result<Page<AdminUserRow>, AppError> {
    require_admin(actor)?;
    users::list_for_admin(db, filter, now_ms()).await
}

/// The cohorts whose rooms `user` is or may be in: their own, and those of the students they mentor.
async fn cohorts_of(db: &Db, user: UserId) -> Result<Vec<CohortId>, AppError> {
    with_db!(db, pool => sqlx::query_scalar(
        "SELECT cohort_id FROM users WHERE id = $1 AND cohort_id IS NOT NULL \
         UNION SELECT u.cohort_id FROM mentor_assignments m JOIN users u ON u.id = m.student_id \
         WHERE m.mentor_id = $1 AND u.cohort_id IS NOT NULL")
        .bind(user).fetch_all(pool).await.map_err(internal))
}

/// Brings the rooms of `cohorts` in step, in one change.
async fn sync_rooms(db: &Db, hub: &Hub, cohorts: &[CohortId]) -> Result<(), AppError> {
    let mut change = Change::begin(db, hub).await?;
    for &cohort in cohorts {
        crate::chat::service::sync_cohort(&mut change, cohort).await?;
    }
    change.commit().await?;
    Ok(())
}

/// Runs `write`, then brings in step the rooms of every cohort `user` belonged to before or after it.
async fn keeping_rooms<T>(
    db: &Db,
    hub: &Hub,
    user: UserId,
    write: impl std::future::Future<Output = Result<T, AppError>>,
) -> Result<T, AppError> {
    let mut cohorts = cohorts_of(db, user).await?;
    let done = write.await?;
    cohorts.extend(cohorts_of(db, user).await?);
    cohorts.sort_unstable();
    cohorts.dedup();
    sync_rooms(db, hub, &cohorts).await?;
    Ok(done)
}

pub async fn create(
    db: &Db,
    hub: &Hub,
    actor: &Caller,
    input: &NewUserInput,
) -> Result<User, AppError> {
    require_admin(actor)?;
    let user = create_user(
        db,
        &input.email,
        &input.display_name,
        &input.password,
        &input.time_zone,
        input.role,
        input.cohort_id,
    )
    .await?;
    if let Some(cohort) = user.cohort_id {
        sync_rooms(db, hub, &[cohort]).await?;
    }
    tracing::info!(admin = actor.user.id, user = user.id, role = %user.role, "user created");
    Ok(user)
}

pub async fn set_role(
    db: &Db,
    hub: &Hub,
    actor: &Caller,
    target: UserId,
    role: Role,
) -> Result<(), AppError> {
    require_admin(actor)?;
    not_self(actor, target, "change the role of")?;
    users::get(db, target).await?;
    keeping_rooms(db, hub, target, async {
        users::set_role(db, target, role).await?;
        users::drop_assignments_for_role(db, target, role).await
    })
    .await?;
    tracing::info!(admin = actor.user.id, user = target, %role, "role changed");
    Ok(())
}

pub async fn set_cohort(
    db: &Db,
    hub: &Hub,
    actor: &Caller,
    target: UserId,
    cohort: Option<CohortId>,
) -> Result<(), AppError> {
    require_admin(actor)?;
    keeping_rooms(db, hub, target, users::set_cohort(db, target, cohort)).await
}

/// Replaces a student's mentors; every id must be an enabled mentor.
pub async fn set_mentors(
    db: &Db,
    hub: &Hub,
    actor: &Caller,
    student: UserId,
    mentors: &[UserId],
) -> Result<(), AppError> {
    require_admin(actor)?;
    let target = users::get(db, student).await?;
    if target.role != Role::Student {
        return Err(AppError::validation(
            "mentors",
            "Only students have mentors.",
        ));
    }
    let mut ids = mentors.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for id in &ids {
        match users::find(db, *id).await? {
            Some(u) if u.role == Role::Mentor && !u.disabled => {}
            _ => {
                return Err(AppError::validation(
                    "mentors",
                    "Choose mentors from the list.",
                ))
            }
        }
    }
    // The student's cohort room takes in the new mentors and lets go of the old ones (a mentor is in
    // a cohort's room while they mentor a student of it); each mentor and the student get their
    // direct room.
    keeping_rooms(
        db,
        hub,
        student,
        users::replace_mentors(db, student, &ids, now_ms()),
    )
    .await?;
    let mut change = Change::begin(db, hub).await?;
    for &mentor in &ids {
        crate::chat::service::ensure_direct(&mut change, student, mentor).await?;
    }
    change.commit().await?;
    Ok(())
}

/// Disabling also ends every session of the user at once.
pub async fn set_disabled(
    db: &Db,
    hub: &Hub,
    actor: &Caller,
    target: UserId,
    disabled: bool,
) -> Result<(), AppError> {
    require_admin(actor)?;
    if disabled {
        not_self(actor, target, "disable")?;
    }
    let now = now_ms();
    keeping_rooms(
        db,
        hub,
        target,
        users::set_disabled(db, target, disabled.then_some(now)),
    )
    .await?;
    if disabled {
        sessions::revoke_all(db, target, None, now).await?;
    }
    tracing::info!(
        admin = actor.user.id,
        user = target,
        disabled,
        "user access changed"
    );
    Ok(())
}

pub async fn revoke_sessions(db: &Db, actor: &Caller, target: UserId) -> Result<u64, AppError> {
    require_admin(actor)?;
    users::get(db, target).await?;
    let except = (actor.user.id == target).then_some(actor.session_id.as_str());
    let n = sessions::revoke_all(db, target, except, now_ms()).await?;
    tracing::info!(
        admin = actor.user.id,
        user = target,
        revoked = n,
        "sessions revoked"
    );
    Ok(n)
}

pub async fn create_cohort(db: &Db, actor: &Caller, name: &str) -> Result<Cohort, AppError> {
    require_admin(actor)?;
    let name = validate::cohort_name(name).map_err(|f| AppError::Validation { fields: vec![f] })?;
    cohorts::insert(db, &name, now_ms()).await
}

pub async fn list_cohorts(db: &Db, actor: &Caller) -> Result<Vec<Cohort>, AppError> {
    require_admin(actor)?;
    cohorts::list(db).await
}

pub async fn list_mentors(db: &Db, actor: &Caller) -> Result<Vec<User>, AppError> {
    require_admin(actor)?;
    users::list_by_role(db, Role::Mentor).await
}
