//! Notifications: delivering them (respecting mutes, once per dedupe key), the owner's inbox (snapshot,
//! pages, seen/read/delete/clear), preferences, and expiry. Every change to an inbox appends an event
//! with the new counts on `inbox:{id}`, in the change's own transaction, so every open tab follows.
//!
//! Only the owner reads or changes an inbox; admins and mentors may only send. This file holds what the
//! parts share: the row shape, the counts and the inbox event every change ends with.

mod deliver;
mod inbox;
mod preferences;

pub use deliver::*;
pub use inbox::*;
pub use preferences::*;

use crate::accounts::service::Caller;
use crate::accounts::users;
use crate::accounts::ApiScope;
use crate::events::DurableEvent;
use crate::model::{Millis, Role, UserId};
use crate::notifications::{
    self, Audience, InboxChange, InboxCounts, InboxEvent, InboxSnapshot, Kind, NewNotification,
    Notification, NotificationFilter, NotificationPage, Preferences, Priority,
};
use crate::protocol::{Position, Topic};
use crate::server::db::{internal, Conn, Db, Tx};
use crate::server::idempotency::{self, Claim, Key};
use crate::server::realtime::{log, Change, Hub};
use crate::{with_conn, with_db, with_tx, AppError, FieldError};

const SELECT: &str =
    "SELECT n.id, n.kind, n.priority, n.title, n.message, n.link, s.display_name AS sender_name, \
     n.created_at, n.expires_at, n.seen_at, n.read_at FROM notifications n \
     LEFT JOIN users s ON s.id = n.sender_id";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    kind: String,
    priority: String,
    title: String,
    message: String,
    link: Option<String>,
    sender_name: Option<String>,
    created_at: i64,
    expires_at: Option<i64>,
    seen_at: Option<i64>,
    read_at: Option<i64>,
}

impl Row {
    fn into_notification(self) -> Notification {
        Notification {
            id: self.id,
            kind: Kind::parse(&self.kind).unwrap_or(Kind::System),
            priority: Priority::parse(&self.priority).unwrap_or(Priority::Normal),
            title: self.title,
            message: self.message,
            link: self.link,
            sender_name: self.sender_name,
            created_at: self.created_at,
            expires_at: self.expires_at,
            seen_at: self.seen_at,
            read_at: self.read_at,
        }
    }
}

pub async fn counts(
    conn: &mut Conn<'_>,
    user: UserId,
    now: Millis,
) -> Result<InboxCounts, AppError> {
    let (total, unseen, unread): (i64, i64, i64) = with_conn!(conn, c => sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN seen_at IS NULL THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN read_at IS NULL THEN 1 ELSE 0 END), 0) FROM notifications \
         WHERE user_id = $1 AND (expires_at IS NULL OR expires_at > $2)")
        .bind(user).bind(now).fetch_one(&mut *c).await.map_err(internal)?);
    Ok(InboxCounts {
        unseen,
        unread,
        total,
    })
}

/// Emits an inbox event for `user` carrying the counts after the change; returns the counts.
async fn inbox_event(
    change: &mut Change<'_>,
    user: UserId,
    what: InboxChange,
) -> Result<InboxCounts, AppError> {
    let now = change.now();
    let counts = counts(&mut change.conn(), user, now).await?;
    let event = DurableEvent::inbox(InboxEvent {
        change: what,
        counts,
    });
    change.emit(Topic::Inbox(user), &event).await?;
    Ok(counts)
}

/// Ends an inbox change: emits its event with the counts after it, commits and publishes.
async fn commit_change(
    mut change: Change<'_>,
    user: UserId,
    what: InboxChange,
) -> Result<InboxCounts, AppError> {
    let counts = inbox_event(&mut change, user, what).await?;
    change.commit().await?;
    Ok(counts)
}

fn owner(caller: &Caller) -> Result<UserId, AppError> {
    caller.require_scope(ApiScope::NotificationsRead)?;
    Ok(caller.user.id)
}
