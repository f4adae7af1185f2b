//! Server-only infrastructure that every domain service uses: the database handle and its SQL dialect,
//! the realtime layer (log, hub, bus, the `Change` unit of work), several nodes as one (`cluster`), idempotent creates, file storage, what the HTTP
//! adapters share, and the demo data. The domain services live in their domain's folder.

pub mod cluster;
pub mod db;
pub mod demo;
pub mod dialect;
pub mod idempotency;
pub mod realtime;
pub mod storage;
pub mod web;

use crate::model::Millis;

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// Where a request came from, for session records and the sign-in throttle.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}
