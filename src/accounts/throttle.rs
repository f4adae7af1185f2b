//! The sign-in throttle: failed attempts per account and per client address, kept in the database so
//! that every server node sees the same counts.

use crate::model::Millis;
use crate::server::db::{internal, Db};
use crate::{with_db, AppError};

#[derive(Debug, Clone, Copy)]
pub struct ThrottleSettings {
    pub max_failures_per_account: i64,
    pub max_failures_per_ip: i64,
    pub window_ms: Millis,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            max_failures_per_account: 5,
            max_failures_per_ip: 20,
            window_ms: 15 * 60 * 1000,
        }
    }
}

/// Refuses with [`AppError::RateLimited`] when the account or the address has failed too often lately.
pub async fn check(
    db: &Db,
    s: &ThrottleSettings,
    account: &str,
    ip: &str,
    now: Millis,
) -> Result<(), AppError> {
    let since = now - s.window_ms;
    for (column, key, max) in [
        ("account", account, s.max_failures_per_account),
        ("ip", ip, s.max_failures_per_ip),
    ] {
        let sql =
            format!("SELECT COUNT(*), MIN(at) FROM login_failures WHERE {column} = $1 AND at > $2");
        let (count, oldest): (i64, Option<i64>) = with_db!(db, pool => sqlx::query_as(&sql)
            .bind(key).bind(since).fetch_one(pool).await)
        .map_err(internal)?;
        if count >= max {
            let retry_ms = oldest.unwrap_or(now) + s.window_ms - now;
            let retry_after_secs = (retry_ms.max(1000) / 1000) as u64;
            let minutes = retry_after_secs.div_ceil(60);
            let who = if column == "account" {
                "this account"
            } else {
                "your network"
            };
            return Err(AppError::RateLimited {
                message: format!(
                    "Too many failed sign-in attempts for {who}. Try again in {minutes} minute{}.",
                    if minutes == 1 { "" } else { "s" }
                ),
                retry_after_secs,
            });
        }
    }
    Ok(())
}

pub async fn record_failure(db: &Db, account: &str, ip: &str, now: Millis) -> Result<(), AppError> {
    with_db!(db, pool => sqlx::query("INSERT INTO login_failures (account, ip, at) VALUES ($1, $2, $3)")
        .bind(account).bind(ip).bind(now).execute(pool).await.map(|r| r.rows_affected()))
    .map(|_| ())
    .map_err(internal)
}

/// A successful sign-in forgives the account's failures (not the address's).
pub async fn clear_account(db: &Db, account: &str) -> Result<(), AppError> {
    with_db!(db, pool => sqlx::query("DELETE FROM login_failures WHERE account = $1")
        .bind(account).execute(pool).await.map(|r| r.rows_affected()))
    .map(|_| ())
    .map_err(internal)
}

pub async fn purge_before(db: &Db, before: Millis) -> Result<u64, AppError> {
    with_db!(db, pool => sqlx::query("DELETE FROM login_failures WHERE at < $1")
        .bind(before).execute(pool).await.map(|r| r.rows_affected()))
    .map_err(internal)
}
