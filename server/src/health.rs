//! `GET /healthz`: the process is up and the database answers.

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use studyhall::model::Health;

pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let db = state.services.accounts.db();
    let ok = db.ping().await.is_ok();
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Health {
            status: if ok { "ok" } else { "degraded" }.into(),
            database: if ok { "ok" } else { "unavailable" }.into(),
            backend: db.backend().as_str().into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }),
    )
}
