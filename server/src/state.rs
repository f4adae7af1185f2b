//! What every request handler can reach: the app's [`AppState`] (services, settings, the task
//! tracker) and the middleware's [`HttpSettings`].

use crate::config::WsSettings;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;
use studyhall::server::web::Services;

/// Settings the middleware needs on every request.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub allowed_origins: Arc<Vec<String>>,
    pub trust_proxy_headers: bool,
    pub secure: bool,
}

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Services,
    pub http: HttpSettings,
    /// Shared by every connection (one pointer each rather than a 96-byte copy).
    pub ws: Arc<WsSettings>,
    /// Every WebSocket connection's task (and the jobs): the shutdown waits for them to end before
    /// it stores last-seen times and closes the pool.
    pub tasks: tokio_util::task::TaskTracker,
}
