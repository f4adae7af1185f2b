//! Notifications from chat: a direct message, or a mention, reaches its recipient through the
//! notification system when they are not online (not subscribed to the room on this node: every
//! page of the web app follows every room of its user, so an online person sees the message and the
//! navigation's count live instead). At most one per recipient and room every
//! [`ALERT_WINDOW_MS`] (a dedupe key per window), never for a muted room, never to the author.

use super::*;
use crate::chat::mentions::mentioned;
use crate::model::Millis;
use crate::notifications::service::{deliver, Item};
use crate::notifications::{Kind, Priority};
use crate::protocol::Topic;
use crate::server::realtime::{Change, Hub};
use crate::with_tx;

/// One notification per recipient and room within this long.
pub const ALERT_WINDOW_MS: Millis = 5 * 60 * 1000;
/// Most people one message can notify by mentioning them.
const MENTIONS_MAX: usize = 20;

/// Notifies, in `change`, those `posted` (just written to `room`) is for: the other person of a
/// direct room, the members it mentions elsewhere.
pub(super) async fn notify(
    change: &mut Change<'_>,
    hub: &Hub,
    kind: RoomKind,
    room_name: &str,
    posted: &Message,
) -> Result<(), AppError> {
    let room = posted.room_id;
    let Some(author) = posted.author.as_ref() else {
        return Ok(());
    };
    let direct = kind == RoomKind::Direct;
    if !direct && !posted.body.contains('@') {
        // Nobody named: a big room's message costs no member list.
        return Ok(());
    }
    let members: Vec<(i64, String, bool)> = with_tx!(change.tx(), c => sqlx::query_as(
        "SELECT u.id, u.display_name, m.muted FROM chat_members m JOIN users u ON u.id = m.user_id \
         WHERE m.room_id = $1 AND u.disabled_at IS NULL")
        .bind(room).fetch_all(&mut *c).await.map_err(internal)?);
    let recipients: Vec<UserId> = if direct {
        members
            .iter()
            .map(|m| m.0)
            .filter(|id| *id != author.id)
            .collect()
    } else {
        let people: Vec<Author> = members
            .iter()
            .map(|(id, display_name, _)| Author {
                id: *id,
                display_name: display_name.clone(),
            })
            .collect();
        let mut named = mentioned(&posted.body, &people);
        named.retain(|id| *id != author.id);
        named.truncate(MENTIONS_MAX);
        named
    };
    let window = change.now() / ALERT_WINDOW_MS;
    for user in recipients {
        let muted = members.iter().any(|m| m.0 == user && m.2);
        if muted || hub.is_present(Topic::Room(room), user) {
            continue;
        }
        let title = if direct {
            format!("{} wrote to you", author.display_name)
        } else {
            format!("{} mentioned you in {room_name}", author.display_name)
        };
        let item = Item {
            kind: Kind::Social,
            priority: Priority::Normal,
            title,
            message: what_was_sent(posted),
            link: Some(format!("/chat/{room}?message={}", posted.id)),
            expires_at: None,
            sender_id: Some(author.id),
            dedupe_key: Some(format!("chat:{room}:{window}")),
        };
        deliver(change, user, &item).await?;
    }
    Ok(())
}

/// The notification's text: the message's start, or for files alone their names.
fn what_was_sent(posted: &Message) -> String {
    if posted.body.trim().is_empty() {
        let names: Vec<&str> = posted.attachments.iter().map(|a| a.name.as_str()).collect();
        crate::chat::excerpt(&format!("📎 {}", names.join(", ")))
    } else {
        crate::chat::excerpt(&posted.body)
    }
}
