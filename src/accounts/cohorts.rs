//! Cohorts: named groups of students (and their mentors).

use crate::model::{Cohort, Millis};
use crate::server::db::{internal, unique_or_internal, Db, Unique};
use crate::{with_db, AppError};

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    created_at: i64,
}

impl From<Row> for Cohort {
    fn from(r: Row) -> Self {
        Cohort {
            id: r.id,
            name: r.name,
            created_at: r.created_at,
        }
    }
}

/// `name` must already be validated.
pub async fn insert(db: &Db, name: &str, now: Millis) -> Result<Cohort, AppError> {
    with_db!(db, pool => sqlx::query_as::<_, Row>(
        "INSERT INTO cohorts (name, created_at) VALUES ($1, $2) RETURNING id, name, created_at")
        .bind(name).bind(now).fetch_one(pool).await)
    .map(Cohort::from)
    .map_err(|e| {
        unique_or_internal(
            e,
            Unique::CohortName,
            "name",
            "A cohort with this name already exists.",
        )
    })
}

pub async fn list(db: &Db) -> Result<Vec<Cohort>, AppError> {
    with_db!(db, pool => sqlx::query_as::<_, Row>("SELECT id, name, created_at FROM cohorts ORDER BY name")
        .fetch_all(pool).await)
    .map(|rows| rows.into_iter().map(Cohort::from).collect())
    .map_err(internal)
}

/// Cohorts a mentor has at least one student in (the cohorts they may address).
pub async fn mentored_by(db: &Db, mentor: i64) -> Result<Vec<Cohort>, AppError> {
    with_db!(db, pool => sqlx::query_as::<_, Row>(
        "SELECT DISTINCT c.id, c.name, c.created_at FROM cohorts c JOIN users u ON u.cohort_id = c.id \
         JOIN mentor_assignments m ON m.student_id = u.id WHERE m.mentor_id = $1 ORDER BY c.name")
        .bind(mentor).fetch_all(pool).await)
    .map(|rows| rows.into_iter().map(Cohort::from).collect())
    .map_err(internal)
}
