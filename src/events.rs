//! Every durable event the server writes, name and payload in one enum, shared by the server (which
//! appends a value of it to a topic's log) and the browser (which applies it to the snapshot it
//! follows through [`Follow`]).
//!
//! On the wire an event stays a name and a JSON `data` (docs/PROTOCOL.md): [`DurableEvent::name`] and
//! [`DurableEvent::data`] give them, [`DurableEvent::decode`] reads them back. A new kind is a new
//! variant here; every [`Follow`] implementation then fails to compile until it says what the kind
//! means for its snapshot (often nothing, but said).

use crate::announcements::Announcement;
use crate::chat::groups::RoomChanged;
use crate::chat::{Message, ReactionsChanged, ReadMark, RoomLeft, RoomSummary};
use crate::feed::Activity;
use crate::learning::{LearningChanged, SystemFigures};
use crate::notifications::{InboxChange, InboxEvent};
use serde::{Deserialize, Serialize};

/// The payload of an event that names only what went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removed {
    pub id: i64,
}

/// A durable event: what the server appends and a client applies. Adjacently tagged, so its JSON is
/// `{"event": <name>, "data": <payload>}`, the two fields of a protocol `event` message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", content = "data")]
pub enum DurableEvent {
    /// On `announcements`: a new one, carrying its own log offset.
    #[serde(rename = "announcement.created")]
    AnnouncementCreated(Announcement),
    /// On `announcements`: an admin edited one; the whole announcement, its `offset` still that of
    /// its `announcement.created` (its place in the list does not change).
    #[serde(rename = "announcement.updated")]
    AnnouncementUpdated(Announcement),
    /// On `announcements`: an admin deleted one.
    #[serde(rename = "announcement.deleted")]
    AnnouncementDeleted(Removed),
    /// On `user:{id}`: the student's log changed; what changed and the new figures.
    #[serde(rename = "learning.changed")]
    LearningChanged(LearningChanged),
    /// On `user:{id}` (the actor's stream) and `role:admin`.
    #[serde(rename = "activity.created")]
    ActivityCreated(Activity),
    /// On `inbox:{id}`: the six inbox events carry the same payload, named by its change (see
    /// [`DurableEvent::inbox`]).
    #[serde(rename = "notification.created")]
    NotificationCreated(InboxEvent),
    #[serde(rename = "notifications.marked")]
    NotificationsMarked(InboxEvent),
    #[serde(rename = "notifications.deleted")]
    NotificationsDeleted(InboxEvent),
    #[serde(rename = "notifications.cleared")]
    NotificationsCleared(InboxEvent),
    #[serde(rename = "notifications.expired")]
    NotificationsExpired(InboxEvent),
    #[serde(rename = "preferences.changed")]
    PreferencesChanged(InboxEvent),
    /// On `kpi:system`: the figures now, replacing the previous ones.
    #[serde(rename = "figures.updated")]
    FiguresUpdated(SystemFigures),
    /// On `room:{id}`: a new message, carrying its own log offset.
    #[serde(rename = "chat.message.posted")]
    ChatMessagePosted(Message),
    /// On `room:{id}`: its author edited it; the whole message, `offset` still that of its post.
    #[serde(rename = "chat.message.edited")]
    ChatMessageEdited(Message),
    /// On `room:{id}`: the message as its tombstone (no text, `deleted_at` set).
    #[serde(rename = "chat.message.deleted")]
    ChatMessageDeleted(Message),
    /// On `room:{id}`: a message's reactions now.
    #[serde(rename = "chat.reactions.changed")]
    ChatReactionsChanged(ReactionsChanged),
    /// On `room:{id}`: a member read up to a message (read positions only move forward).
    #[serde(rename = "chat.read")]
    ChatRead(ReadMark),
    /// On `user:{id}`: the user became a member of a room.
    #[serde(rename = "chat.room.joined")]
    ChatRoomJoined(RoomSummary),
    /// On `user:{id}`: the user is no longer a member of a room.
    #[serde(rename = "chat.room.left")]
    ChatRoomLeft(RoomLeft),
    /// On `room:{id}` and each member's `user:{id}`: the room's name, description or archived
    /// state changed.
    #[serde(rename = "chat.room.changed")]
    ChatRoomChanged(RoomChanged),
}

/// An event this build does not know (a newer server's), or a payload that does not fit its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndecodableEvent {
    pub name: String,
    pub reason: String,
}

impl std::fmt::Display for UndecodableEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "event {:?}: {}", self.name, self.reason)
    }
}

impl DurableEvent {
    /// The inbox event named after its change.
    pub fn inbox(event: InboxEvent) -> Self {
        match event.change {
            InboxChange::Created { .. } => DurableEvent::NotificationCreated(event),
            InboxChange::Marked { .. } => DurableEvent::NotificationsMarked(event),
            InboxChange::Deleted { .. } => DurableEvent::NotificationsDeleted(event),
            InboxChange::Cleared => DurableEvent::NotificationsCleared(event),
            InboxChange::Expired { .. } => DurableEvent::NotificationsExpired(event),
            InboxChange::Preferences { .. } => DurableEvent::PreferencesChanged(event),
        }
    }

    /// The event's name on the wire, `announcement.created` for example.
    pub fn name(&self) -> &'static str {
        use DurableEvent::*;
        match self {
            AnnouncementCreated(_) => "announcement.created",
            AnnouncementUpdated(_) => "announcement.updated",
            AnnouncementDeleted(_) => "announcement.deleted",
            LearningChanged(_) => "learning.changed",
            ActivityCreated(_) => "activity.created",
            NotificationCreated(_) => "notification.created",
            NotificationsMarked(_) => "notifications.marked",
            NotificationsDeleted(_) => "notifications.deleted",
            NotificationsCleared(_) => "notifications.cleared",
            NotificationsExpired(_) => "notifications.expired",
            PreferencesChanged(_) => "preferences.changed",
            FiguresUpdated(_) => "figures.updated",
            ChatMessagePosted(_) => "chat.message.posted",
            ChatMessageEdited(_) => "chat.message.edited",
            ChatMessageDeleted(_) => "chat.message.deleted",
            ChatReactionsChanged(_) => "chat.reactions.changed",
            ChatRead(_) => "chat.read",
            ChatRoomJoined(_) => "chat.room.joined",
            ChatRoomLeft(_) => "chat.room.left",
            ChatRoomChanged(_) => "chat.room.changed",
        }
    }

    /// The payload as the wire's `data`.
    pub fn data(&self) -> serde_json::Value {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut tagged)) => {
                tagged.remove("data").unwrap_or(serde_json::Value::Null)
            }
            // Every payload is a struct of plain fields: serializing it cannot fail.
            _ => serde_json::Value::Null,
        }
    }

    /// Reads an event back from its wire name and `data`.
    pub fn decode(name: &str, data: serde_json::Value) -> Result<Self, UndecodableEvent> {
        let tagged = serde_json::json!({ "event": name, "data": data });
        serde_json::from_value(tagged).map_err(|e| UndecodableEvent {
            name: name.to_string(),
            reason: e.to_string(),
        })
    }

    /// The inbox payload, for the six inbox events.
    pub fn as_inbox(&self) -> Option<&InboxEvent> {
        use DurableEvent::*;
        match self {
            NotificationCreated(e)
            | NotificationsMarked(e)
            | NotificationsDeleted(e)
            | NotificationsCleared(e)
            | NotificationsExpired(e)
            | PreferencesChanged(e) => Some(e),
            _ => None,
        }
    }
}

/// A snapshot that follows a topic: folds each of the topic's events into itself, in log order.
///
/// Implementations match every [`DurableEvent`] variant without a wildcard, so a kind added later is
/// a compile error in each of them until it is handled (or named as not concerning this snapshot).
pub trait Follow {
    fn apply(&mut self, event: &DurableEvent);
}

mod follow;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notifications::InboxCounts;

    /// An announcement `id` (its offset too) titled `title`; shared with `follow`'s tests.
    pub(super) fn announcement(id: i64, title: &str) -> Announcement {
        Announcement {
            id,
            title: title.into(),
            body: "Body".into(),
            author_name: None,
            created_at: 1,
            offset: id,
        }
    }

    #[test]
    fn the_wire_form_is_the_documented_name_and_data() {
        let e = DurableEvent::AnnouncementDeleted(Removed { id: 7 });
        assert_eq!(e.name(), "announcement.deleted");
        assert_eq!(e.data(), serde_json::json!({"id": 7}));
        let a = DurableEvent::AnnouncementCreated(announcement(3, "Hello"));
        assert_eq!(
            a.data(),
            serde_json::to_value(announcement(3, "Hello")).unwrap()
        );
        // Round trip through the wire's two fields, for a variant of every payload shape.
        let inbox = DurableEvent::inbox(InboxEvent {
            change: InboxChange::Cleared,
            counts: InboxCounts::default(),
        });
        assert_eq!(inbox.name(), "notifications.cleared");
        for e in [e, a, inbox] {
            assert_eq!(DurableEvent::decode(e.name(), e.data()), Ok(e.clone()));
        }
    }

    #[test]
    fn an_unknown_or_malformed_event_is_an_error_not_a_panic() {
        let unknown = DurableEvent::decode("chat.poked", serde_json::json!({}));
        assert_eq!(unknown.map_err(|e| e.name), Err("chat.poked".to_string()));
        assert!(
            DurableEvent::decode("announcement.deleted", serde_json::json!({"id": "x"})).is_err()
        );
    }

    #[test]
    fn the_name_serde_writes_is_the_name_method_says() {
        let e = DurableEvent::FiguresUpdated(SystemFigures::default());
        let tagged = serde_json::to_value(&e).unwrap();
        assert_eq!(tagged["event"], e.name());
    }
}
