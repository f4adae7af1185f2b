//! `/api/v1/announcements`: read the latest (anyone signed in); post, edit and delete one (admins).

use super::{ApiResult, AuthCaller, IdempotencyKey, Json, Path};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::Router;
use serde::Deserialize;
use studyhall::announcements::service as announcements;
use studyhall::announcements::{Announcement, AnnouncementsSnapshot};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/announcements", get(latest).post(post))
        .route("/announcements/{id}", put(edit).delete(remove))
}

async fn latest(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
) -> ApiResult<Json<AnnouncementsSnapshot>> {
    Ok(Json(
        announcements::snapshot(state.services.accounts.db(), &caller).await?,
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
    IdempotencyKey(key): IdempotencyKey,
    Json(body): Json<NewAnnouncement>,
) -> ApiResult<impl IntoResponse> {
    let s = &state.services;
    let (title, text) = (&body.title, &body.body);
    let created = announcements::post_once(
        s.accounts.db(),
        &s.hub,
        &caller,
        title,
        text,
        key.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn edit(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(id): Path<i64>,
    Json(body): Json<NewAnnouncement>,
) -> ApiResult<Json<Announcement>> {
    let s = &state.services;
    let edited = announcements::edit(
        s.accounts.db(),
        &s.hub,
        &caller,
        id,
        &body.title,
        &body.body,
    )
    .await?;
    Ok(Json(edited))
}

async fn remove(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let s = &state.services;
    announcements::delete(s.accounts.db(), &s.hub, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
