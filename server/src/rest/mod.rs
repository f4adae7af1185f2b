//! The JSON API under `/api/v1`: thin adapters over the core services. Errors are
//! `{"code": …, "message": …, "fields": [...]}` with the status of [`AppError::status`].

mod admin;
mod announcements;
mod auth;
mod learning;
mod notifications;

use crate::AppState;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Serialize;
use studyhall::server::accounts::Caller;
use studyhall::server::web::RequestAuth;
use studyhall::AppError;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(admin::router())
        .merge(announcements::router())
        .merge(learning::router())
        .merge(notifications::router())
        .method_not_allowed_fallback(|| async {
            ApiError(AppError::BadRequest {
                message: "This endpoint does not accept that method.".into(),
            })
        })
        .fallback(|| async { ApiError(AppError::not_found("That API endpoint")) })
}

/// An [`AppError`] as an HTTP response.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Where an internal error becomes a response: its cause is logged here, once, in the
        // request's span (so with its request id).
        self.0.log_if_internal();
        let status =
            StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // The error's own fields plus a readable `message` (variants that carry one keep theirs).
        let mut body = serde_json::to_value(&self.0).unwrap_or_else(|_| serde_json::json!({}));
        if let Some(map) = body.as_object_mut() {
            map.entry("message")
                .or_insert_with(|| self.0.to_string().into());
        }
        let mut res = (status, axum::Json(body)).into_response();
        match &self.0 {
            AppError::RateLimited {
                retry_after_secs, ..
            } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    res.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            AppError::Unauthenticated | AppError::InvalidCredentials => {
                res.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        res
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        // The same statuses as the server functions' boundary gives the same mistakes.
        let message = match rejection {
            JsonRejection::MissingJsonContentType(_) => {
                return ApiError(AppError::UnsupportedMediaType {
                    message: "Send the body as JSON with Content-Type: application/json.".into(),
                })
            }
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return ApiError(AppError::PayloadTooLarge {
                    message: "The request body is too large.".into(),
                })
            }
            JsonRejection::JsonSyntaxError(_) => "The body is not valid JSON.".to_string(),
            JsonRejection::JsonDataError(e) => format!(
                "The body does not match the expected shape: {}",
                e.body_text()
            ),
            _ => "The body could not be read.".to_string(),
        };
        ApiError(AppError::BadRequest { message })
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError(AppError::BadRequest {
            message: format!("The query string is invalid: {}", rejection.body_text()),
        })
    }
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

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError(AppError::BadRequest {
            message: format!("The address is invalid: {}", rejection.body_text()),
        })
    }
}

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
