//! A period's points, summed from the learning log (sessions by when they were logged, completed goals
//! by when they were completed) for the active students of a scope. Never stored: a board is rebuilt
//! from these sums and a student's row is re-read from them after every change, so neither can drift
//! from the log. Exams will add their results here, as one more branch of the sum.

use crate::leaderboard::{Scope, GOAL_BONUS, POINTS_PER_MINUTE};
use crate::model::{Millis, UserId};
use crate::server::db::{internal, Db};
use crate::{with_db, AppError};

/// `[start, end)`; all-time is everything.
pub type Span = (Option<Millis>, Option<Millis>);

fn limits(span: Span) -> (Millis, Millis) {
    (span.0.unwrap_or(Millis::MIN), span.1.unwrap_or(Millis::MAX))
}

/// Every active student of `scope` with points in `span`, and their points.
pub async fn of_scope(db: &Db, scope: Scope, span: Span) -> Result<Vec<(UserId, i64)>, AppError> {
    let (start, end) = limits(span);
    let (cohort_filter, cohort) = match scope {
        Scope::Global => ("", 0),
        Scope::Cohort(id) => ("AND u.cohort_id = $5", id),
    };
    let sql = format!(
        "SELECT x.user_id, CAST(SUM(x.p) AS BIGINT) FROM ( \
           SELECT user_id, minutes * $3 AS p FROM learning_sessions WHERE created_at >= $1 AND created_at < $2 \
           UNION ALL \
           SELECT user_id, $4 AS p FROM goals WHERE completed_at >= $1 AND completed_at < $2 \
         ) x JOIN users u ON u.id = x.user_id \
         WHERE u.role = 'student' AND u.disabled_at IS NULL {cohort_filter} \
         GROUP BY x.user_id"
    );
    with_db!(db, pool => {
        let mut query = sqlx::query_as::<_, (i64, i64)>(&sql)
            .bind(start).bind(end).bind(POINTS_PER_MINUTE).bind(GOAL_BONUS);
        if cohort != 0 {
            query = query.bind(cohort);
        }
        query.fetch_all(pool).await
    })
    .map_err(internal)
}

/// One student's points in `span` (whether or not they may be ranked).
pub async fn of_user(db: &Db, user: UserId, span: Span) -> Result<i64, AppError> {
    let (start, end) = limits(span);
    let sql = "SELECT CAST(COALESCE(SUM(x.p), 0) AS BIGINT) FROM ( \
           SELECT minutes * $4 AS p FROM learning_sessions WHERE user_id = $1 AND created_at >= $2 AND created_at < $3 \
           UNION ALL \
           SELECT $5 AS p FROM goals WHERE user_id = $1 AND completed_at >= $2 AND completed_at < $3 \
         ) x";
    with_db!(db, pool => sqlx::query_scalar::<_, i64>(sql)
        .bind(user).bind(start).bind(end).bind(POINTS_PER_MINUTE).bind(GOAL_BONUS)
        .fetch_one(pool).await)
    .map_err(internal)
}
