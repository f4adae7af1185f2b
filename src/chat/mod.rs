//! Chat as the browser and REST see it: rooms, messages, reactions and read positions, their limits
//! and validation, and who may talk to whom ([`rules`]). Behind the `server` feature, the service
//! that stores and publishes them ([`service`]).
//!
//! Every change to a room is an event on its `room:{id}` topic (see [`crate::events::DurableEvent`]);
//! joining and leaving a room are events on the member's own `user:{id}` stream.

pub mod attachments;
pub mod groups;
pub mod mentions;
pub mod rules;
pub mod search;
#[cfg(feature = "server")]
pub mod service;

mod follow;
pub mod my_rooms;

use crate::model::{CohortId, Millis, Position, UserId};
use crate::AppError;
use serde::{Deserialize, Serialize};

pub use crate::protocol::RoomId;
pub type MessageId = i64;

/// Longest message text, in characters.
pub const MESSAGE_MAX: usize = 4000;
/// Longest client-chosen message id.
pub const CLIENT_ID_MAX: usize = 64;
/// Longest room name.
pub const ROOM_NAME_MAX: usize = 80;
/// Longest room description.
pub const ROOM_DESCRIPTION_MAX: usize = 500;
/// How long after sending a message its author may still edit it.
pub const EDIT_WINDOW_MS: Millis = 15 * 60 * 1000;
/// Messages a page of history holds.
pub const HISTORY_PAGE: i64 = 50;
/// Messages one user may send in a minute (configurable on the server).
pub const MESSAGES_PER_MINUTE: u32 = 60;
/// The reactions a message can get, in the order the picker shows them.
pub const REACTIONS: [&str; 6] = ["👍", "❤️", "😂", "🎉", "😮", "🙏"];
/// Longest quoted excerpt of the message a reply answers.
pub const QUOTE_MAX: usize = 140;

/// What a room is for, which decides who its members are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    /// Two people.
    Direct,
    /// Every member of a cohort and their mentors.
    Cohort,
    /// A study group's room.
    Group,
    /// Created by an admin, members added by hand.
    Channel,
}

impl RoomKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoomKind::Direct => "direct",
            RoomKind::Cohort => "cohort",
            RoomKind::Group => "group",
            RoomKind::Channel => "channel",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            RoomKind::Direct,
            RoomKind::Cohort,
            RoomKind::Group,
            RoomKind::Channel,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A member's standing in a room: moderators and owners may delete anyone's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    Member,
    Moderator,
    Owner,
}

impl MemberRole {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Member => "member",
            MemberRole::Moderator => "moderator",
            MemberRole::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [MemberRole::Member, MemberRole::Moderator, MemberRole::Owner]
            .into_iter()
            .find(|r| r.as_str() == s)
    }

    pub fn moderates(self) -> bool {
        self != MemberRole::Member
    }
}

/// Someone who wrote or reacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub id: UserId,
    pub display_name: String,
}

/// A room as its members see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Room {
    pub id: RoomId,
    pub kind: RoomKind,
    /// For a direct room, the other person's name (each member sees the other's).
    pub name: String,
    pub description: String,
    pub cohort_id: Option<CohortId>,
    /// For a direct room, the other person.
    pub peer: Option<Author>,
    pub created_at: Millis,
    pub last_message_at: Option<Millis>,
    pub archived: bool,
}

/// A room in the caller's list: the room, their standing in it and what they have not read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomSummary {
    pub room: Room,
    pub role: MemberRole,
    pub muted: bool,
    /// The newest message the caller has read.
    pub last_read_id: MessageId,
    /// Others' messages after it, not deleted.
    pub unread: i64,
}

/// The message a reply answers, as the reply shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub id: MessageId,
    pub author_name: Option<String>,
    /// The start of its text (empty once it is deleted).
    pub excerpt: String,
    pub deleted: bool,
}

/// Who reacted to a message with one emoji.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    /// In the order they reacted.
    pub users: Vec<Author>,
}

/// One message. A deleted one stays in history as a tombstone: no text, `deleted_at` set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub room_id: RoomId,
    pub author: Option<Author>,
    /// The id the sending client chose (it matches its pending copy to this one).
    pub client_id: String,
    /// The Markdown the author wrote.
    pub body: String,
    /// `body` rendered and sanitised: safe to insert as HTML.
    pub html: String,
    pub reply_to: Option<Quote>,
    pub created_at: Millis,
    pub edited_at: Option<Millis>,
    pub deleted_at: Option<Millis>,
    pub reactions: Vec<Reaction>,
    /// Files sent with it, in the order they were attached (none once it is deleted).
    #[serde(default)]
    pub attachments: Vec<attachments::Attachment>,
    /// The offset of its `chat.message.posted` event on the room's topic.
    pub offset: i64,
}

/// What a client sends to post a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMessage {
    /// Chosen by the client, unique per author and room: a retry with the same id is the same message.
    pub client_id: String,
    pub body: String,
    #[serde(default)]
    pub reply_to: Option<MessageId>,
    /// Files uploaded to the room (`POST /api/v1/rooms/{id}/attachments`) and not yet sent; a
    /// message with files may have no text.
    #[serde(default)]
    pub attachments: Vec<attachments::AttachmentId>,
}

/// A page of a room's history, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    /// Pass as `before` for the next older page; `None` at the start of the room.
    pub older: Option<MessageId>,
}

/// How far one member has read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadMark {
    pub user_id: UserId,
    pub last_read_id: MessageId,
}

/// A room opened: its newest messages, everyone's read marks, and where its events resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomSnapshot {
    /// Whose snapshot this is: their own messages never count as unread.
    pub viewer: UserId,
    pub summary: RoomSummary,
    pub members: Vec<Author>,
    pub page: MessagePage,
    pub reads: Vec<ReadMark>,
    pub position: Position,
    /// In a direct room, when the other person last closed their last connection (`None`: never
    /// connected, or not a direct room). Whether they are online now is the room's presence.
    #[serde(default)]
    pub peer_last_seen: Option<Millis>,
}

/// The payload of `chat.reactions.changed`: a message's reactions now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionsChanged {
    pub message_id: MessageId,
    pub reactions: Vec<Reaction>,
}

/// Why someone stopped being a member of a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeftBecause {
    Left,
    Removed,
    Archived,
}

/// The payload of `chat.room.left`, on the former member's own stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomLeft {
    pub room_id: RoomId,
    pub because: LeftBecause,
}

/// Checks a message's text: not blank, at most [`MESSAGE_MAX`] characters. Returns it trimmed at the end.
pub fn validate_body(body: &str) -> Result<String, AppError> {
    let body = body.trim_end();
    if body.trim().is_empty() {
        return Err(AppError::validation("body", "Write a message first."));
    }
    let chars = body.chars().count();
    if chars > MESSAGE_MAX {
        return Err(AppError::validation(
            "body",
            &format!("Messages are at most {MESSAGE_MAX} characters; this one has {chars}."),
        ));
    }
    Ok(body.to_string())
}

/// Checks a client-chosen message id: 1 to [`CLIENT_ID_MAX`] letters, digits, `-` or `_`.
pub fn validate_client_id(id: &str) -> Result<(), AppError> {
    let ok = !id.is_empty()
        && id.len() <= CLIENT_ID_MAX
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(AppError::validation(
            "client_id",
            &format!("A message id is 1 to {CLIENT_ID_MAX} letters, digits, - or _."),
        ))
    }
}

/// Whether `emoji` is one of [`REACTIONS`].
pub fn validate_reaction(emoji: &str) -> Result<(), AppError> {
    if REACTIONS.contains(&emoji) {
        Ok(())
    } else {
        Err(AppError::validation(
            "emoji",
            &format!("React with one of {}.", REACTIONS.join(" ")),
        ))
    }
}

/// The start of a message's text for a reply's quote: at most [`QUOTE_MAX`] characters, on a char
/// boundary, with an ellipsis when cut.
pub fn excerpt(body: &str) -> String {
    let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= QUOTE_MAX {
        return flat;
    }
    let cut: String = flat.chars().take(QUOTE_MAX - 1).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_neither_blank_nor_too_long() {
        assert!(validate_body("  \n ").is_err());
        assert_eq!(validate_body("hi  \n").unwrap(), "hi");
        assert_eq!(validate_body("  indented").unwrap(), "  indented");
        assert!(validate_body(&"é".repeat(MESSAGE_MAX)).is_ok());
        let long = validate_body(&"é".repeat(MESSAGE_MAX + 1)).unwrap_err();
        assert!(long.to_string().contains("4001") || format!("{long:?}").contains("4001"));
    }

    #[test]
    fn client_ids_and_reactions_are_checked() {
        assert!(validate_client_id("a1-_B").is_ok());
        for bad in ["", "has space", "<script>", &"x".repeat(CLIENT_ID_MAX + 1)] {
            assert!(validate_client_id(bad).is_err(), "{bad:?}");
        }
        assert!(validate_reaction("👍").is_ok());
        assert!(validate_reaction("💩").is_err());
    }

    #[test]
    fn an_excerpt_is_cut_on_a_character_with_an_ellipsis() {
        assert_eq!(excerpt("two\n lines"), "two lines");
        let long = excerpt(&"ü".repeat(QUOTE_MAX * 2));
        assert_eq!(long.chars().count(), QUOTE_MAX);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn kinds_and_roles_read_back_what_they_write() {
        for k in [
            RoomKind::Direct,
            RoomKind::Cohort,
            RoomKind::Group,
            RoomKind::Channel,
        ] {
            assert_eq!(RoomKind::parse(k.as_str()), Some(k));
        }
        for r in [MemberRole::Member, MemberRole::Moderator, MemberRole::Owner] {
            assert_eq!(MemberRole::parse(r.as_str()), Some(r));
        }
        assert_eq!(RoomKind::parse("dm"), None);
    }
}
