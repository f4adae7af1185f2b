//! The server functions' boundary, in one place for all of them.
//!
//! Before server_fn decodes a call this checks what server_fn does not: the content type is the one
//! the function reads (server_fn reads a JSON body as a form with one odd key, and `text/plain` as a
//! form), the body fits the limit and is UTF-8 (serde_qs would store `%FF` as U+FFFD), and a JSON body
//! parses. Each refusal is an [`AppError`] (`415`, `413`, `400`) in server_fn's error format.
//!
//! After the call it gives every server-function error answer the status of its `AppError`
//! ([`AppError::status`]) instead of server_fn's `500`, so undecodable arguments (`400`), a missing
//! session (`401`) or a bad field (`422`) are told apart; only `AppError::Internal { .. }` stays a `500`.
//! Redirects (a plain form post's error goes back to the form in the URL) are left alone.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use studyhall::AppError;

/// The header server_fn puts on its error answers (and the path of the function).
const ERROR_HEADER: &str = "serverfnerror";
const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";
/// The most of an error answer read back to find its status (they are a few hundred bytes).
const ERROR_BODY_MAX: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct Boundary {
    body_limit: usize,
    inputs: Arc<HashMap<&'static str, &'static str>>,
}

impl Boundary {
    pub fn new(body_limit: usize) -> Self {
        Self {
            body_limit,
            inputs: inputs(),
        }
    }
}

/// The content type of every registered server function (`POST` only: all of ours are), by path.
fn inputs() -> Arc<HashMap<&'static str, &'static str>> {
    static INPUTS: OnceLock<Arc<HashMap<&'static str, &'static str>>> = OnceLock::new();
    INPUTS
        .get_or_init(|| {
            let known: HashMap<_, _> = app::api::inputs::content_types().into_iter().collect();
            let mut map = HashMap::new();
            for (path, method) in leptos::server_fn::axum::server_fn_paths() {
                match known.get(path) {
                    Some(&ty) if method == Method::POST => {
                        map.insert(path, ty);
                    }
                    // Left to server_fn: still decoded and answered with its AppError's status.
                    _ => {
                        tracing::warn!(path, %method, "server function without a known input type")
                    }
                }
            }
            Arc::new(map)
        })
        .clone()
}

pub async fn boundary(State(b): State<Boundary>, req: Request, next: Next) -> Response {
    let Some(&want) = (req.method() == Method::POST)
        .then(|| b.inputs.get(req.uri().path()))
        .flatten()
    else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let bytes = match check(&parts.headers, body, want, b.body_limit).await {
        Ok(bytes) => bytes,
        Err(e) => return error_response(parts.uri.path(), e),
    };
    let res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    with_error_status(res).await
}

/// The body, once it is of the type `want`, within `limit`, UTF-8 and (for JSON) well formed.
async fn check(
    headers: &axum::http::HeaderMap,
    body: Body,
    want: &str,
    limit: usize,
) -> Result<Bytes, AppError> {
    let too_large = || AppError::PayloadTooLarge {
        message: format!("The request body is larger than {limit} bytes."),
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let media = match headers.get(header::CONTENT_TYPE) {
        None => None,
        Some(v) => Some(media_type(v).ok_or_else(|| wrong_type(want))?),
    };
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => return Err(too_large()),
        Err(_) => {
            return Err(AppError::BadRequest {
                message: "The request body could not be read.".into(),
            })
        }
    };
    match media {
        Some(ty) if ty == want => {}
        // A bodiless call of a form function is its empty argument list (`curl -X POST`); anything
        // with a body must say what it is.
        None if bytes.is_empty() && want == FORM => {}
        _ => return Err(wrong_type(want)),
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| AppError::BadRequest {
        message: "The request body is not valid UTF-8.".into(),
    })?;
    if want == FORM {
        form_is_utf8(text)?;
    } else if want == JSON {
        // Decoded in full (not skimmed with `IgnoredAny`, which lets a lone surrogate such as
        // "\ud800" through): a string that is no Unicode is refused here like invalid UTF-8.
        serde_json::from_str::<serde_json::Value>(text).map_err(|e| AppError::BadRequest {
            message: format!("The request body is not valid JSON: {e}"),
        })?;
    }
    Ok(bytes)
}

/// The media type without parameters, lower case; `None` when the header is unreadable or names a
/// charset other than UTF-8 (server_fn would read the bytes as UTF-8 regardless).
fn media_type(value: &HeaderValue) -> Option<String> {
    let value = value.to_str().ok()?;
    let mut parts = value.split(';');
    let media = parts.next()?.trim().to_ascii_lowercase();
    for param in parts {
        if let Some((name, v)) = param.split_once('=') {
            let v = v.trim().trim_matches('"');
            if name.trim().eq_ignore_ascii_case("charset") && !v.eq_ignore_ascii_case("utf-8") {
                return None;
            }
        }
    }
    Some(media)
}

fn wrong_type(want: &str) -> AppError {
    AppError::UnsupportedMediaType {
        message: format!("Send the request body as {want} (UTF-8)."),
    }
}

/// Every name and value of a form decodes to UTF-8 (serde_qs would replace what does not).
fn form_is_utf8(form: &str) -> Result<(), AppError> {
    for pair in form.split('&') {
        for part in pair.splitn(2, '=') {
            let plus_as_space = part.replace('+', " ");
            if percent_encoding::percent_decode_str(&plus_as_space)
                .decode_utf8()
                .is_err()
            {
                let name = pair.split('=').next().unwrap_or_default();
                let name: String = name.chars().take(40).collect();
                return Err(AppError::BadRequest {
                    message: format!("The form field {name:?} is not valid UTF-8."),
                });
            }
        }
    }
    Ok(())
}

/// An error in server_fn's format: the serialized `AppError` with its status and the error header.
fn error_response(path: &str, err: AppError) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&err).unwrap_or_else(|_| b"{\"code\":\"internal\"}".to_vec());
    let mut res = (status, body).into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    if let Ok(v) = HeaderValue::from_str(path) {
        headers.insert(ERROR_HEADER, v);
    }
    res
}

/// server_fn answers every error with `500`: give it the status of the `AppError` in its body.
async fn with_error_status(res: Response) -> Response {
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key(ERROR_HEADER)
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(collected) = Limited::new(body, ERROR_BODY_MAX).collect().await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, parts.headers).into_response();
    };
    let bytes = collected.to_bytes();
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        if let Ok(status) = StatusCode::from_u16(err.status()) {
            parts.status = status;
        }
        if let AppError::RateLimited {
            retry_after_secs, ..
        } = err
        {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                parts.headers.insert(header::RETRY_AFTER, v);
            }
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn checked(content_type: Option<&str>, body: &str, want: &str) -> Result<(), u16> {
        let mut headers = axum::http::HeaderMap::new();
        if let Some(ty) = content_type {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(ty).unwrap());
        }
        check(&headers, Body::from(body.to_string()), want, 64)
            .await
            .map(|_| ())
            .map_err(|e| e.status())
    }

    #[tokio::test]
    async fn bodies_must_be_of_the_functions_type_in_size_and_utf8() {
        assert_eq!(checked(Some(FORM), "title=Go+%C3%A9", FORM).await, Ok(()));
        assert_eq!(
            checked(
                Some("application/x-www-form-urlencoded; charset=UTF-8"),
                "a=1",
                FORM
            )
            .await,
            Ok(())
        );
        assert_eq!(checked(None, "", FORM).await, Ok(()), "a bodiless call");
        assert_eq!(checked(None, "title=x", FORM).await, Err(415));
        assert_eq!(checked(None, "", JSON).await, Err(415));
        assert_eq!(checked(Some("text/plain"), "title=x", FORM).await, Err(415));
        assert_eq!(
            checked(Some(JSON), "{\"title\":\"x\"}", FORM).await,
            Err(415)
        );
        assert_eq!(checked(Some(FORM), "title=x", JSON).await, Err(415));
        assert_eq!(
            checked(Some("application/json; charset=latin1"), "{}", JSON).await,
            Err(415)
        );
        assert_eq!(checked(Some(FORM), "title=%FF%FE", FORM).await, Err(400));
        assert_eq!(
            checked(Some(FORM), "display_name=%C0%AF", FORM).await,
            Err(400)
        );
        assert_eq!(
            checked(Some(FORM), "%FF=1", FORM).await,
            Err(400),
            "names too"
        );
        assert_eq!(checked(Some(JSON), "{\"id\":", JSON).await, Err(400));
        assert_eq!(
            checked(Some(JSON), "{\"t\":\"\\ud800\"}", JSON).await,
            Err(400),
            "a lone surrogate"
        );
        assert_eq!(checked(Some(JSON), "", JSON).await, Err(400));
        assert_eq!(checked(Some(JSON), &"x".repeat(65), JSON).await, Err(413));
        assert_eq!(checked(Some(JSON), "{\"a\":[1,2]}", JSON).await, Ok(()));
    }

    #[tokio::test]
    async fn invalid_utf8_bytes_are_refused() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
        let err = check(&headers, Body::from(b"{\"t\":\"\xff\"}".to_vec()), JSON, 64)
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.to_string().contains("UTF-8"), "{err}");
    }

    #[tokio::test]
    async fn error_answers_get_their_errors_status_and_redirects_are_kept() {
        let answer = |status: StatusCode, body: &AppError| {
            let mut res = (status, serde_json::to_vec(body).unwrap()).into_response();
            res.headers_mut()
                .insert(ERROR_HEADER, HeaderValue::from_static("/api/x"));
            res
        };
        let forbidden = with_error_status(answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            &AppError::Forbidden,
        ))
        .await;
        assert_eq!(forbidden.status(), 403);
        let limited = with_error_status(answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            &AppError::RateLimited {
                message: "Wait.".into(),
                retry_after_secs: 7,
            },
        ))
        .await;
        assert_eq!(limited.status(), 429);
        assert_eq!(limited.headers()[header::RETRY_AFTER], "7");
        let internal = with_error_status(answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            &AppError::internal("test"),
        ))
        .await;
        assert_eq!(internal.status(), 500);
        let redirect = with_error_status(answer(StatusCode::FOUND, &AppError::Forbidden)).await;
        assert_eq!(redirect.status(), 302, "a plain form post's redirect stays");
    }
}
