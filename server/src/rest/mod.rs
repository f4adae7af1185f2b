//! The JSON API under `/api/v1`: thin adapters over the core services. Errors are
//! `{"code": …, "message": …, "fields": [...]}` with the status of [`AppError::status`].

mod admin;
mod announcements;
mod attachments;
mod auth;
mod groups;
mod leaderboards;
mod learning;
mod notifications;
mod rooms;

pub use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Serialize;
use studyhall::accounts::service::Caller;
use studyhall::server::web::RequestAuth;
use studyhall::AppError;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(admin::router())
        .merge(announcements::router())
        .merge(leaderboards::router())
        .merge(learning::router())
        .merge(notifications::router())
        .merge(rooms::router())
        .merge(groups::router())
        .method_not_allowed_fallback(|| async {
            ApiError(AppError::BadRequest {
                message: "This endpoint does not accept that method.".into(),
            })
        })
        .fallback(|| async { ApiError(AppError::not_found("That API endpoint")) })
}

/// `axum::Json` with errors in the API's format.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query` with errors in the API's format.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// `axum::extract::Path` with errors in the API's format.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// The signed-in caller; 401 without one.
pub struct AuthCaller(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for AuthCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestAuth>()
            .and_then(|a| a.caller.clone())
            .map(AuthCaller)
            .ok_or(ApiError(AppError::Unauthenticated))
    }
}

/// A signed-in caller or an API token (scopes are checked by the service). Only routes that serve
/// integrations take this; everything else takes [`AuthCaller`], which never sees a token.
pub struct ScopedCaller(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for ScopedCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestAuth>()
            .and_then(|a| a.caller.clone().or_else(|| a.integration.clone()))
            .map(ScopedCaller)
            .ok_or(ApiError(AppError::Unauthenticated))
    }
}

/// The optional `Idempotency-Key` header of a create: the service makes the row once per key and
/// answers a repeat with the first answer (`studyhall::server::idempotency`, which checks its form).
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get("idempotency-key") {
            None => Ok(IdempotencyKey(None)),
            Some(v) => match v.to_str() {
                Ok(key) => Ok(IdempotencyKey(Some(key.to_string()))),
                // Not visible ASCII: never a well-formed key, so the same 422 the service gives.
                Err(_) => Err(ApiError(AppError::validation(
                    "idempotency_key",
                    "An idempotency key is 8 to 100 letters, digits, '-', '_', '.' or ':'.",
                ))),
            },
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
