//! The realtime WebSocket protocol: topics, the messages each side sends, error codes and close codes.
//!
//! Shared by the server and the WASM client. Frames are JSON text today; [`encode`] and
//! [`decode_client`]/[`decode_server`] are the only places that know it, so a binary encoding can
//! replace JSON without touching callers. docs/PROTOCOL.md is the normative description.

use crate::model::{CohortId, Millis, Role, UserId};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The protocol version this build speaks. A client announces its version in `hello`.
pub const PROTOCOL_VERSION: u32 = 1;

pub type RoomId = i64;

/// Leaderboard time window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Week,
    Month,
    AllTime,
}

/// Leaderboard audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Global,
    Cohort(CohortId),
}

/// Areas of the admin's live metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KpiModule {
    Learning,
    Mentoring,
    Engagement,
    System,
}

/// Where events are published and subscribed. On the wire a topic is a string such as `user:42`,
/// `inbox:42`, `room:7`, `cohort:3`, `role:mentor`, `leaderboard:week:global`, `leaderboard:month:cohort:3`,
/// `kpi:learning` or `announcements`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// One user's learning stream (their activity and analytics): the user, their mentors, admins.
    User(UserId),
    /// One user's notifications: that user only (not even admins read someone else's inbox).
    Inbox(UserId),
    Room(RoomId),
    Cohort(CohortId),
    Role(Role),
    Leaderboard(Period, Scope),
    Kpi(KpiModule),
    /// System-wide announcements, for everyone signed in.
    Announcements,
}

impl Topic {
    /// Whether presence (who is here) is tracked on this topic.
    pub fn has_presence(&self) -> bool {
        matches!(self, Topic::Room(_) | Topic::Cohort(_))
    }

    /// Whether clients may publish ephemeral events (typing) on this topic.
    pub fn accepts_client_events(&self) -> bool {
        matches!(self, Topic::Room(_) | Topic::Cohort(_))
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Topic::User(id) => write!(f, "user:{id}"),
            Topic::Inbox(id) => write!(f, "inbox:{id}"),
            Topic::Room(id) => write!(f, "room:{id}"),
            Topic::Cohort(id) => write!(f, "cohort:{id}"),
            Topic::Role(role) => write!(f, "role:{}", role.as_str()),
            Topic::Leaderboard(period, scope) => {
                let p = match period {
                    Period::Week => "week",
                    Period::Month => "month",
                    Period::AllTime => "all",
                };
                match scope {
                    Scope::Global => write!(f, "leaderboard:{p}:global"),
                    Scope::Cohort(id) => write!(f, "leaderboard:{p}:cohort:{id}"),
                }
            }
            Topic::Kpi(module) => {
                let m = match module {
                    KpiModule::Learning => "learning",
                    KpiModule::Mentoring => "mentoring",
                    KpiModule::Engagement => "engagement",
                    KpiModule::System => "system",
                };
                write!(f, "kpi:{m}")
            }
            Topic::Announcements => f.write_str("announcements"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidTopic(pub String);

impl fmt::Display for InvalidTopic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a topic", self.0)
    }
}

fn positive_id(s: &str) -> Option<i64> {
    // Digits only: no sign, no spaces, no leading "+".
    if s.is_empty() || s.len() > 18 || s.starts_with('0') || !s.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    s.parse().ok().filter(|n| *n > 0)
}

impl FromStr for Topic {
    type Err = InvalidTopic;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidTopic(s.chars().take(80).collect());
        let parts: Vec<&str> = s.split(':').collect();
        let topic = match parts.as_slice() {
            ["user", id] => Topic::User(positive_id(id).ok_or_else(bad)?),
            ["inbox", id] => Topic::Inbox(positive_id(id).ok_or_else(bad)?),
            ["room", id] => Topic::Room(positive_id(id).ok_or_else(bad)?),
            ["cohort", id] => Topic::Cohort(positive_id(id).ok_or_else(bad)?),
            ["role", role] => Topic::Role(Role::parse(role).ok_or_else(bad)?),
            ["leaderboard", period, rest @ ..] => {
                let period = match *period {
                    "week" => Period::Week,
                    "month" => Period::Month,
                    "all" => Period::AllTime,
                    _ => return Err(bad()),
                };
                let scope = match rest {
                    ["global"] => Scope::Global,
                    ["cohort", id] => Scope::Cohort(positive_id(id).ok_or_else(bad)?),
                    _ => return Err(bad()),
                };
                Topic::Leaderboard(period, scope)
            }
            ["kpi", module] => Topic::Kpi(match *module {
                "learning" => KpiModule::Learning,
                "mentoring" => KpiModule::Mentoring,
                "engagement" => KpiModule::Engagement,
                "system" => KpiModule::System,
                _ => return Err(bad()),
            }),
            ["announcements"] => Topic::Announcements,
            _ => return Err(bad()),
        };
        Ok(topic)
    }
}

impl Serialize for Topic {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Topic {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// Defined with the wire models (which carry it in every snapshot); the protocol speaks it too.
pub use crate::model::Position;

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Optional first frame: the version the client speaks.
    Hello { version: u32 },
    /// Start receiving a topic; with `since`, first replay what came after that position.
    Subscribe {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        topic: Topic,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<Position>,
    },
    Unsubscribe {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        topic: Topic,
    },
    /// An ephemeral event (typing) for the other subscribers of a topic. Not stored.
    Publish {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        topic: Topic,
        event: String,
        #[serde(default)]
        data: serde_json::Value,
    },
    Ping {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
}

/// Why a subscription could not continue from the client's position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetReason {
    /// The events after the position were deleted by retention.
    BeyondRetention,
    /// The log was reset (its epoch changed) since the client's position.
    EpochChanged,
    /// The position is ahead of the log (the client cannot have seen it).
    UnknownOffset,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not valid JSON or lacks required fields.
    Malformed,
    /// The `type` is not one this version knows.
    UnknownType,
    /// The topic string does not name a topic.
    InvalidTopic,
    /// The user may not read (or publish to) this topic.
    Forbidden,
    /// The client publishes faster than allowed.
    RateLimited,
    /// The connection already has the maximum number of subscriptions.
    TooManySubscriptions,
    /// A publish on a topic that takes no client events, or an event name that is not allowed.
    NotAllowed,
    /// The version in `hello` is not supported.
    UnsupportedVersion,
    /// The server failed; retry later.
    Internal,
}

/// Limits the server applies to this connection, announced in `welcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub max_frame_bytes: usize,
    pub max_subscriptions: usize,
    pub publishes_per_minute: u32,
    /// Connections one user may hold on this node (a further one is closed with 4003). Added within
    /// version 1: a server that predates it sends none, read as 0 ("not announced").
    #[serde(default)]
    pub max_connections_per_user: usize,
    /// Events each topic's log keeps for resuming (older ones go: `reset` `beyond_retention`). Added
    /// like `max_connections_per_user`; 0 when not announced.
    #[serde(default)]
    pub retained_events_per_topic: i64,
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Welcome {
        version: u32,
        connection_id: String,
        user_id: UserId,
        heartbeat_ms: u64,
        limits: Limits,
    },
    /// The subscription is live. `offset` is the last offset delivered (after any replay).
    Subscribed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        topic: Topic,
        epoch: String,
        offset: i64,
        replayed: u64,
    },
    /// The client's position could not be continued: refetch the snapshot; live events follow from
    /// `offset`.
    Reset {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        topic: Topic,
        epoch: String,
        offset: i64,
        reason: ResetReason,
    },
    /// A durable event.
    Event {
        topic: Topic,
        epoch: String,
        offset: i64,
        event: String,
        data: serde_json::Value,
        at: Millis,
    },
    /// A non-durable event (typing). No offset.
    Ephemeral {
        topic: Topic,
        event: String,
        user_id: UserId,
        data: serde_json::Value,
    },
    /// Who is present, sent once after subscribing to a topic with presence.
    Presence { topic: Topic, present: Vec<UserId> },
    /// Changes to who is present.
    PresenceDiff {
        topic: Topic,
        joined: Vec<UserId>,
        left: Vec<UserId>,
    },
    Unsubscribed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        topic: Topic,
    },
    Published {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    Pong {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        code: ErrorCode,
        message: String,
    },
}

/// WebSocket close codes the server uses.
pub mod close {
    pub const NORMAL: u16 = 1000;
    /// The server is shutting down; reconnect (to another node) with back-off.
    pub const GOING_AWAY: u16 = 1001;
    /// The upgrade or a frame broke policy (not used for the cross-origin case: that upgrade is refused).
    pub const POLICY: u16 = 1008;
    /// A frame was larger than `max_frame_bytes`.
    pub const TOO_BIG: u16 = 1009;
    /// The session expired or was revoked: renew the session (sign in again), then reconnect.
    pub const SESSION_ENDED: u16 = 4001;
    /// The client did not read fast enough; reconnect and resume from your positions.
    pub const SLOW_CONSUMER: u16 = 4002;
    /// The user has too many connections open.
    pub const TOO_MANY_CONNECTIONS: u16 = 4003;
    /// The client's protocol version is not supported.
    pub const UNSUPPORTED_VERSION: u16 = 4004;
    /// Nothing was heard from the client for too long.
    pub const HEARTBEAT_TIMEOUT: u16 = 4005;
}

/// A client frame that could not be turned into a [`ClientMessage`].
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    pub id: Option<String>,
    pub code: ErrorCode,
    pub message: String,
}

impl DecodeError {
    pub fn into_message(self) -> ServerMessage {
        ServerMessage::Error {
            id: self.id,
            code: self.code,
            message: self.message,
        }
    }
}

const KNOWN_TYPES: [&str; 5] = ["hello", "subscribe", "unsubscribe", "publish", "ping"];

/// Decodes a client frame, telling malformed JSON, unknown types and invalid topics apart.
pub fn decode_client(text: &str) -> Result<ClientMessage, DecodeError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| DecodeError {
        id: None,
        code: ErrorCode::Malformed,
        message: format!("The frame is not valid JSON ({e})."),
    })?;
    let id = value
        .get("id")
        .and_then(|v| v.as_str())
        .map(|s| s.chars().take(64).collect());
    let Some(kind) = value
        .get("type")
        .and_then(|v| v.as_str())
        .map(str::to_string)
    else {
        return Err(DecodeError {
            id,
            code: ErrorCode::Malformed,
            message: "The frame has no \"type\".".into(),
        });
    };
    if !KNOWN_TYPES.contains(&kind.as_str()) {
        return Err(DecodeError {
            id,
            code: ErrorCode::UnknownType,
            message: format!(
                "Unknown message type {:?}.",
                kind.chars().take(40).collect::<String>()
            ),
        });
    }
    if let Some(topic) = value.get("topic").and_then(|v| v.as_str()) {
        if let Err(e) = topic.parse::<Topic>() {
            return Err(DecodeError {
                id,
                code: ErrorCode::InvalidTopic,
                message: e.to_string(),
            });
        }
    }
    serde_json::from_value(value).map_err(|e| DecodeError {
        id,
        code: ErrorCode::Malformed,
        message: format!("The {kind:?} message is malformed ({e})."),
    })
}

pub fn decode_server(text: &str) -> Result<ServerMessage, serde_json::Error> {
    serde_json::from_str(text)
}

/// Encodes any protocol message as a text frame.
pub fn encode<T: Serialize>(message: &T) -> String {
    serde_json::to_string(message).expect("protocol messages always serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip_through_their_string_form() {
        let topics = [
            Topic::User(42),
            Topic::Inbox(42),
            Topic::Room(7),
            Topic::Cohort(3),
            Topic::Role(Role::Mentor),
            Topic::Leaderboard(Period::Week, Scope::Global),
            Topic::Leaderboard(Period::AllTime, Scope::Cohort(3)),
            Topic::Kpi(KpiModule::Learning),
            Topic::Announcements,
        ];
        for t in topics {
            assert_eq!(t.to_string().parse::<Topic>(), Ok(t), "{t}");
        }
        for bad in [
            "",
            "user",
            "user:",
            "user:-1",
            "user:0",
            "user:007",
            "user:+4",
            "user:1:2",
            "inbox:0",
            "room:x",
            "role:root",
            "leaderboard:week",
            "leaderboard:day:global",
            "kpi:money",
            "announcements:1",
            "USER:1",
        ] {
            assert!(bad.parse::<Topic>().is_err(), "{bad:?} should be invalid");
        }
    }

    #[test]
    fn client_frames_are_told_apart() {
        let ok = decode_client(
            r#"{"type":"subscribe","id":"a","topic":"user:5","since":{"epoch":"e","offset":3}}"#,
        );
        assert_eq!(
            ok,
            Ok(ClientMessage::Subscribe {
                id: Some("a".into()),
                topic: Topic::User(5),
                since: Some(Position {
                    epoch: "e".into(),
                    offset: 3
                }),
            })
        );
        let code = |s: &str| decode_client(s).unwrap_err().code;
        assert_eq!(code("{nope"), ErrorCode::Malformed);
        assert_eq!(code(r#"{"id":"x"}"#), ErrorCode::Malformed);
        assert_eq!(code(r#"{"type":"dance"}"#), ErrorCode::UnknownType);
        assert_eq!(
            code(r#"{"type":"subscribe","topic":"user:abc"}"#),
            ErrorCode::InvalidTopic
        );
        assert_eq!(code(r#"{"type":"subscribe"}"#), ErrorCode::Malformed);
        let err = decode_client(r#"{"type":"subscribe","id":"q1","topic":"nope"}"#).unwrap_err();
        assert_eq!(err.id.as_deref(), Some("q1"), "errors echo the request id");
    }

    #[test]
    fn the_welcome_announces_every_limit_and_still_reads_an_older_servers() {
        let welcome = ServerMessage::Welcome {
            version: 1,
            connection_id: "17".into(),
            user_id: 42,
            heartbeat_ms: 25_000,
            limits: Limits {
                max_frame_bytes: 65_536,
                max_subscriptions: 100,
                publishes_per_minute: 60,
                max_connections_per_user: 20,
                retained_events_per_topic: 10_000,
            },
        };
        assert_eq!(
            encode(&welcome),
            r#"{"type":"welcome","version":1,"connection_id":"17","user_id":42,"heartbeat_ms":25000,"limits":{"max_frame_bytes":65536,"max_subscriptions":100,"publishes_per_minute":60,"max_connections_per_user":20,"retained_events_per_topic":10000}}"#
        );
        // A welcome from a server before the two added limits: they read as 0, "not announced".
        let older = r#"{"type":"welcome","version":1,"connection_id":"17","user_id":42,"heartbeat_ms":25000,"limits":{"max_frame_bytes":65536,"max_subscriptions":100,"publishes_per_minute":60}}"#;
        match decode_server(older) {
            Ok(ServerMessage::Welcome { limits, .. }) => {
                assert_eq!(
                    (
                        limits.max_connections_per_user,
                        limits.retained_events_per_topic
                    ),
                    (0, 0)
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn server_messages_encode_with_a_type_tag() {
        let frame = encode(&ServerMessage::Event {
            topic: Topic::User(1),
            epoch: "e1".into(),
            offset: 9,
            event: "note".into(),
            data: serde_json::json!({"x": 1}),
            at: 5,
        });
        assert_eq!(
            frame,
            r#"{"type":"event","topic":"user:1","epoch":"e1","offset":9,"event":"note","data":{"x":1},"at":5}"#
        );
        assert!(matches!(
            decode_server(&frame),
            Ok(ServerMessage::Event { offset: 9, .. })
        ));
    }
}
