//! Server-only core: persistence, authentication and the domain services that every adapter calls
//! (server functions, REST handlers and background jobs).

pub mod accounts;
pub mod activity;
pub mod admin;
pub mod analytics;
pub mod announcements;
pub mod api_tokens;
pub mod cohorts;
pub mod db;
pub mod demo;
pub mod dialect;
pub mod idempotency;
pub mod learning;
pub mod milestones;
pub mod notifications;
pub mod overview;
pub mod password;
pub mod realtime;
pub mod sessions;
pub mod sign_ins;
pub mod throttle;
pub mod tokens;
pub mod users;
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
