//! How bus messages travel through Redis: one line of JSON naming the sender and what the message
//! is, then a newline, then the frame exactly as the sender encoded it for WebSocket clients (so a
//! receiving node forwards those bytes without decoding or encoding them again).

use crate::model::UserId;
use crate::protocol::Topic;
use crate::server::realtime::presence::PresenceUpdate;
use crate::server::realtime::BusMessage;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Serialize, Deserialize)]
struct Header {
    /// The sending node.
    n: String,
    #[serde(flatten)]
    kind: Kind,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
enum Kind {
    Event {
        topic: Topic,
        epoch: String,
        offset: i64,
    },
    Ephemeral {
        topic: Topic,
    },
    Revoke {
        user: UserId,
        topic: Topic,
    },
    Presence {
        seq: u64,
        update: PresenceUpdate,
    },
}

/// Encodes `message` as sent by `node`.
pub fn encode(node: &str, message: &BusMessage) -> Vec<u8> {
    let (kind, frame): (Kind, &[u8]) = match message {
        BusMessage::Event {
            topic,
            epoch,
            offset,
            frame,
        } => (
            Kind::Event {
                topic: *topic,
                epoch: epoch.to_string(),
                offset: *offset,
            },
            frame,
        ),
        BusMessage::Ephemeral { topic, frame, .. } => (Kind::Ephemeral { topic: *topic }, frame),
        BusMessage::Revoke { user, topic } => (
            Kind::Revoke {
                user: *user,
                topic: *topic,
            },
            &[],
        ),
        BusMessage::Presence { seq, update, .. } => (
            Kind::Presence {
                seq: *seq,
                update: update.clone(),
            },
            &[],
        ),
    };
    let header = Header {
        n: node.to_string(),
        kind,
    };
    let mut out = serde_json::to_vec(&header).expect("a header always serializes");
    out.push(b'\n');
    out.extend_from_slice(frame);
    out
}

/// Decodes a message: its sender and the message. `None` for bytes that are not one (logged by
/// the caller; another program writing to the channel must not stop the bus).
pub fn decode(bytes: &[u8]) -> Option<(String, BusMessage)> {
    let split = bytes.iter().position(|b| *b == b'\n')?;
    let header: Header = serde_json::from_slice(&bytes[..split]).ok()?;
    let frame = Bytes::copy_from_slice(&bytes[split + 1..]);
    let message = match header.kind {
        Kind::Event {
            topic,
            epoch,
            offset,
        } => BusMessage::Event {
            topic,
            epoch: epoch.into(),
            offset,
            frame,
        },
        // No connection on this node has id 0: every subscriber gets it.
        Kind::Ephemeral { topic } => BusMessage::Ephemeral {
            topic,
            origin: 0,
            frame,
        },
        Kind::Revoke { user, topic } => BusMessage::Revoke { user, topic },
        Kind::Presence { seq, update } => BusMessage::Presence {
            node: Arc::from(header.n.as_str()),
            seq,
            update,
        },
    };
    Some((header.n, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_comes_back_as_sent_with_its_frame_untouched() {
        let frame = Bytes::from_static(br#"{"type":"event","data":"a\nb"}"#);
        let messages = [
            BusMessage::Event {
                topic: Topic::Room(4),
                epoch: "ep".into(),
                offset: 9,
                frame: frame.clone(),
            },
            BusMessage::Revoke {
                user: 3,
                topic: Topic::Room(4),
            },
            BusMessage::Presence {
                node: "n1".into(),
                seq: 12,
                update: PresenceUpdate::Topic {
                    topic: Topic::Room(4),
                    user: 3,
                    present: true,
                },
            },
        ];
        for message in messages {
            let (node, back) = decode(&encode("n1", &message)).expect("decodes");
            assert_eq!(node, "n1");
            assert_eq!(back, message);
        }
        let (_, ephemeral) = decode(&encode(
            "n1",
            &BusMessage::Ephemeral {
                topic: Topic::Room(4),
                origin: 77,
                frame: frame.clone(),
            },
        ))
        .expect("decodes");
        assert_eq!(
            ephemeral,
            BusMessage::Ephemeral {
                topic: Topic::Room(4),
                origin: 0,
                frame
            },
            "the sender's connection id means nothing on another node"
        );
        assert!(decode(b"not a message").is_none());
        assert!(decode(b"{\"n\":\"x\",\"k\":\"what\"}\n").is_none());
    }
}
