//! The bus between server nodes. The hub publishes every event to the bus and delivers what the bus
//! hands back, so a node learns of events written by any node. This build ships the in-process bus
//! (one node); a Redis or NATS bus implements the same trait without changes to callers.

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
    /// An ephemeral event; `origin` is the publishing connection, which does not get it back.
    Ephemeral {
        topic: Topic,
        origin: u64,
        frame: bytes::Bytes,
    },
    /// `user` lost access to `topic` (removed from a chat room): every node stops delivering it to
    /// that user's connections at once, without waiting for their periodic access check.
    Revoke { user: UserId, topic: Topic },
}

pub type Handler = Arc<dyn Fn(BusMessage) + Send + Sync>;

pub trait Bus: Send + Sync + 'static {
    /// Sends a message to every node, this one included. Must not block.
    fn publish(&self, message: BusMessage);
    /// Installs the function that delivers messages on this node (called once, by the hub).
    fn set_handler(&self, handler: Handler);
}

/// Delivery within one process: publish calls the handler directly.
#[derive(Default)]
pub struct InProcessBus {
    handler: RwLock<Option<Handler>>,
}

impl Bus for InProcessBus {
    fn publish(&self, message: BusMessage) {
        let handler = self
            .handler
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(handler) = handler {
            handler(message);
        }
    }

    fn set_handler(&self, handler: Handler) {
        *self.handler.write().unwrap_or_else(|e| e.into_inner()) = Some(handler);
    }
}
