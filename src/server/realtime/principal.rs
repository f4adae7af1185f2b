//! Loads the facts the access rules need about a user.

use crate::access::Principal;
use crate::model::User;
use crate::server::db::{internal, Db};
use crate::{with_db, AppError};

/// Students, their cohorts, the user's own cohort and the chat rooms they are a member of.
pub async fn load(db: &Db, user: &User) -> Result<Principal, AppError> {
    let (students, cohorts, rooms) = with_db!(db, pool => {
        let students = sqlx::query_scalar::<_, i64>(
            "SELECT student_id FROM mentor_assignments WHERE mentor_id = $1")
            .bind(user.id).fetch_all(pool).await.map_err(internal)?;
        let cohorts = sqlx::query_scalar::<_, i64>(
            "SELECT DISTINCT u.cohort_id FROM mentor_assignments m JOIN users u ON u.id = m.student_id \
             WHERE m.mentor_id = $1 AND u.cohort_id IS NOT NULL")
            .bind(user.id).fetch_all(pool).await.map_err(internal)?;
        let rooms = sqlx::query_scalar::<_, i64>(
            "SELECT room_id FROM chat_members WHERE user_id = $1")
            .bind(user.id).fetch_all(pool).await.map_err(internal)?;
        (students, cohorts, rooms)
    });
    Ok(Principal {
        user_id: user.id,
        role: (!user.disabled).then_some(user.role),
        cohort_id: user.cohort_id,
        students,
        mentored_cohorts: cohorts,
        rooms,
    })
}
