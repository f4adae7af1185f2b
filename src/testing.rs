//! Test support: a migrated database on either backend that cleans up after itself.
//!
//! SQLite lives in a temporary file. PostgreSQL gets a fresh database on the server named by
//! `STUDYHALL_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`), dropped when the
//! test ends. An unreachable PostgreSQL fails the test with a clear message; it is never skipped.

use crate::server::db::Db;
use sqlx::Connection;
use std::sync::atomic::{AtomicU32, Ordering};

/// `user` as a service sees a caller signed in with a browser session (no session row behind it).
pub fn caller(user: crate::model::User) -> crate::accounts::service::Caller {
    crate::accounts::service::Caller {
        user,
        session_id: "s".into(),
        session_handle: "h".into(),
        kind: crate::accounts::SessionKind::Browser,
        token_expires_at: i64::MAX,
        scopes: None,
    }
}

pub const DEFAULT_PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn pg_admin_url() -> String {
    std::env::var("STUDYHALL_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_ADMIN_URL.to_string())
}

pub struct TestDb {
    pub db: Db,
    url: String,
    _dir: Option<tempfile::TempDir>,
    pg_database: Option<String>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let db = Db::connect(&url, 5)
            .await
            .expect("open SQLite test database");
        TestDb {
            db,
            url,
            _dir: Some(dir),
            pg_database: None,
        }
    }

    pub async fn postgres() -> TestDb {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let admin_url = pg_admin_url();
        let name = format!(
            "studyhall_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                "PostgreSQL is not reachable at {admin_url} ({e}). The tests need it: start it \
                 (scripts/test.sh does) or set STUDYHALL_TEST_PG_URL."
            )
            });
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let _ = admin.close().await;
        let url = replace_database(&admin_url, &name);
        let db = Db::connect(&url, 5)
            .await
            .expect("open PostgreSQL test database");
        TestDb {
            db,
            url,
            _dir: None,
            pg_database: Some(name),
        }
    }

    /// The URL of this database, for starting a server on it.
    pub fn url(&self) -> &str {
        &self.url
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let base = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_database.take() else {
            return;
        };
        let db = self.db.clone();
        // Drop runs outside any async context we can rely on; use a private runtime on a thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime for test cleanup");
            rt.block_on(async move {
                db.close().await;
                if let Ok(mut admin) = sqlx::PgConnection::connect(&pg_admin_url()).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await;
                }
            });
        })
        .join();
    }
}

/// Runs an async test body against both backends: `both_backends!(name, |db: TestDb| async move {...})`
/// expands to a module `name` with tests `sqlite` and `postgres`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let test_db = $crate::testing::TestDb::sqlite().await;
                ($body)(test_db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let test_db = $crate::testing::TestDb::postgres().await;
                ($body)(test_db).await;
            }
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_names_are_replaced_in_urls() {
        assert_eq!(
            super::replace_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            super::replace_database("postgres://u@h/db?sslmode=disable", "t2"),
            "postgres://u@h/t2?sslmode=disable"
        );
    }
}
