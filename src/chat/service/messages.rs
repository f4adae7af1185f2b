//! Messages: sending (once per client-chosen id, within the per-minute limit, with the files it
//! takes, notifying as `alerts` says), editing within the window, deleting to a tombstone (its files
//! go with its text), toggling reactions, and reading history a page at a time.

use super::*;
use crate::chat::{
    validate_body, validate_client_id, validate_reaction, MessagePage, NewMessage,
    ReactionsChanged, EDIT_WINDOW_MS, HISTORY_PAGE, MESSAGES_PER_MINUTE,
};
use crate::events::DurableEvent;
use crate::protocol::Topic;
use crate::server::db::Db;
use crate::server::realtime::{Change, Hub};
use crate::with_tx;

/// The largest history page a client may ask for.
pub const HISTORY_PAGE_MAX: i64 = 100;

/// Posts a message to `room`. A repeat of the same `client_id` by the same author answers the message
/// the first one made and changes nothing, so a client may retry a send it never heard back from.
pub async fn send(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    room: RoomId,
    input: &NewMessage,
) -> Result<Message, AppError> {
    send_limited(db, hub, caller, room, input, MESSAGES_PER_MINUTE).await
}

/// [`send`] with the server's configured per-minute limit.
pub async fn send_limited(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    room: RoomId,
    input: &NewMessage,
    per_minute: u32,
) -> Result<Message, AppError> {
    let me = person(caller)?;
    validate_client_id(&input.client_id)?;
    super::attachments::validate_ids(&input.attachments)?;
    // A message of files alone may have no text.
    let body = if input.attachments.is_empty() || !input.body.trim().is_empty() {
        validate_body(&input.body)?
    } else {
        String::new()
    };
    let mut change = Change::begin(db, hub).await?;
    let now = change.now();
    membership(&mut change.conn(), room, me.id).await?;
    if let Some(first) = sent_before(&mut change.conn(), room, me.id, &input.client_id).await? {
        return message(&mut change.conn(), room, first).await;
    }
    let (kind, room_name) = refuse_archived(&mut change.conn(), room).await?;
    limit(change.tx(), me.id, now, per_minute).await?;
    // The quoted message, which must be in this room (also what the reply shows of it).
    let quote = match input.reply_to {
        None => None,
        Some(reply) => {
            let found: Option<(Option<String>, String, Option<i64>)> = with_tx!(change.tx(), c => sqlx::query_as(
                "SELECT a.display_name, q.body, q.deleted_at FROM chat_messages q \
                 LEFT JOIN users a ON a.id = q.author_id WHERE q.id = $1 AND q.room_id = $2")
                .bind(reply).bind(room).fetch_optional(&mut *c).await.map_err(internal)?);
            let Some((author_name, quoted, deleted_at)) = found else {
                return Err(AppError::validation(
                    "reply_to",
                    "The message you are answering is not in this room.",
                ));
            };
            Some(Quote {
                id: reply,
                author_name,
                excerpt: crate::chat::excerpt(&quoted),
                deleted: deleted_at.is_some(),
            })
        }
    };
    let html = render::html(&body);
    let inserted: Option<i64> = with_tx!(change.tx(), c => sqlx::query_scalar(
        "INSERT INTO chat_messages (room_id, author_id, client_id, body, html, reply_to, created_at, log_offset) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0) \
         ON CONFLICT (room_id, author_id, client_id) DO NOTHING RETURNING id")
        .bind(room).bind(me.id).bind(&input.client_id).bind(&body).bind(&html).bind(input.reply_to).bind(now)
        .fetch_optional(&mut *c).await.map_err(internal)?);
    let Some(id) = inserted else {
        // A concurrent retry of the same send committed first (PostgreSQL waited for it): answer its message.
        let first = sent_before(&mut change.conn(), room, me.id, &input.client_id)
            .await?
            .ok_or_else(|| AppError::internal("a conflicting chat message vanished"))?;
        return message(&mut change.conn(), room, first).await;
    };
    let attachments =
        super::attachments::claim(change.tx(), room, me.id, id, &input.attachments).await?;
    with_tx!(change.tx(), c => {
        sqlx::query("UPDATE chat_rooms SET last_message_at = $2 WHERE id = $1")
            .bind(room).bind(now).execute(&mut *c).await.map_err(internal)?;
        // One's own message is read.
        sqlx::query("UPDATE chat_members SET last_read_id = $3 WHERE room_id = $1 AND user_id = $2 AND last_read_id < $3")
            .bind(room).bind(me.id).bind(id).execute(&mut *c).await.map_err(internal)?;
    });
    // Built from what was just written rather than read back: a new message has no reactions yet.
    let mut posted = Message {
        id,
        room_id: room,
        author: Some(Author {
            id: me.id,
            display_name: me.display_name.clone(),
        }),
        client_id: input.client_id.clone(),
        body,
        html,
        reply_to: quote,
        created_at: now,
        edited_at: None,
        deleted_at: None,
        reactions: Vec::new(),
        attachments,
        offset: 0,
    };
    let offset = change
        .emit_with(Topic::Room(room), |offset| {
            posted.offset = offset;
            DurableEvent::ChatMessagePosted(posted.clone())
        })
        .await?
        .offset;
    with_tx!(change.tx(), c => sqlx::query("UPDATE chat_messages SET log_offset = $2 WHERE id = $1")
        .bind(id).bind(offset).execute(&mut *c).await.map(|_| ()).map_err(internal)?);
    super::alerts::notify(&mut change, hub, kind, &room_name, &posted).await?;
    change.commit().await?;
    Ok(posted)
}

/// The message `author` already sent to `room` with `client_id`, if any.
async fn sent_before(
    conn: &mut Conn<'_>,
    room: RoomId,
    author: UserId,
    client_id: &str,
) -> Result<Option<MessageId>, AppError> {
    with_conn!(conn, c => sqlx::query_scalar(
        "SELECT id FROM chat_messages WHERE room_id = $1 AND author_id = $2 AND client_id = $3")
        .bind(room).bind(author).bind(client_id).fetch_optional(&mut *c).await.map_err(internal))
}

/// An archived room keeps its history but takes no new messages, edits or reactions. Answers the
/// room's kind and name, which a send's notifications need (one read for both).
pub(super) async fn refuse_archived(
    conn: &mut Conn<'_>,
    room: RoomId,
) -> Result<(RoomKind, String), AppError> {
    let (archived, kind, name): (Option<i64>, String, String) = with_conn!(conn, c => sqlx::query_as(
        "SELECT archived_at, kind, name FROM chat_rooms WHERE id = $1")
        .bind(room).fetch_one(&mut *c).await.map_err(internal)?);
    if archived.is_some() {
        return Err(AppError::Conflict {
            message: "This room is archived: its history stays, but nothing new can be added."
                .into(),
        });
    }
    let kind = RoomKind::parse(&kind)
        .ok_or_else(|| AppError::internal(format_args!("room kind {kind:?}")))?;
    Ok((kind, name))
}

/// Refuses a send past `per_minute` messages in the last minute. The sender's row is locked first on
/// PostgreSQL so parallel sends queue instead of all passing the count.
async fn limit(
    tx: &mut crate::server::db::Tx,
    author: UserId,
    now: i64,
    per_minute: u32,
) -> Result<(), AppError> {
    let lock = format!(
        "SELECT id FROM users WHERE id = $1{}",
        tx.backend().for_update()
    );
    let since = now - 60_000;
    let oldest: Option<i64> = with_tx!(&mut *tx, c => {
        sqlx::query(&lock).bind(author).execute(&mut *c).await.map_err(internal)?;
        let (count, oldest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(created_at) FROM chat_messages WHERE author_id = $1 AND created_at > $2")
            .bind(author).bind(since).fetch_one(&mut *c).await.map_err(internal)?;
        if count < i64::from(per_minute) { None } else { oldest }
    });
    match oldest {
        None => Ok(()),
        Some(oldest) => {
            let retry = ((oldest + 60_000 - now).max(1_000) as u64).div_ceil(1000);
            Err(AppError::RateLimited {
                message: format!(
                    "You can send {per_minute} messages a minute. Try again in {retry} seconds; your message is kept."
                ),
                retry_after_secs: retry,
            })
        }
    }
}

/// Replaces the text of the caller's own message, within [`EDIT_WINDOW_MS`] of sending it.
pub async fn edit(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    room: RoomId,
    id: MessageId,
    body: &str,
) -> Result<Message, AppError> {
    let me = person(caller)?;
    let body = validate_body(body)?;
    let mut change = Change::begin(db, hub).await?;
    let now = change.now();
    membership(&mut change.conn(), room, me.id).await?;
    refuse_archived(&mut change.conn(), room).await?;
    let old = message(&mut change.conn(), room, id).await?;
    if old.author.as_ref().map(|a| a.id) != Some(me.id) {
        return Err(AppError::Forbidden);
    }
    if old.deleted_at.is_some() {
        return Err(AppError::Conflict {
            message: "This message was deleted.".into(),
        });
    }
    if now - old.created_at > EDIT_WINDOW_MS {
        return Err(AppError::Conflict {
            message: "Messages can be edited for 15 minutes after sending.".into(),
        });
    }
    if old.body == body {
        return Ok(old);
    }
    let html = render::html(&body);
    with_tx!(change.tx(), c => sqlx::query(
        "UPDATE chat_messages SET body = $2, html = $3, edited_at = $4 WHERE id = $1")
        .bind(id).bind(&body).bind(&html).bind(now).execute(&mut *c).await.map(|_| ()).map_err(internal)?);
    let edited = message(&mut change.conn(), room, id).await?;
    change
        .emit(
            Topic::Room(room),
            &DurableEvent::ChatMessageEdited(edited.clone()),
        )
        .await?;
    change.commit().await?;
    Ok(edited)
}

/// Deletes a message to a tombstone (its text and reactions go, its place in history stays): the
/// author's own, or anyone's by the room's moderators. Deleting a tombstone again changes nothing.
pub async fn delete(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    room: RoomId,
    id: MessageId,
) -> Result<Message, AppError> {
    let me = person(caller)?;
    let mut change = Change::begin(db, hub).await?;
    let now = change.now();
    let role = membership(&mut change.conn(), room, me.id).await?;
    let old = message(&mut change.conn(), room, id).await?;
    let own = old.author.as_ref().map(|a| a.id) == Some(me.id);
    if !own && !role.moderates() {
        return Err(AppError::Forbidden);
    }
    if old.deleted_at.is_some() {
        return Ok(old);
    }
    with_tx!(change.tx(), c => {
        sqlx::query("UPDATE chat_messages SET body = '', html = '', deleted_at = $2, deleted_by = $3 WHERE id = $1")
            .bind(id).bind(now).bind(me.id).execute(&mut *c).await.map_err(internal)?;
        sqlx::query("DELETE FROM chat_reactions WHERE message_id = $1")
            .bind(id).execute(&mut *c).await.map_err(internal)?;
    });
    let tombstone = message(&mut change.conn(), room, id).await?;
    change
        .emit(
            Topic::Room(room),
            &DurableEvent::ChatMessageDeleted(tombstone.clone()),
        )
        .await?;
    change.commit().await?;
    Ok(tombstone)
}

/// Adds the caller's `emoji` reaction to a message, or takes it back if it was there; answers the
/// message's reactions after the change.
pub async fn toggle_reaction(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    room: RoomId,
    id: MessageId,
    emoji: &str,
) -> Result<Vec<Reaction>, AppError> {
    let me = person(caller)?;
    validate_reaction(emoji)?;
    let mut change = Change::begin(db, hub).await?;
    let now = change.now();
    membership(&mut change.conn(), room, me.id).await?;
    refuse_archived(&mut change.conn(), room).await?;
    // Reactions to one room's messages are counted one change after another, so each event carries
    // the totals after every earlier toggle.
    change.lock(Topic::Room(room)).await?;
    let target = message(&mut change.conn(), room, id).await?;
    if target.deleted_at.is_some() {
        return Err(AppError::Conflict {
            message: "This message was deleted.".into(),
        });
    }
    with_tx!(change.tx(), c => {
        let removed = sqlx::query("DELETE FROM chat_reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3")
            .bind(id).bind(me.id).bind(emoji).execute(&mut *c).await.map_err(internal)?.rows_affected();
        if removed == 0 {
            sqlx::query("INSERT INTO chat_reactions (message_id, user_id, emoji, created_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (message_id, user_id, emoji) DO NOTHING")
                .bind(id).bind(me.id).bind(emoji).bind(now).execute(&mut *c).await.map_err(internal)?;
        }
    });
    let reactions = reactions_between(&mut change.conn(), room, id, id)
        .await?
        .remove(&id)
        .unwrap_or_default();
    let changed = DurableEvent::ChatReactionsChanged(ReactionsChanged {
        message_id: id,
        reactions: reactions.clone(),
    });
    change.emit(Topic::Room(room), &changed).await?;
    change.commit().await?;
    Ok(reactions)
}

/// A page of `room`'s history, newest first: the messages before `before` (the newest when `None`),
/// at most `limit` (default [`HISTORY_PAGE`], at most [`HISTORY_PAGE_MAX`]).
pub async fn history(
    db: &Db,
    caller: &Caller,
    room: RoomId,
    before: Option<MessageId>,
    limit: Option<i64>,
) -> Result<MessagePage, AppError> {
    let me = person(caller)?;
    let limit = limit.unwrap_or(HISTORY_PAGE);
    if !(1..=HISTORY_PAGE_MAX).contains(&limit) {
        return Err(AppError::validation(
            "limit",
            &format!("A page holds 1 to {HISTORY_PAGE_MAX} messages."),
        ));
    }
    let mut pooled = db.acquire().await?;
    let mut conn = pooled.conn();
    membership(&mut conn, room, me.id).await?;
    page(&mut conn, room, before, limit).await
}

/// The page [`history`] answers, for a member already checked.
pub(super) async fn page(
    conn: &mut Conn<'_>,
    room: RoomId,
    before: Option<MessageId>,
    limit: i64,
) -> Result<MessagePage, AppError> {
    let mut messages = messages_where(
        conn,
        room,
        "AND m.id < $2 ORDER BY m.id DESC LIMIT $3",
        &[before.unwrap_or(i64::MAX), limit + 1],
    )
    .await?;
    let older = if messages.len() as i64 > limit {
        messages.truncate(limit as usize);
        messages.last().map(|m| m.id)
    } else {
        None
    };
    Ok(MessagePage { messages, older })
}
