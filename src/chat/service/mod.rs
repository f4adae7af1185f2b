//! Chat's service: rooms and their members (`rooms`), study groups (`groups`), search (`search`),
//! notifications for direct messages and mentions (`alerts`), messages and reactions (`messages`),
//! files (`attachments`), read positions (`reads`), and rendering (`render`). Every write is one [`Change`]: rows, then events on
//! `room:{id}` (and on a member's `user:{id}` when they join or leave), committed, then published.
//!
//! Only members read or write a room, admins included (a direct room is private to its two people);
//! who may be put in a room with whom is [`crate::chat::rules::may_talk`]. A room the caller is not a
//! member of answers 404, as if it did not exist. This file holds what the parts share: the caller
//! check, membership, and loading messages and rooms.

mod alerts;
mod attachments;
mod groups;
mod messages;
mod reads;
mod render;
mod rooms;
mod search;

pub use alerts::ALERT_WINDOW_MS;
pub use attachments::{open_attachment, purge_attachments, upload_attachment};
pub use groups::*;
pub use messages::*;
pub use reads::*;
pub use render::html as render_html;
pub use rooms::*;
pub use search::*;

use crate::accounts::service::Caller;
use crate::chat::rules::Party;
use crate::chat::{
    Author, MemberRole, Message, MessageId, Quote, Reaction, Room, RoomId, RoomKind, RoomSummary,
};
use crate::model::{Role, User, UserId};
use crate::server::db::{internal, Conn};
use crate::{with_conn, AppError};
use std::collections::HashMap;

/// Chat's limits, from the server's configuration (the same for every adapter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatSettings {
    /// Messages one user may send in a minute.
    pub messages_per_minute: u32,
    /// The largest file one may attach, in bytes.
    pub attachment_max_bytes: u64,
}

/// What chat needs from the server beyond the database and the hub: its limits and where its files
/// go. Behind one `Arc` in `Services`, whose copy every open socket holds (so it stays one pointer).
pub struct ChatServices {
    pub settings: ChatSettings,
    pub files: Box<dyn crate::server::storage::BlobStore>,
}

impl std::fmt::Debug for ChatServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatServices")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Default for ChatSettings {
    fn default() -> Self {
        ChatSettings {
            messages_per_minute: crate::chat::MESSAGES_PER_MINUTE,
            attachment_max_bytes: crate::chat::attachments::ATTACHMENT_MAX_BYTES,
        }
    }
}

/// The caller as a chat user: a person signed in with a session (API tokens do not chat).
fn person(caller: &Caller) -> Result<&User, AppError> {
    if caller.scopes.is_some() || caller.user.disabled {
        Err(AppError::Forbidden)
    } else {
        Ok(&caller.user)
    }
}

/// `user`'s standing in `room`, or 404 when they are not a member.
async fn membership(
    conn: &mut Conn<'_>,
    room: RoomId,
    user: UserId,
) -> Result<MemberRole, AppError> {
    let role: Option<String> = with_conn!(conn, c => sqlx::query_scalar(
        "SELECT role FROM chat_members WHERE room_id = $1 AND user_id = $2")
        .bind(room).bind(user).fetch_optional(&mut *c).await.map_err(internal)?);
    role.as_deref()
        .and_then(MemberRole::parse)
        .ok_or_else(|| AppError::not_found("room"))
}

/// What [`crate::chat::rules::may_talk`] needs about `user`; `None` if there is no such user.
async fn party(conn: &mut Conn<'_>, user: UserId) -> Result<Option<Party>, AppError> {
    let row: Option<(String, Option<i64>, Option<i64>)> = with_conn!(conn, c => sqlx::query_as(
        "SELECT role, disabled_at, cohort_id FROM users WHERE id = $1")
        .bind(user).fetch_optional(&mut *c).await.map_err(internal)?);
    let Some((role, disabled, cohort)) = row else {
        return Ok(None);
    };
    let role = Role::parse(&role);
    let (mentoring, cohorts): (Vec<i64>, Vec<i64>) = match role {
        Some(Role::Mentor) => with_conn!(conn, c => {
            let students = sqlx::query_scalar(
                "SELECT student_id FROM mentor_assignments WHERE mentor_id = $1")
                .bind(user).fetch_all(&mut *c).await.map_err(internal)?;
            let cohorts = sqlx::query_scalar(
                "SELECT DISTINCT u.cohort_id FROM mentor_assignments m JOIN users u ON u.id = m.student_id \
                 WHERE m.mentor_id = $1 AND u.cohort_id IS NOT NULL")
                .bind(user).fetch_all(&mut *c).await.map_err(internal)?;
            (students, cohorts)
        }),
        _ => with_conn!(conn, c => {
            let mentors = sqlx::query_scalar(
                "SELECT mentor_id FROM mentor_assignments WHERE student_id = $1")
                .bind(user).fetch_all(&mut *c).await.map_err(internal)?;
            (mentors, cohort.into_iter().collect())
        }),
    };
    let groups: Vec<i64> = with_conn!(conn, c => sqlx::query_scalar(
        "SELECT m.room_id FROM chat_members m JOIN chat_rooms r ON r.id = m.room_id \
         WHERE m.user_id = $1 AND r.kind = 'group' AND r.archived_at IS NULL")
        .bind(user).fetch_all(&mut *c).await.map_err(internal)?);
    Ok(Some(Party {
        id: user,
        role: role.filter(|_| disabled.is_none()),
        cohorts,
        mentoring,
        groups,
    }))
}

/// Whether `a` and `b` exist and may talk ([`crate::chat::rules::may_talk`]).
async fn may_talk_between(conn: &mut Conn<'_>, a: UserId, b: UserId) -> Result<bool, AppError> {
    Ok(match (party(conn, a).await?, party(conn, b).await?) {
        (Some(a), Some(b)) => crate::chat::rules::may_talk(&a, &b),
        _ => false,
    })
}

const MESSAGE_SELECT: &str =
    "SELECT m.id, m.room_id, m.author_id, a.display_name AS author_name, m.client_id, m.body, m.html, \
     m.reply_to, qa.display_name AS quote_author, q.body AS quote_body, q.deleted_at AS quote_deleted_at, \
     m.created_at, m.edited_at, m.deleted_at, m.log_offset \
     FROM chat_messages m LEFT JOIN users a ON a.id = m.author_id \
     LEFT JOIN chat_messages q ON q.id = m.reply_to LEFT JOIN users qa ON qa.id = q.author_id";

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: i64,
    room_id: i64,
    author_id: Option<i64>,
    author_name: Option<String>,
    client_id: String,
    body: String,
    html: String,
    reply_to: Option<i64>,
    quote_author: Option<String>,
    quote_body: Option<String>,
    quote_deleted_at: Option<i64>,
    created_at: i64,
    edited_at: Option<i64>,
    deleted_at: Option<i64>,
    log_offset: i64,
}

impl MessageRow {
    fn into_message(
        self,
        reactions: Vec<Reaction>,
        attachments: Vec<crate::chat::attachments::Attachment>,
    ) -> Message {
        Message {
            id: self.id,
            room_id: self.room_id,
            author: self.author_id.map(|id| Author {
                id,
                display_name: self.author_name.unwrap_or_default(),
            }),
            client_id: self.client_id,
            body: self.body,
            html: self.html,
            reply_to: self.reply_to.map(|id| Quote {
                id,
                author_name: self.quote_author,
                excerpt: crate::chat::excerpt(self.quote_body.as_deref().unwrap_or("")),
                deleted: self.quote_deleted_at.is_some(),
            }),
            created_at: self.created_at,
            edited_at: self.edited_at,
            deleted_at: self.deleted_at,
            reactions,
            attachments,
            offset: self.log_offset,
        }
    }
}

/// The reactions to `room`'s messages with ids from `first` to `last`, by message.
async fn reactions_between(
    conn: &mut Conn<'_>,
    room: RoomId,
    first: MessageId,
    last: MessageId,
) -> Result<HashMap<MessageId, Vec<Reaction>>, AppError> {
    let rows: Vec<(i64, String, i64, String)> = with_conn!(conn, c => sqlx::query_as(
        "SELECT r.message_id, r.emoji, r.user_id, u.display_name FROM chat_reactions r \
         JOIN chat_messages m ON m.id = r.message_id JOIN users u ON u.id = r.user_id \
         WHERE m.room_id = $1 AND r.message_id BETWEEN $2 AND $3 \
         ORDER BY r.message_id, r.created_at, r.user_id")
        .bind(room).bind(first).bind(last).fetch_all(&mut *c).await.map_err(internal)?);
    let mut by_message: HashMap<MessageId, Vec<Reaction>> = HashMap::new();
    for (message, emoji, user, name) in rows {
        let reactions = by_message.entry(message).or_default();
        let author = Author {
            id: user,
            display_name: name,
        };
        match reactions.iter_mut().find(|r| r.emoji == emoji) {
            Some(r) => r.users.push(author),
            None => reactions.push(Reaction {
                emoji,
                users: vec![author],
            }),
        }
    }
    // The picker's order, whatever order people reacted in.
    for reactions in by_message.values_mut() {
        reactions.sort_by_key(|r| crate::chat::REACTIONS.iter().position(|e| *e == r.emoji));
    }
    Ok(by_message)
}

/// `room`'s messages that `filter` (a `WHERE` continuation on `m`, parameters from `$2`) selects,
/// newest first, with their reactions. `bind` binds those parameters.
async fn messages_where(
    conn: &mut Conn<'_>,
    room: RoomId,
    filter: &str,
    params: &[i64],
) -> Result<Vec<Message>, AppError> {
    let sql = format!("{MESSAGE_SELECT} WHERE m.room_id = $1 {filter}");
    let rows: Vec<MessageRow> = with_conn!(conn, c => {
        let mut q = sqlx::query_as(&sql).bind(room);
        for p in params {
            q = q.bind(*p);
        }
        q.fetch_all(&mut *c).await.map_err(internal)?
    });
    let (Some(first), Some(last)) = (
        rows.iter().map(|r| r.id).min(),
        rows.iter().map(|r| r.id).max(),
    ) else {
        return Ok(Vec::new());
    };
    let mut reactions = reactions_between(conn, room, first, last).await?;
    let mut files = attachments::attachments_between(conn, room, first, last).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mine = reactions.remove(&r.id).unwrap_or_default();
            let attached = files.remove(&r.id).unwrap_or_default();
            r.into_message(mine, attached)
        })
        .collect())
}

/// One message of `room`, or 404.
async fn message(conn: &mut Conn<'_>, room: RoomId, id: MessageId) -> Result<Message, AppError> {
    messages_where(conn, room, "AND m.id = $2", &[id])
        .await?
        .pop()
        .ok_or_else(|| AppError::not_found("message"))
}

const SUMMARY_SELECT: &str =
    "SELECT r.id, r.kind, r.name, r.description, r.cohort_id, r.created_at, r.last_message_at, \
     r.archived_at, cm.role, cm.muted, cm.last_read_id, \
     (SELECT COUNT(*) FROM chat_messages m WHERE m.room_id = r.id AND m.id > cm.last_read_id \
      AND m.deleted_at IS NULL AND (m.author_id IS NULL OR m.author_id <> cm.user_id)) AS unread, \
     p.id AS peer_id, p.display_name AS peer_name \
     FROM chat_members cm JOIN chat_rooms r ON r.id = cm.room_id \
     LEFT JOIN chat_members pm ON r.kind = 'direct' AND pm.room_id = r.id AND pm.user_id <> cm.user_id \
     LEFT JOIN users p ON p.id = pm.user_id \
     WHERE cm.user_id = $1";

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    kind: String,
    name: String,
    description: String,
    cohort_id: Option<i64>,
    created_at: i64,
    last_message_at: Option<i64>,
    archived_at: Option<i64>,
    role: String,
    muted: bool,
    last_read_id: i64,
    unread: i64,
    peer_id: Option<i64>,
    peer_name: Option<String>,
}

impl SummaryRow {
    fn into_summary(self) -> RoomSummary {
        let peer = self.peer_id.map(|id| Author {
            id,
            display_name: self.peer_name.clone().unwrap_or_default(),
        });
        let kind = RoomKind::parse(&self.kind).unwrap_or(RoomKind::Channel);
        RoomSummary {
            room: Room {
                id: self.id,
                kind,
                name: match (&peer, kind) {
                    (Some(p), RoomKind::Direct) => p.display_name.clone(),
                    _ => self.name,
                },
                description: self.description,
                cohort_id: self.cohort_id,
                peer,
                created_at: self.created_at,
                last_message_at: self.last_message_at,
                archived: self.archived_at.is_some(),
            },
            role: MemberRole::parse(&self.role).unwrap_or(MemberRole::Member),
            muted: self.muted,
            last_read_id: self.last_read_id,
            unread: self.unread,
        }
    }
}

/// `user`'s rooms (one when `room` is given), newest activity first.
async fn summaries(
    conn: &mut Conn<'_>,
    user: UserId,
    room: Option<RoomId>,
) -> Result<Vec<RoomSummary>, AppError> {
    let sql = format!(
        "{SUMMARY_SELECT}{} ORDER BY COALESCE(r.last_message_at, r.created_at) DESC, r.id DESC",
        if room.is_some() { " AND r.id = $2" } else { "" }
    );
    let rows: Vec<SummaryRow> = with_conn!(conn, c => {
        let mut q = sqlx::query_as(&sql).bind(user);
        if let Some(room) = room {
            q = q.bind(room);
        }
        q.fetch_all(&mut *c).await.map_err(internal)?
    });
    Ok(rows.into_iter().map(SummaryRow::into_summary).collect())
}

/// `user`'s summary of one room, or 404 when they are not a member.
async fn summary(conn: &mut Conn<'_>, user: UserId, room: RoomId) -> Result<RoomSummary, AppError> {
    summaries(conn, user, Some(room))
        .await?
        .pop()
        .ok_or_else(|| AppError::not_found("room"))
}
