//! Which node runs the background jobs: the one holding a PostgreSQL advisory lock, taken on a
//! connection of its own and held as long as that connection lives. A node that dies loses its
//! connection, PostgreSQL releases the lock, and another node takes it at its next try (every
//! second), so each job runs on one node at a time and resumes within seconds of a node's loss. A
//! node alone (SQLite, or no Redis) always holds it.

use crate::server::db::Db;
use sqlx::Connection;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// The advisory lock's key: "STUDYJOB" in ASCII.
const LOCK_KEY: i64 = 0x5354_5544_594A_4F42;
/// How often a node tries to take the lease, and checks that it still holds it.
pub const TRY_EVERY: Duration = Duration::from_secs(1);

pub struct JobLease {
    held: AtomicBool,
}

impl JobLease {
    /// A lease that is always held (one node).
    pub fn solo() -> JobLease {
        JobLease {
            held: AtomicBool::new(true),
        }
    }

    /// A lease shared by several nodes: not held until [`JobLease::hold`] takes it.
    pub fn shared() -> JobLease {
        JobLease {
            held: AtomicBool::new(false),
        }
    }

    /// Whether this node runs the jobs now.
    pub fn is_held(&self) -> bool {
        self.held.load(Ordering::Acquire)
    }

    fn set(&self, held: bool) {
        if self.held.swap(held, Ordering::AcqRel) != held {
            if held {
                tracing::info!("this node now runs the background jobs");
            } else {
                tracing::warn!("this node no longer runs the background jobs");
            }
        }
    }

    /// Takes and keeps the lease while `stop` is unset, then gives it back (another node takes
    /// over at once on a graceful stop). PostgreSQL only; on SQLite the lease is [`JobLease::solo`].
    pub async fn hold(&self, db: Db, mut stop: watch::Receiver<bool>) {
        let Db::Postgres(pool) = db else {
            self.set(true);
            return;
        };
        let mut conn: Option<sqlx::PgConnection> = None;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(TRY_EVERY) => {}
                _ = super::stopped(&mut stop) => break,
            }
            if conn.is_none() {
                conn = match pool.acquire().await {
                    // Out of the pool: the lock lives exactly as long as this connection.
                    Ok(c) => Some(c.detach()),
                    Err(e) => {
                        tracing::warn!(error = %e, "no connection to hold the jobs' lease");
                        None
                    }
                };
            }
            let Some(c) = conn.as_mut() else {
                self.set(false);
                continue;
            };
            let outcome = if self.is_held() {
                sqlx::query_scalar::<_, i32>("SELECT 1")
                    .fetch_one(&mut *c)
                    .await
                    .map(|_| true)
            } else {
                sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
                    .bind(LOCK_KEY)
                    .fetch_one(&mut *c)
                    .await
            };
            match outcome {
                Ok(held) => self.set(held),
                Err(e) => {
                    tracing::warn!(error = %e, "the jobs' lease connection failed");
                    self.set(false);
                    conn = None;
                }
            }
        }
        if let Some(mut c) = conn {
            if self.is_held() {
                let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(LOCK_KEY)
                    .execute(&mut c)
                    .await;
            }
            let _ = c.close().await;
        }
        self.set(false);
    }
}

impl std::fmt::Debug for JobLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobLease")
            .field("held", &self.is_held())
            .finish()
    }
}
