//! The database handle: one pool for the process, SQLite or PostgreSQL, chosen by the URL.
//!
//! Most SQL is written once and runs on both backends (`$N` placeholders, integer millisecond times,
//! text enums). [`with_db!`] compiles a body once per backend; the few statements that differ match on
//! [`Db`] and keep one string per backend.

use crate::AppError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// Runs `$body` with `$pool` bound to the configured pool; the body is compiled for each backend.
#[macro_export]
macro_rules! with_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::server::db::Db::Sqlite($pool) => $body,
            $crate::server::db::Db::Postgres($pool) => $body,
        }
    };
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("unsupported database URL (expected sqlite:… or postgres://…)")]
    UnsupportedUrl,
    #[error("could not open the database: {0}")]
    Open(#[from] sqlx::Error),
    #[error("could not apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl Db {
    /// Opens the pool and applies the embedded migrations for its backend.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, ConnectError> {
        let db = match Backend::of_url(url).ok_or(ConnectError::UnsupportedUrl)? {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5))
                    // Checkpoints (which fsync) run from a background task (`checkpoint`), not
                    // inside whichever commit happens to fill the WAL: that commit used to stall
                    // for 100-200 ms, and every publish queued behind it.
                    .pragma("wal_autocheckpoint", "0");
                let pool = SqlitePoolOptions::new()
                    .max_connections(max_connections.max(1))
                    .acquire_timeout(Duration::from_secs(10))
                    // An SQLite connection is a file handle in this process: there is no peer that
                    // could have gone away, so sqlx's ping before every checkout (a round trip to the
                    // connection's worker thread, 18 per dashboard) buys nothing here.
                    .test_before_acquire(false)
                    .connect_with(options)
                    .await?;
                Db::Sqlite(pool)
            }
            Backend::Postgres => {
                let options = PgConnectOptions::from_str(url)?;
                let pool = PgPoolOptions::new()
                    .max_connections(max_connections.max(1))
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?;
                Db::Postgres(pool)
            }
        };
        db.migrate().await?;
        Ok(db)
    }

    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Db::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await,
            Db::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await,
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// A round trip to the database, for health checks.
    pub async fn ping(&self) -> Result<(), AppError> {
        with_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|r| r.rows_affected()))
            .map(|_| ())
            .map_err(internal)
    }

    /// Copies the SQLite write-ahead log into the database file as far as readers allow, without
    /// blocking writers (`PASSIVE`). A no-op on PostgreSQL. The server calls it every second.
    pub async fn checkpoint(&self) -> Result<(), AppError> {
        match self {
            Db::Sqlite(pool) => sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(internal),
            Db::Postgres(_) => Ok(()),
        }
    }

    pub async fn close(&self) {
        with_db!(self, pool => pool.close().await)
    }
}

/// A database failure as the error users see; its cause is logged where it becomes a response.
#[track_caller]
pub fn internal(err: sqlx::Error) -> AppError {
    AppError::internal(format_args!("database: {err}"))
}

/// A unique constraint a person can run into by what they type (a taken email, a duplicate name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unique {
    UserEmail,
    CohortName,
    SkillName,
}

impl Unique {
    /// How each backend names it when it is violated: PostgreSQL by the index's name, SQLite by the
    /// index's name for an index on an expression and by `table.column` otherwise.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Unique::UserEmail => ("users_email_key", "users.email"),
            Unique::CohortName => ("cohorts_name_key", "index 'cohorts_name_key'"),
            Unique::SkillName => ("skills_user_name_key", "index 'skills_user_name_key'"),
        }
    }

    /// Whether `err` is a violation of this constraint (and not of another one).
    pub fn violated_by(self, err: &sqlx::Error) -> bool {
        let sqlx::Error::Database(db) = err else {
            return false;
        };
        let (postgres, sqlite) = self.names();
        db.is_unique_violation()
            && (db.constraint() == Some(postgres)
                || db
                    .message()
                    .ends_with(&format!("constraint failed: {sqlite}")))
    }
}

/// A violation of `constraint` as `message` on the input `field` it concerns; anything else
/// (another constraint too) is internal.
#[track_caller]
pub fn unique_or_internal(
    err: sqlx::Error,
    constraint: Unique,
    field: &str,
    message: &str,
) -> AppError {
    if constraint.violated_by(&err) {
        AppError::validation(field, message)
    } else {
        internal(err)
    }
}

/// How many values one `IN (…)` list binds: far below either backend's limit on parameters.
pub const IN_LIST_CHUNK: usize = 500;

/// `$first, $first+1, …` for `n` values: an `IN (…)` list written the same way for both backends.
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows of `sql(list)` for all of `values`: one query per [`IN_LIST_CHUNK`] of them, `list` being that
/// chunk's placeholders (`$1, $2, …`) for an `IN (…)`, rows in the order the chunks were read.
pub async fn fetch_in<R, V>(
    db: &Db,
    values: &[V],
    sql: impl Fn(&str) -> String,
) -> Result<Vec<R>, AppError>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
    V: for<'q> sqlx::Encode<'q, sqlx::Sqlite>
        + sqlx::Type<sqlx::Sqlite>
        + for<'q> sqlx::Encode<'q, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
        + Sync,
{
    let mut rows = Vec::new();
    for chunk in values.chunks(IN_LIST_CHUNK) {
        let text = sql(&placeholders(1, chunk.len()));
        let found: Vec<R> = with_db!(db, pool => {
            let mut query = sqlx::query_as(&text);
            for value in chunk {
                query = query.bind(value);
            }
            query.fetch_all(pool).await
        })
        .map_err(internal)?;
        rows.extend(found);
    }
    Ok(rows)
}

/// A transaction on either backend. SQLite transactions start with `BEGIN IMMEDIATE`, taking the write
/// lock up front so concurrent writers wait (busy timeout) instead of failing on a lock upgrade.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs `$body` with `$conn` bound to the transaction's connection; compiled for each backend.
#[macro_export]
macro_rules! with_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::server::db::Tx::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::server::db::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

impl Db {
    pub async fn begin(&self) -> Result<Tx, AppError> {
        match self {
            Db::Sqlite(pool) => pool.begin_with("BEGIN IMMEDIATE").await.map(Tx::Sqlite),
            Db::Postgres(pool) => pool.begin().await.map(Tx::Postgres),
        }
        .map_err(internal)
    }
}

impl Tx {
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn commit(self) -> Result<(), AppError> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
        .map_err(internal)
    }
}

/// A connection on either backend: from a transaction ([`Tx::conn`]) or the pool ([`Db::acquire`]), so
/// one query function serves both a write transaction and a plain read.
pub enum Conn<'a> {
    Sqlite(&'a mut sqlx::SqliteConnection),
    Postgres(&'a mut sqlx::PgConnection),
}

/// Runs `$body` with `$c` bound to the connection behind a [`Conn`]; compiled for each backend.
#[macro_export]
macro_rules! with_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::server::db::Conn::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::server::db::Conn::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

/// A connection checked out of the pool.
pub enum Pooled {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

impl Pooled {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Pooled::Sqlite(c) => Conn::Sqlite(c),
            Pooled::Postgres(c) => Conn::Postgres(c),
        }
    }
}

impl Db {
    pub async fn acquire(&self) -> Result<Pooled, AppError> {
        match self {
            Db::Sqlite(pool) => pool.acquire().await.map(Pooled::Sqlite),
            Db::Postgres(pool) => pool.acquire().await.map(Pooled::Postgres),
        }
        .map_err(internal)
    }
}

impl Tx {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(t) => Conn::Sqlite(t),
            Tx::Postgres(t) => Conn::Postgres(t),
        }
    }
}
