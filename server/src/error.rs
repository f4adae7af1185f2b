//! [`ApiError`]: an [`AppError`] as an HTTP response, for every adapter that answers one (REST, the
//! auth and cross-site layers, the WebSocket upgrade), and the mapping of axum's extractor rejections
//! to the same errors.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use studyhall::AppError;

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

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError(AppError::BadRequest {
            message: format!("The address is invalid: {}", rejection.body_text()),
        })
    }
}
