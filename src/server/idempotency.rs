//! Idempotent creates. A client makes a key for one attempt at a create (a browser form makes one per
//! render and keeps it until the create succeeds; a REST client sends an `Idempotency-Key` header) and
//! sends it with the request. The first request with that key makes the row and keeps its answer; any
//! repeat of the key (a double click, a retry after a lost response) gets the same answer back instead
//! of a second row. Keys are per user and per `scope` (what is created), so the same key on another
//! kind of create, or from another user, is a different key.
//!
//! Use it inside the create's own transaction, after any lock the create takes:
//!
//! ```ignore
//! let ticket = match idempotency::claim::<Goal>(&mut tx, user.id, "learning.goal", key, now).await? {
//!     Claim::Done(goal) => return Ok(goal), // the first request's answer; nothing is written
//!     Claim::New(ticket) => ticket,
//! };
//! let goal = insert(&mut tx).await?;
//! idempotency::finish(&mut tx, ticket, &goal).await?;
//! tx.commit().await?;
//! ```
//!
//! Why it holds under a real double submit: the key row is inserted first with `ON CONFLICT DO
//! NOTHING` on the `(user_id, scope, key)` primary key. On PostgreSQL a second transaction inserting the
//! same key waits for the first to commit (or roll back) and then inserts nothing (or takes over); on
//! SQLite writers are serialized by `BEGIN IMMEDIATE`. Either way exactly one request creates the row.

use crate::model::{Millis, UserId};
use crate::server::db::{internal, Tx};
use crate::{with_tx, AppError, FieldError};
use serde::{de::DeserializeOwned, Serialize};

/// The longest key accepted (a UUID is 36 characters).
pub const KEY_MAX: usize = 100;
/// How long a key is remembered; the retention job purges older ones.
pub const KEEP_MS: Millis = 24 * 3_600_000;

/// A checked key: 8 to 100 characters of letters, digits, `-`, `_`, `.` and `:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    /// `None` or a blank value means "no key" (the create is not deduplicated); anything else must be
    /// a well-formed key (a 422 on field `idempotency_key` otherwise).
    pub fn parse(raw: Option<&str>) -> Result<Option<Key>, AppError> {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            return Ok(None);
        };
        let ok = (8..=KEY_MAX).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        if ok {
            Ok(Some(Key(raw.to_string())))
        } else {
            Err(AppError::Validation {
                fields: vec![FieldError::new(
                    "idempotency_key",
                    "An idempotency key is 8 to 100 letters, digits, '-', '_', '.' or ':'.",
                )],
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Permission to create: hand it back to [`finish`] with the answer.
#[must_use]
pub struct Ticket {
    user_id: UserId,
    scope: &'static str,
    key: Option<Key>,
}

pub enum Claim<T> {
    /// The key was used before: the answer the first request gave.
    Done(T),
    /// First use (or no key): create, then [`finish`].
    New(Ticket),
}

/// Claims `key` for `user_id` and `scope` in `tx`; with no key every request is new.
pub async fn claim<T: DeserializeOwned>(
    tx: &mut Tx,
    user_id: UserId,
    scope: &'static str,
    key: Option<&Key>,
    now: Millis,
) -> Result<Claim<T>, AppError> {
    let ticket = Ticket {
        user_id,
        scope,
        key: key.cloned(),
    };
    let Some(key) = key else {
        return Ok(Claim::New(ticket));
    };
    let inserted = with_tx!(&mut *tx, c => sqlx::query(
        "INSERT INTO idempotency_keys (user_id, scope, key, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING")
        .bind(user_id).bind(scope).bind(key.as_str()).bind(now)
        .execute(&mut *c).await.map_err(internal)?.rows_affected());
    if inserted == 1 {
        return Ok(Claim::New(ticket));
    }
    let stored: Option<String> = with_tx!(&mut *tx, c => sqlx::query_scalar(
        "SELECT result FROM idempotency_keys WHERE user_id = $1 AND scope = $2 AND key = $3")
        .bind(user_id).bind(scope).bind(key.as_str())
        .fetch_optional(&mut *c).await.map_err(internal)?)
    .flatten();
    match stored.and_then(|s| serde_json::from_str(&s).ok()) {
        Some(answer) => Ok(Claim::Done(answer)),
        // Only a row whose create failed after its claim could lack an answer, and that rolled back.
        None => Err(AppError::Conflict {
            message: "This request is already being processed.".into(),
        }),
    }
}

/// Keeps the create's answer with its key (nothing to do without a key).
pub async fn finish<T: Serialize>(tx: &mut Tx, ticket: Ticket, answer: &T) -> Result<(), AppError> {
    let Some(key) = ticket.key else {
        return Ok(());
    };
    let json = serde_json::to_string(answer)
        .map_err(|e| AppError::internal(format_args!("idempotent answer: {e}")))?;
    with_tx!(&mut *tx, c => sqlx::query(
        "UPDATE idempotency_keys SET result = $4 WHERE user_id = $1 AND scope = $2 AND key = $3")
        .bind(ticket.user_id).bind(ticket.scope).bind(key.as_str()).bind(&json)
        .execute(&mut *c).await.map_err(internal)?.rows_affected());
    Ok(())
}

/// Forgets keys older than [`KEEP_MS`] (the retention job).
pub async fn purge(db: &crate::server::db::Db, now: Millis) -> Result<u64, AppError> {
    crate::with_db!(db, pool => sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(now - KEEP_MS).execute(pool).await.map(|r| r.rows_affected()))
    .map_err(internal)
}
