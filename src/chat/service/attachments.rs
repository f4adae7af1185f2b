//! Attachments: uploading a file to a room (type from its bytes, size limited, stored by content
//! hash), a message taking its uploader's files when it is sent, serving a file to the room's
//! members, and purging files that were never sent or whose message was deleted.
//!
//! A file is readable by the room's members once it is sent, and by its uploader before (the
//! composer previews it); anyone else gets 404, as if it did not exist. A deleted message's files are
//! gone at once for readers (the join on the message) and their bytes at the next purge.

use super::*;
use crate::chat::attachments::{
    clean_name, Attachment, AttachmentId, AttachmentKind, ATTACHMENTS_PER_MESSAGE,
    UNSENT_ATTACHMENTS_MAX, UNSENT_ATTACHMENT_TTL_MS,
};
use crate::server::db::{Db, Tx};
use crate::server::storage::{content_key, BlobStore};
use crate::with_tx;
use bytes::Bytes;

const ATTACHMENT_SELECT: &str =
    "SELECT a.id, a.room_id, a.message_id, a.name, a.mime, a.size_bytes, a.width, a.height, a.created_at \
     FROM chat_attachments a";

#[derive(sqlx::FromRow)]
struct AttachmentRow {
    id: i64,
    room_id: i64,
    message_id: Option<i64>,
    name: String,
    mime: String,
    size_bytes: i64,
    width: Option<i64>,
    height: Option<i64>,
    created_at: i64,
}

impl From<AttachmentRow> for Attachment {
    fn from(r: AttachmentRow) -> Self {
        Attachment {
            id: r.id,
            room_id: r.room_id,
            message_id: r.message_id,
            name: r.name,
            mime: r.mime,
            size_bytes: r.size_bytes,
            width: r.width.and_then(|w| u32::try_from(w).ok()),
            height: r.height.and_then(|h| u32::try_from(h).ok()),
            created_at: r.created_at,
        }
    }
}

/// Stores `bytes` as a file for `room`, named `name`, waiting to be sent by the caller. Refuses a
/// file over `max_bytes` (413), one whose bytes are not a PNG, JPEG, WebP, GIF or PDF (415), and a
/// caller with [`UNSENT_ATTACHMENTS_MAX`] files uploaded and not sent (429).
pub async fn upload_attachment(
    db: &Db,
    store: &dyn BlobStore,
    caller: &Caller,
    room: RoomId,
    name: &str,
    bytes: Bytes,
    max_bytes: u64,
) -> Result<Attachment, AppError> {
    let me = person(caller)?;
    let mut pooled = db.acquire().await?;
    let mut conn = pooled.conn();
    membership(&mut conn, room, me.id).await?;
    messages::refuse_archived(&mut conn, room).await?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large(max_bytes));
    }
    if bytes.is_empty() {
        return Err(AppError::validation("file", "That file is empty."));
    }
    let kind = infer::get(&bytes)
        .and_then(|t| AttachmentKind::from_mime(t.mime_type()))
        .ok_or_else(|| AppError::UnsupportedMediaType {
            message: "Attach an image (PNG, JPEG, WebP or GIF) or a PDF.".into(),
        })?;
    let (width, height) = if kind.is_image() {
        let size = imagesize::blob_size(&bytes).map_err(|_| AppError::UnsupportedMediaType {
            message: "That image could not be read; it may be damaged.".into(),
        })?;
        (Some(size.width as i64), Some(size.height as i64))
    } else {
        (None, None)
    };
    // A soft cap (two parallel uploads may both pass it): it bounds what an abandoned composer
    // leaves behind, not a security property.
    let unsent: i64 = with_conn!(&mut conn, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM chat_attachments WHERE uploader_id = $1 AND message_id IS NULL")
        .bind(me.id).fetch_one(&mut *c).await.map_err(internal)?);
    if unsent >= UNSENT_ATTACHMENTS_MAX {
        return Err(AppError::RateLimited {
            message: format!(
                "You have {unsent} files waiting to be sent. Send or remove some first."
            ),
            retry_after_secs: 60,
        });
    }
    let key = content_key(&bytes);
    let size = bytes.len() as i64;
    // The bytes first, outside any transaction (a large write must not hold SQLite's write lock)
    // and without a pooled connection held for it: once the row is visible, its file is there.
    drop(pooled);
    store
        .put(&key, bytes)
        .await
        .map_err(|e| AppError::internal(format_args!("storing attachment {key}: {e}")))?;
    let mut pooled = db.acquire().await?;
    let mut conn = pooled.conn();
    let row: AttachmentRow = with_conn!(&mut conn, c => sqlx::query_as(
        "INSERT INTO chat_attachments (room_id, uploader_id, sha256, name, mime, size_bytes, width, height, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         RETURNING id, room_id, message_id, name, mime, size_bytes, width, height, created_at")
        .bind(room).bind(me.id).bind(&key).bind(clean_name(name)).bind(kind.mime()).bind(size)
        .bind(width).bind(height).bind(crate::server::now_ms())
        .fetch_one(&mut *c).await.map_err(internal)?);
    Ok(row.into())
}

fn too_large(max_bytes: u64) -> AppError {
    AppError::PayloadTooLarge {
        message: format!(
            "Files are at most {}.",
            crate::chat::attachments::format_size(max_bytes as i64)
        ),
    }
}

/// Refuses more than [`ATTACHMENTS_PER_MESSAGE`] files or the same file twice in one message.
pub(super) fn validate_ids(ids: &[AttachmentId]) -> Result<(), AppError> {
    let mut seen = ids.to_vec();
    seen.sort_unstable();
    seen.dedup();
    if ids.len() > ATTACHMENTS_PER_MESSAGE || seen.len() != ids.len() {
        return Err(AppError::validation(
            "attachments",
            &format!("A message carries up to {ATTACHMENTS_PER_MESSAGE} different files."),
        ));
    }
    Ok(())
}

/// Gives message `message` the files `ids`, which `uploader` uploaded to `room` and has not sent;
/// answers them in that order. Any other id is a 422 (and the caller's transaction is dropped).
pub(super) async fn claim(
    tx: &mut Tx,
    room: RoomId,
    uploader: UserId,
    message: MessageId,
    ids: &[AttachmentId],
) -> Result<Vec<Attachment>, AppError> {
    let mut claimed = Vec::with_capacity(ids.len());
    for (position, id) in ids.iter().enumerate() {
        let row: Option<AttachmentRow> = with_tx!(&mut *tx, c => sqlx::query_as(
            "UPDATE chat_attachments SET message_id = $1, position = $2 \
             WHERE id = $3 AND room_id = $4 AND uploader_id = $5 AND message_id IS NULL \
             RETURNING id, room_id, message_id, name, mime, size_bytes, width, height, created_at")
            .bind(message).bind(position as i64).bind(id).bind(room).bind(uploader)
            .fetch_optional(&mut *c).await.map_err(internal)?);
        match row {
            Some(row) => claimed.push(row.into()),
            None => {
                return Err(AppError::validation(
                    "attachments",
                    "One of the files is not waiting to be sent in this room; upload it again.",
                ))
            }
        }
    }
    Ok(claimed)
}

/// The files of `room`'s messages with ids from `first` to `last` that are not deleted, by message.
pub(super) async fn attachments_between(
    conn: &mut Conn<'_>,
    room: RoomId,
    first: MessageId,
    last: MessageId,
) -> Result<HashMap<MessageId, Vec<Attachment>>, AppError> {
    let sql = format!(
        "{ATTACHMENT_SELECT} JOIN chat_messages m ON m.id = a.message_id \
         WHERE a.room_id = $1 AND a.message_id BETWEEN $2 AND $3 AND m.deleted_at IS NULL \
         ORDER BY a.message_id, a.position"
    );
    let rows: Vec<AttachmentRow> = with_conn!(conn, c => sqlx::query_as(&sql)
        .bind(room).bind(first).bind(last).fetch_all(&mut *c).await.map_err(internal)?);
    let mut by_message: HashMap<MessageId, Vec<Attachment>> = HashMap::new();
    for row in rows {
        let message = row.message_id.unwrap_or_default();
        by_message.entry(message).or_default().push(row.into());
    }
    Ok(by_message)
}

/// A file and its bytes for the caller: a member of its room, once it is sent (its message not
/// deleted), or its uploader before. 404 for anyone else.
pub async fn open_attachment(
    db: &Db,
    store: &dyn BlobStore,
    caller: &Caller,
    room: RoomId,
    id: AttachmentId,
) -> Result<(Attachment, String, Bytes), AppError> {
    let me = person(caller)?;
    let mut pooled = db.acquire().await?;
    let mut conn = pooled.conn();
    membership(&mut conn, room, me.id).await?;
    const SQL: &str =
        "SELECT a.sha256, a.id, a.room_id, a.message_id, a.name, a.mime, a.size_bytes, a.width, a.height, a.created_at \
         FROM chat_attachments a LEFT JOIN chat_messages m ON m.id = a.message_id \
         WHERE a.id = $1 AND a.room_id = $2 \
         AND ((a.message_id IS NOT NULL AND m.deleted_at IS NULL) OR (a.message_id IS NULL AND a.uploader_id = $3))";
    let found: Option<(String, AttachmentRow)> = with_conn!(&mut conn, c => {
        let row = sqlx::query(SQL).bind(id).bind(room).bind(me.id)
            .fetch_optional(&mut *c).await.map_err(internal)?;
        match row {
            None => None,
            Some(row) => {
                use sqlx::{FromRow, Row};
                let key: String = row.try_get("sha256").map_err(internal)?;
                Some((key, AttachmentRow::from_row(&row).map_err(internal)?))
            }
        }
    });
    drop(pooled);
    let Some((key, row)) = found else {
        return Err(AppError::not_found("attachment"));
    };
    let bytes = store
        .get(&key)
        .await
        .map_err(|e| AppError::internal(format_args!("reading attachment {key}: {e}")))?
        .ok_or_else(|| {
            AppError::internal(format_args!("attachment {id}'s file {key} is missing"))
        })?;
    Ok((row.into(), key, bytes))
}

/// Removes files never sent within [`UNSENT_ATTACHMENT_TTL_MS`] and the files of deleted messages,
/// then the stored bytes no file refers to any more. Answers how many files went.
pub async fn purge_attachments(db: &Db, store: &dyn BlobStore, now: i64) -> Result<u64, AppError> {
    let mut tx = db.begin().await?;
    let keys: Vec<String> = with_tx!(&mut tx, c => sqlx::query_scalar(
        "DELETE FROM chat_attachments WHERE (message_id IS NULL AND created_at < $1) \
         OR message_id IN (SELECT id FROM chat_messages WHERE deleted_at IS NOT NULL) RETURNING sha256")
        .bind(now - UNSENT_ATTACHMENT_TTL_MS).fetch_all(&mut *c).await.map_err(internal)?);
    tx.commit().await?;
    let removed = keys.len() as u64;
    let mut keys = keys;
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        // Another file may hold the same bytes (content addressing): keep them for it.
        let mut pooled = db.acquire().await?;
        let still: i64 = with_conn!(&mut pooled.conn(), c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM chat_attachments WHERE sha256 = $1")
            .bind(&key).fetch_one(&mut *c).await.map_err(internal)?);
        if still == 0 {
            store
                .delete(&key)
                .await
                .map_err(|e| AppError::internal(format_args!("removing attachment {key}: {e}")))?;
        }
    }
    Ok(removed)
}
