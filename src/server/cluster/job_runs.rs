//! The record of background job runs: per job and node, how many runs and when the last one was.
//! With several nodes it shows which node ran each job (only the lease holder should).

use crate::model::Millis;
use crate::server::db::{internal, Db};
use crate::{with_db, AppError};

/// Rows of nodes that have not run a job for this long are dropped (nodes get a new id per start).
const KEEP_MS: Millis = 7 * 24 * 3600 * 1000;

/// Counts one run of `job` by `node` at `now`.
pub async fn record(db: &Db, job: &str, node: &str, now: Millis) -> Result<(), AppError> {
    with_db!(db, pool => sqlx::query(
        "INSERT INTO job_runs (job, node, runs, last_run_at) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (job, node) DO UPDATE SET runs = job_runs.runs + 1, last_run_at = excluded.last_run_at")
        .bind(job).bind(node).bind(now)
        .execute(pool).await.map(|_| ()).map_err(internal))
}

/// Every row: job, node, runs, last run.
pub async fn list(db: &Db) -> Result<Vec<(String, String, i64, Millis)>, AppError> {
    with_db!(db, pool => sqlx::query_as(
        "SELECT job, node, runs, last_run_at FROM job_runs ORDER BY job, node")
        .fetch_all(pool).await.map_err(internal))
}

/// Drops rows of nodes idle for a week.
pub async fn purge(db: &Db, now: Millis) -> Result<u64, AppError> {
    with_db!(db, pool => sqlx::query("DELETE FROM job_runs WHERE last_run_at < $1")
        .bind(now - KEEP_MS)
        .execute(pool).await.map(|r| r.rows_affected()).map_err(internal))
}
