//! `/api/v1/notifications/*`: send to a user or an audience (admins, mentors to their students, admin
//! tokens with `notifications:write`), and the caller's own inbox. `/api/v1/admin/tokens`: API tokens.

use super::{ApiResult, AuthCaller, IdempotencyKey, Json, Path, Query, ScopedCaller};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use studyhall::accounts::api_tokens;
use studyhall::accounts::{ApiScope, ApiTokenSummary};
use studyhall::notifications::service::{self as notifications, Target};
use studyhall::notifications::{
    InboxCounts, InboxSnapshot, NewNotification, NotificationFilter, NotificationPage, Preferences,
};
use studyhall::AppError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(list).post(send))
        .route("/notifications/inbox", get(inbox))
        .route("/notifications/seen", post(seen))
        .route("/notifications/read", post(read))
        .route("/notifications/delete", post(delete))
        .route("/notifications/{id}", axum::routing::delete(delete_one))
        .route(
            "/notifications/preferences",
            get(preferences).put(set_preferences),
        )
        .route("/admin/tokens", get(list_tokens).post(create_token))
        .route("/admin/tokens/{id}", axum::routing::delete(revoke_token))
}

async fn send(
    State(state): State<AppState>,
    ScopedCaller(caller): ScopedCaller,
    IdempotencyKey(key): IdempotencyKey,
    Json(body): Json<NewNotification>,
) -> ApiResult<impl IntoResponse> {
    let s = &state.services;
    let report =
        notifications::send_once(s.accounts.db(), &s.hub, &caller, &body, key.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(report)))
}

async fn list(
    State(state): State<AppState>,
    ScopedCaller(caller): ScopedCaller,
    Query(filter): Query<NotificationFilter>,
) -> ApiResult<Json<NotificationPage>> {
    Ok(Json(
        notifications::list(state.services.accounts.db(), &caller, &filter).await?,
    ))
}

async fn inbox(
    State(state): State<AppState>,
    ScopedCaller(caller): ScopedCaller,
) -> ApiResult<Json<InboxSnapshot>> {
    Ok(Json(
        notifications::snapshot(state.services.accounts.db(), &caller).await?,
    ))
}

async fn seen(
    State(state): State<AppState>,
    ScopedCaller(caller): ScopedCaller,
) -> ApiResult<Json<InboxCounts>> {
    let s = &state.services;
    Ok(Json(
        notifications::mark_seen(s.accounts.db(), &s.hub, &caller).await?,
    ))
}

/// `{"ids": [1, 2]}` or `{"all": true}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Selection {
    #[serde(default)]
    ids: Vec<i64>,
    #[serde(default)]
    all: bool,
    #[serde(default)]
    read: Option<bool>,
}

impl Selection {
    fn target(&self) -> Result<Target, AppError> {
        match (self.all, self.ids.is_empty()) {
            (true, true) => Ok(Target::All),
            (false, false) => Ok(Target::Ids(self.ids.clone())),
            _ => Err(AppError::validation(
                "ids",
                "Send either a list of ids or \"all\": true.",
            )),
        }
    }
}

async fn read(
    State(state): State<AppState>,
    ScopedCaller(caller): ScopedCaller,
    Json(body): Json<Selection>,
) -> ApiResult<Json<InboxCounts>> {
    let s = &state.services;
    let read = body.read.unwrap_or(true);
    Ok(Json(
        notifications::mark_read(s.accounts.db(), &s.hub, &caller, body.target()?, read).await?,
    ))
}

async fn delete(
    State(state): State<AppState>,
    ScopedCaller(caller): ScopedCaller,
    Json(body): Json<Selection>,
) -> ApiResult<Json<InboxCounts>> {
    let s = &state.services;
    Ok(Json(
        notifications::delete(s.accounts.db(), &s.hub, &caller, body.target()?).await?,
    ))
}

async fn delete_one(
    State(state): State<AppState>,
    ScopedCaller(caller): ScopedCaller,
    Path(id): Path<i64>,
) -> ApiResult<Json<InboxCounts>> {
    let s = &state.services;
    Ok(Json(
        notifications::delete(s.accounts.db(), &s.hub, &caller, Target::Ids(vec![id])).await?,
    ))
}

async fn preferences(
    State(state): State<AppState>,
    ScopedCaller(caller): ScopedCaller,
) -> ApiResult<Json<Preferences>> {
    Ok(Json(
        notifications::snapshot(state.services.accounts.db(), &caller)
            .await?
            .preferences,
    ))
}

async fn set_preferences(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Json(body): Json<Preferences>,
) -> ApiResult<Json<Preferences>> {
    let s = &state.services;
    Ok(Json(
        notifications::set_preferences(s.accounts.db(), &s.hub, &caller, &body).await?,
    ))
}

async fn list_tokens(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
) -> ApiResult<Json<Vec<ApiTokenSummary>>> {
    Ok(Json(
        api_tokens::list(state.services.accounts.db(), &caller).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
    scopes: Vec<ApiScope>,
}

async fn create_token(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Json(body): Json<NewToken>,
) -> ApiResult<impl IntoResponse> {
    let created = api_tokens::create(
        state.services.accounts.db(),
        &caller,
        &body.name,
        &body.scopes,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn revoke_token(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    api_tokens::revoke(state.services.accounts.db(), &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
