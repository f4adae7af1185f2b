//! `/api/v1/announcements`: read the latest (anyone signed in) and post one (admins).

use super::{ApiResult, AuthCaller, Json};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use studyhall::model::AnnouncementsSnapshot;
use studyhall::server::announcements;

pub fn router() -> Router<AppState> {
    Router::new().route("/announcements", get(latest).post(post))
}

async fn latest(
    State(state): State<AppState>,
    AuthCaller(_caller): AuthCaller,
) -> ApiResult<Json<AnnouncementsSnapshot>> {
    Ok(Json(
        announcements::snapshot(state.services.accounts.db(), 20).await?,
    ))
}

#[derive(Deserialize)]
struct NewAnnouncement {
    title: String,
    body: String,
}

async fn post(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Json(body): Json<NewAnnouncement>,
) -> ApiResult<impl IntoResponse> {
    let s = &state.services;
    let created =
        announcements::post(s.accounts.db(), &s.hub, &caller, &body.title, &body.body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}
