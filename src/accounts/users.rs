//! The users table: rows, lookups and updates. Authorization lives in the services that call these.

use crate::accounts::{AdminUserRow, UserFilter};
use crate::model::{CohortId, Millis, Page, Role, User, UserId};
use crate::server::db::{internal, placeholders, unique_or_internal, Db, Unique, IN_LIST_CHUNK};
use crate::server::dialect::ParamType;
use crate::{with_db, AppError};

pub const EMAIL_TAKEN: &str = "An account with this email already exists.";
pub const ADMIN_PAGE_SIZE: i64 = 25;

const USER_COLUMNS: &str = "u.id, u.email, u.display_name, u.role, u.time_zone, u.cohort_id, \
     u.created_at, u.last_seen_at, u.disabled_at";
/// The same columns unqualified, for `RETURNING` (SQLite allows no table alias there).
const RETURNED_USER_COLUMNS: &str =
    "id, email, display_name, role, time_zone, cohort_id, created_at, last_seen_at, disabled_at";

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    display_name: String,
    role: String,
    time_zone: String,
    cohort_id: Option<i64>,
    created_at: i64,
    last_seen_at: Option<i64>,
    disabled_at: Option<i64>,
}

impl UserRow {
    fn into_user(self) -> Result<User, AppError> {
        let role = Role::parse(&self.role).ok_or_else(|| {
            AppError::internal(format_args!(
                "user {}: unknown role {:?}",
                self.id, self.role
            ))
        })?;
        Ok(User {
            id: self.id,
            email: self.email,
            display_name: self.display_name,
            role,
            time_zone: self.time_zone,
            cohort_id: self.cohort_id,
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
            disabled: self.disabled_at.is_some(),
        })
    }
}

/// A user to insert; `email` must already be normalised and every field validated.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub time_zone: &'a str,
    pub password_hash: &'a str,
    pub cohort_id: Option<CohortId>,
}

pub async fn insert(db: &Db, user: NewUser<'_>, now: Millis) -> Result<User, AppError> {
    let sql = format!(
        "INSERT INTO users (email, display_name, role, time_zone, password_hash, cohort_id, \
         created_at, password_changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         RETURNING {}",
        RETURNED_USER_COLUMNS
    );
    let row = with_db!(db, pool => sqlx::query_as::<_, UserRow>(&sql)
        .bind(user.email)
        .bind(user.display_name)
        .bind(user.role.as_str())
        .bind(user.time_zone)
        .bind(user.password_hash)
        .bind(user.cohort_id)
        .bind(now)
        .fetch_one(pool)
        .await)
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            AppError::validation("cohort_id", "That cohort does not exist.")
        }
        _ => unique_or_internal(e, Unique::UserEmail, "email", EMAIL_TAKEN),
    })?;
    row.into_user()
}

pub async fn find(db: &Db, id: UserId) -> Result<Option<User>, AppError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
    with_db!(db, pool => sqlx::query_as::<_, UserRow>(&sql).bind(id).fetch_optional(pool).await)
        .map_err(internal)?
        .map(UserRow::into_user)
        .transpose()
}

pub async fn get(db: &Db, id: UserId) -> Result<User, AppError> {
    find(db, id)
        .await?
        .ok_or_else(|| AppError::not_found("That user"))
}

/// The user and their password hash, by normalised email.
pub async fn find_with_hash(db: &Db, email: &str) -> Result<Option<(User, String)>, AppError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        password_hash: String,
    }
    let sql = format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = $1");
    let row =
        with_db!(db, pool => sqlx::query_as::<_, Row>(&sql).bind(email).fetch_optional(pool).await)
            .map_err(internal)?;
    row.map(|r| Ok((r.user.into_user()?, r.password_hash)))
        .transpose()
}

pub async fn password_hash(db: &Db, id: UserId) -> Result<String, AppError> {
    with_db!(db, pool => sqlx::query_scalar::<_, String>("SELECT password_hash FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await)
    .map_err(internal)?
    .ok_or_else(|| AppError::not_found("That user"))
}

pub async fn set_password_hash(
    db: &Db,
    id: UserId,
    hash: &str,
    now: Millis,
) -> Result<(), AppError> {
    let done = with_db!(db, pool => sqlx::query(
        "UPDATE users SET password_hash = $2, password_changed_at = $3 WHERE id = $1")
        .bind(id).bind(hash).bind(now).execute(pool).await.map(|r| r.rows_affected()))
    .map_err(internal)?;
    found(done)
}

pub async fn set_profile(
    db: &Db,
    id: UserId,
    display_name: &str,
    time_zone: &str,
) -> Result<(), AppError> {
    let done = with_db!(db, pool => sqlx::query("UPDATE users SET display_name = $2, time_zone = $3 WHERE id = $1")
        .bind(id).bind(display_name).bind(time_zone).execute(pool).await.map(|r| r.rows_affected()))
    .map_err(internal)?;
    found(done)
}

pub async fn set_role(db: &Db, id: UserId, role: Role) -> Result<(), AppError> {
    let done = with_db!(db, pool => sqlx::query("UPDATE users SET role = $2 WHERE id = $1")
        .bind(id).bind(role.as_str()).execute(pool).await.map(|r| r.rows_affected()))
    .map_err(internal)?;
    found(done)
}

pub async fn set_cohort(db: &Db, id: UserId, cohort: Option<CohortId>) -> Result<(), AppError> {
    let done = with_db!(db, pool => sqlx::query("UPDATE users SET cohort_id = $2 WHERE id = $1")
        .bind(id).bind(cohort).execute(pool).await.map(|r| r.rows_affected()))
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            AppError::validation("cohort_id", "That cohort does not exist.")
        }
        _ => internal(e),
    })?;
    found(done)
}

pub async fn set_disabled(
    db: &Db,
    id: UserId,
    disabled_at: Option<Millis>,
) -> Result<(), AppError> {
    let done = with_db!(db, pool => sqlx::query("UPDATE users SET disabled_at = $2 WHERE id = $1")
        .bind(id).bind(disabled_at).execute(pool).await.map(|r| r.rows_affected()))
    .map_err(internal)?;
    found(done)
}

pub async fn touch_last_seen(db: &Db, id: UserId, now: Millis) -> Result<(), AppError> {
    with_db!(db, pool => sqlx::query("UPDATE users SET last_seen_at = $2 WHERE id = $1")
        .bind(id).bind(now).execute(pool).await.map(|r| r.rows_affected()))
    .map(|_| ())
    .map_err(internal)
}

/// One statement per 500 users: what a shutdown writes for everyone still connected.
pub async fn touch_last_seen_many(db: &Db, ids: &[UserId], now: Millis) -> Result<(), AppError> {
    for chunk in ids.chunks(IN_LIST_CHUNK) {
        let sql = format!(
            "UPDATE users SET last_seen_at = $1 WHERE id IN ({})",
            placeholders(2, chunk.len())
        );
        with_db!(db, pool => {
            let mut query = sqlx::query(&sql).bind(now);
            for id in chunk {
                query = query.bind(*id);
            }
            query.execute(pool).await.map(|r| r.rows_affected())
        })
        .map_err(internal)?;
    }
    Ok(())
}

pub async fn count(db: &Db) -> Result<i64, AppError> {
    with_db!(db, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users").fetch_one(pool).await)
        .map_err(internal)
}

pub async fn count_active_admins(db: &Db) -> Result<i64, AppError> {
    with_db!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL").fetch_one(pool).await)
    .map_err(internal)
}

/// Users with one role, by name; for pickers.
pub async fn list_by_role(db: &Db, role: Role) -> Result<Vec<User>, AppError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.role = $1 AND u.disabled_at IS NULL \
         ORDER BY u.display_name, u.id"
    );
    with_db!(db, pool => sqlx::query_as::<_, UserRow>(&sql).bind(role.as_str()).fetch_all(pool).await)
        .map_err(internal)?
        .into_iter()
        .map(UserRow::into_user)
        .collect()
}

/// One page of the admin table, filtered, newest first.
pub async fn list_for_admin(
    db: &Db,
    filter: &UserFilter,
    now: Millis,
) -> Result<Page<AdminUserRow>, AppError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        cohort_name: Option<String>,
        mentor_ids: Option<String>,
        active_sessions: i64,
    }
    let search = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("%{}%", s.to_lowercase().replace(['\\', '%', '_'], "")));
    let role = filter.role.map(|r| r.as_str());
    let page = filter.page.max(1);
    let offset = (page - 1) * ADMIN_PAGE_SIZE;
    let sql_of = db.backend();
    let mentor_list = format!(
        "(SELECT {} FROM mentor_assignments m WHERE m.student_id = u.id)",
        sql_of.comma_list("m.mentor_id")
    );
    let filter_sql = format!(
        "({search} IS NULL OR u.email LIKE $1 OR lower(u.display_name) LIKE $1) \
         AND ({role} IS NULL OR u.role = $2) AND ({cohort} IS NULL OR u.cohort_id = $3)",
        search = sql_of.param(1, ParamType::Text),
        role = sql_of.param(2, ParamType::Text),
        cohort = sql_of.param(3, ParamType::BigInt),
    );
    let sql = format!(
        "SELECT {USER_COLUMNS}, c.name AS cohort_name, {mentor_list} AS mentor_ids, \
         (SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id AND s.revoked_at IS NULL \
            AND s.expires_at > $4 AND s.idle_expires_at > $4) AS active_sessions \
         FROM users u LEFT JOIN cohorts c ON c.id = u.cohort_id \
         WHERE {filter_sql} ORDER BY u.created_at DESC, u.id DESC LIMIT $5 OFFSET $6"
    );
    let count_sql = format!("SELECT COUNT(*) FROM users u WHERE {filter_sql}");
    let (rows, total) = with_db!(db, pool => {
        let rows = sqlx::query_as::<_, Row>(&sql)
            .bind(&search).bind(role).bind(filter.cohort_id).bind(now)
            .bind(ADMIN_PAGE_SIZE).bind(offset)
            .fetch_all(pool).await;
        let total = sqlx::query_scalar::<_, i64>(&count_sql)
            .bind(&search).bind(role).bind(filter.cohort_id)
            .fetch_one(pool).await;
        (rows, total)
    });
    let rows = rows.map_err(internal)?;
    let total = total.map_err(internal)?;
    let items = rows
        .into_iter()
        .map(|r| {
            Ok(AdminUserRow {
                user: r.user.into_user()?,
                cohort_name: r.cohort_name,
                mentor_ids: r
                    .mentor_ids
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|s| s.trim().parse().ok())
                    .collect(),
                active_sessions: r.active_sessions,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(Page {
        items,
        total,
        page,
        per_page: ADMIN_PAGE_SIZE,
    })
}

pub async fn mentors_of(db: &Db, student: UserId) -> Result<Vec<UserId>, AppError> {
    with_db!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT mentor_id FROM mentor_assignments WHERE student_id = $1 ORDER BY mentor_id")
        .bind(student).fetch_all(pool).await)
    .map_err(internal)
}

/// A mentor's students whose accounts are active, by id: the rows of the mentor's table.
pub async fn active_students_of(db: &Db, mentor: UserId) -> Result<Vec<User>, AppError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM mentor_assignments m JOIN users u ON u.id = m.student_id \
         WHERE m.mentor_id = $1 AND u.disabled_at IS NULL ORDER BY u.id"
    );
    with_db!(db, pool => sqlx::query_as::<_, UserRow>(&sql).bind(mentor).fetch_all(pool).await)
        .map_err(internal)?
        .into_iter()
        .map(UserRow::into_user)
        .collect()
}

pub async fn students_of(db: &Db, mentor: UserId) -> Result<Vec<UserId>, AppError> {
    with_db!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT student_id FROM mentor_assignments WHERE mentor_id = $1 ORDER BY student_id")
        .bind(mentor).fetch_all(pool).await)
    .map_err(internal)
}

/// Replaces a student's mentors in one transaction.
pub async fn replace_mentors(
    db: &Db,
    student: UserId,
    mentors: &[UserId],
    now: Millis,
) -> Result<(), AppError> {
    with_db!(db, pool => {
        let mut tx = pool.begin().await.map_err(internal)?;
        sqlx::query("DELETE FROM mentor_assignments WHERE student_id = $1")
            .bind(student).execute(&mut *tx).await.map_err(internal)?;
        for mentor in mentors {
            sqlx::query("INSERT INTO mentor_assignments (mentor_id, student_id, created_at) VALUES ($1, $2, $3)")
                .bind(mentor).bind(student).bind(now).execute(&mut *tx).await.map_err(internal)?;
        }
        tx.commit().await.map_err(internal)
    })
}

/// Drops assignments that no longer fit a user's role.
pub async fn drop_assignments_for_role(db: &Db, id: UserId, role: Role) -> Result<(), AppError> {
    let sql = match role {
        Role::Student => "DELETE FROM mentor_assignments WHERE mentor_id = $1",
        Role::Mentor => "DELETE FROM mentor_assignments WHERE student_id = $1",
        Role::Admin => "DELETE FROM mentor_assignments WHERE mentor_id = $1 OR student_id = $1",
    };
    with_db!(db, pool => sqlx::query(sql).bind(id).execute(pool).await.map(|r| r.rows_affected()))
        .map(|_| ())
        .map_err(internal)
}

fn found(rows: u64) -> Result<(), AppError> {
    if rows == 0 {
        Err(AppError::not_found("That user"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_returned_columns_are_the_selected_ones() {
        let selected: Vec<&str> = super::USER_COLUMNS
            .split(',')
            .map(|c| c.trim().trim_start_matches("u."))
            .collect();
        let returned: Vec<&str> = super::RETURNED_USER_COLUMNS
            .split(',')
            .map(str::trim)
            .collect();
        assert_eq!(selected, returned);
    }
}
