//! `GET /healthz`: the process is up and the database answers; which node this is, how its bus is,
//! which other nodes it hears from, and whether it runs the jobs.

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use studyhall::model::Health;

pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let services = &state.services;
    let db = services.accounts.db();
    let cluster = services.cluster();
    let bus = match cluster.bus_status() {
        None => "in-process",
        Some(status) if status.subscribed() => "redis",
        Some(_) => "redis-unreachable",
    };
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
            node: cluster.node().into(),
            bus: bus.into(),
            other_nodes: services.hub.other_nodes(),
            runs_jobs: cluster.runs_jobs(),
        }),
    )
}
