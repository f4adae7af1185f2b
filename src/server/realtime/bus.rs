//! The bus between server nodes. The hub publishes every event to the bus and delivers what the bus
//! hands back, so a node learns of events written by any node. [`InProcessBus`] is one node alone;
//! `crate::server::cluster::RedisBus` carries the same messages between nodes over Redis pub/sub.

use super::presence::PresenceUpdate;
use crate::model::UserId;
use crate::protocol::Topic;
use std::sync::{Arc, RwLock};

/// What travels between nodes. Frames are encoded once, by the publishing node.
#[derive(Debug, Clone, PartialEq)]
pub enum BusMessage {
    /// A committed durable event.
    Event {
        topic: Topic,
        epoch: Arc<str>,
        offset: i64,
        frame: bytes::Bytes,
    },
    /// An ephemeral event; `origin` is the publishing connection on this node, which does not get it
    /// back (0 when it came from another node: no connection has that id).
    Ephemeral {
        topic: Topic,
        origin: u64,
        frame: bytes::Bytes,
    },
    /// `user` lost access to `topic` (removed from a chat room): every node stops delivering it to
    /// that user's connections at once, without waiting for their periodic access check.
    Revoke { user: UserId, topic: Topic },
    /// A node's presence state changed (see [`super::presence`]); `seq` numbers its changes.
    Presence {
        node: Arc<str>,
        seq: u64,
        update: PresenceUpdate,
    },
}

pub type Handler = Arc<dyn Fn(BusMessage) + Send + Sync>;

/// Where a bus keeps the function that delivers on this node (set once, by the hub).
#[derive(Default)]
pub struct HandlerSlot(RwLock<Option<Handler>>);

impl HandlerSlot {
    pub fn set(&self, handler: Handler) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Some(handler);
    }

    /// Delivers `message` on this node (nothing before the hub has set its handler). The handler is
    /// called outside the slot's lock.
    pub fn deliver(&self, message: BusMessage) {
        let handler = self.0.read().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(handler) = handler {
            handler(message);
        }
    }
}

pub trait Bus: Send + Sync + 'static {
    /// Sends a message to every node. This node's own subscribers get it at once, before this
    /// returns, whatever the bus between nodes is doing; it never blocks on the network.
    fn publish(&self, message: BusMessage);
    /// Installs the function that delivers messages on this node (called once, by the hub).
    fn set_handler(&self, handler: Handler);
    /// This node's id (unique per process start).
    fn node(&self) -> &str;
    /// Whether other nodes may be listening: presence changes are sent only then.
    fn clustered(&self) -> bool {
        false
    }
}

/// Delivery within one process: publish calls the handler directly.
pub struct InProcessBus {
    handler: HandlerSlot,
    node: String,
}

impl Default for InProcessBus {
    fn default() -> Self {
        InProcessBus::new("local")
    }
}

impl InProcessBus {
    pub fn new(node: &str) -> InProcessBus {
        InProcessBus {
            handler: HandlerSlot::default(),
            node: node.to_string(),
        }
    }
}

impl Bus for InProcessBus {
    fn publish(&self, message: BusMessage) {
        self.handler.deliver(message);
    }

    fn set_handler(&self, handler: Handler) {
        self.handler.set(handler);
    }

    fn node(&self) -> &str {
        &self.node
    }
}
