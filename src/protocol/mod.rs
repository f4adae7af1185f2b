//! The realtime WebSocket protocol: topics, the messages each side sends, error codes and close codes.
//!
//! Shared by the server and the WASM client. Frames are JSON text today; [`encode`] and
//! [`decode_client`]/[`decode_server`] are the only places that know it, so a binary encoding can
//! replace JSON without touching callers. docs/PROTOCOL.md is the normative description.

mod presence;
mod topic;

pub use presence::PresenceSet;
pub use topic::*;

use crate::model::{Millis, UserId};
use serde::{Deserialize, Serialize};

/// The protocol version this build speaks. A client announces its version in `hello`.
pub const PROTOCOL_VERSION: u32 = 1;

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
    /// This connection's page is hidden or idle (`away: true`), or in use again. A user is away on
    /// presence topics while every one of their connections is; a new connection starts in use.
    Status { away: bool },
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
    /// Who is present, sent once after subscribing to a topic with presence; `away` are those of
    /// them whose every tab is hidden or idle.
    Presence {
        topic: Topic,
        present: Vec<UserId>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        away: Vec<UserId>,
    },
    /// Changes to who is present: arrived, gone, went away (every tab hidden or idle), back.
    PresenceDiff {
        topic: Topic,
        joined: Vec<UserId>,
        left: Vec<UserId>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        away: Vec<UserId>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        back: Vec<UserId>,
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

const KNOWN_TYPES: [&str; 6] = [
    "hello",
    "subscribe",
    "unsubscribe",
    "publish",
    "ping",
    "status",
];

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
