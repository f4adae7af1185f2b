//! The signed-in home page's data: the caller's cohort, mentors or students, and (for admins) totals.

use crate::accounts::service::Caller;
use crate::accounts::AccountOverview;
use crate::model::{PersonRef, Role};
use crate::server::db::{internal, Db};
use crate::{with_db, AppError};

#[derive(sqlx::FromRow)]
struct PersonRow {
    id: i64,
    display_name: String,
    email: String,
    last_seen_at: Option<i64>,
}

impl From<PersonRow> for PersonRef {
    fn from(r: PersonRow) -> Self {
        PersonRef {
            id: r.id,
            display_name: r.display_name,
            email: r.email,
            last_seen_at: r.last_seen_at,
        }
    }
}

/// Only ever about the caller: there is no way to ask for someone else's overview.
pub async fn for_caller(db: &Db, caller: &Caller) -> Result<AccountOverview, AppError> {
    let user = &caller.user;
    let people = |sql: &'static str| async move {
        with_db!(db, pool => sqlx::query_as::<_, PersonRow>(sql).bind(user.id).fetch_all(pool).await)
            .map(|rows| rows.into_iter().map(PersonRef::from).collect::<Vec<_>>())
            .map_err(internal)
    };
    // Only students have mentors and only mentors students (a change of role drops the assignments
    // that no longer fit), so each role asks for at most one of the two lists.
    let mentors = if user.role == Role::Student {
        people(
            "SELECT u.id, u.display_name, u.email, u.last_seen_at FROM mentor_assignments m \
             JOIN users u ON u.id = m.mentor_id WHERE m.student_id = $1 ORDER BY u.display_name",
        )
        .await?
    } else {
        Vec::new()
    };
    let students = if user.role == Role::Mentor {
        people(
            "SELECT u.id, u.display_name, u.email, u.last_seen_at FROM mentor_assignments m \
             JOIN users u ON u.id = m.student_id WHERE m.mentor_id = $1 AND u.disabled_at IS NULL \
             ORDER BY u.display_name",
        )
        .await?
    } else {
        Vec::new()
    };
    let cohort_name = match user.cohort_id {
        None => None,
        Some(id) => with_db!(db, pool => sqlx::query_scalar::<_, String>("SELECT name FROM cohorts WHERE id = $1")
            .bind(id).fetch_optional(pool).await)
        .map_err(internal)?,
    };
    let role_counts = if user.role == Role::Admin {
        let rows: Vec<(String, i64)> = with_db!(db, pool => sqlx::query_as(
            "SELECT role, COUNT(*) FROM users WHERE disabled_at IS NULL GROUP BY role")
            .fetch_all(pool).await)
        .map_err(internal)?;
        Role::ALL
            .iter()
            .map(|r| {
                (
                    *r,
                    rows.iter()
                        .find(|(name, _)| name == r.as_str())
                        .map_or(0, |(_, n)| *n),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(AccountOverview {
        user: user.clone(),
        cohort_name,
        mentors,
        students,
        role_counts,
    })
}
