//! `/api/v1/rooms/{room}/attachments`: uploading a file to a room (the raw bytes as the body, the
//! name in `?name=`) and fetching one. Every rule is the chat service's; this maps HTTP to it and
//! sets the headers that keep a served file from being taken for something else.

use super::{ApiError, ApiResult, AuthCaller, Json, Path, Query};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use studyhall::chat::attachments::{format_size, Attachment, AttachmentId};
use studyhall::chat::service as chat;
use studyhall::chat::RoomId;
use studyhall::AppError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms/{room}/attachments", post(upload))
        .route("/rooms/{room}/attachments/{id}", get(fetch))
}

#[derive(Deserialize)]
struct UploadQuery {
    /// The file's name as the uploader had it (cleaned by the service).
    name: String,
}

async fn upload(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(room): Path<RoomId>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<impl IntoResponse> {
    let s = &state.services;
    let max = s.chat().settings.attachment_max_bytes;
    let too_large = || {
        ApiError(AppError::PayloadTooLarge {
            message: format!("Files are at most {}.", format_size(max as i64)),
        })
    };
    // A declared length over the limit is refused before a byte is read.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, max as usize + 1)
        .await
        .map_err(|_| too_large())?;
    let stored = chat::upload_attachment(
        s.accounts.db(),
        s.chat().files.as_ref(),
        &caller,
        room,
        &q.name,
        bytes,
        max,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

async fn fetch(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path((room, id)): Path<(RoomId, AttachmentId)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let s = &state.services;
    let (file, key, bytes) =
        chat::open_attachment(s.accounts.db(), s.chat().files.as_ref(), &caller, room, id).await?;
    let etag = format!("\"{key}\"");
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Body::from(bytes).into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime(&file)));
    h.insert(header::CONTENT_DISPOSITION, disposition(&file));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Whatever a file holds, it runs nothing and loads nothing if opened on its own.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; img-src 'self'; sandbox"),
    );
    // Only for this browser (it is private to the room), and never changes under its id.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    Ok(response)
}

/// The stored type, which the service only ever sets to one it accepts.
fn mime(file: &Attachment) -> &'static str {
    file.kind()
        .map(|k| k.mime())
        .unwrap_or("application/octet-stream")
}

/// Images open in the browser; other files download. The name both as plain ASCII and, for any
/// other characters, RFC 8187's `filename*`.
fn disposition(file: &Attachment) -> HeaderValue {
    let how = if file.is_image() {
        "inline"
    } else {
        "attachment"
    };
    let ascii: String = file
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | ';') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = file
        .name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "{how}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disposition_names_the_file_safely_in_both_forms() {
        let file = |name: &str, mime: &str| Attachment {
            id: 1,
            room_id: 1,
            message_id: Some(1),
            name: name.into(),
            mime: mime.into(),
            size_bytes: 1,
            width: None,
            height: None,
            created_at: 0,
        };
        let d = disposition(&file("Übung 1; \"final\".pdf", "application/pdf"));
        assert_eq!(
            d.to_str().unwrap(),
            "attachment; filename=\"_bung 1_ _final_.pdf\"; filename*=UTF-8''%C3%9Cbung%201%3B%20%22final%22.pdf"
        );
        let d = disposition(&file("a.png", "image/png"));
        assert!(d
            .to_str()
            .unwrap()
            .starts_with("inline; filename=\"a.png\""));
    }
}
