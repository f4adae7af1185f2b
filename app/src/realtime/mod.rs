//! The browser's realtime client: one WebSocket per tab, shared through context, multiplexing every
//! subscription. It reconnects with exponential back-off and full jitter (at once when the browser comes
//! back online or the tab becomes visible), resubscribes every topic from its last position, drops
//! duplicates by (topic, offset), renews the session when the server says it ended, tells the server
//! when the tab is away (hidden, or idle for [`client::IDLE_AFTER_MS`]), and publishes its state as a
//! signal. Pages do not touch it directly: they use [`live::use_live_snapshot`].
//!
//! On the server (SSR) it renders as "connecting" and does nothing.

pub mod live;
pub mod status;

use leptos::prelude::*;
use studyhall::events::DurableEvent;
use studyhall::protocol::{Position, ServerMessage, Topic};

/// What the connection is doing, for the status indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// No subscription yet, or the first connection is being made.
    Idle,
    Open,
    /// Waiting before the next attempt.
    Reconnecting {
        attempt: u32,
    },
    /// The browser reports no network.
    Offline,
    /// The session ended and could not be renewed: the user must sign in again.
    SignedOut,
    /// The server speaks a newer protocol: the page must be reloaded.
    Outdated,
}

/// What a subscriber is told.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// A durable event, delivered once and in order, decoded once and shared by every listener.
    /// `None` is an event this build cannot read (a newer server's kind): its offset still counts.
    Event {
        offset: i64,
        event: Option<std::sync::Arc<DurableEvent>>,
    },
    /// The log could not be continued from our position: refetch the snapshot.
    Reset { position: Position },
    /// Presence snapshot or change; `away` are present users whose every tab is hidden or idle.
    Presence { present: Vec<i64>, away: Vec<i64> },
    PresenceDiff {
        joined: Vec<i64>,
        left: Vec<i64>,
        away: Vec<i64>,
        back: Vec<i64>,
    },
    Ephemeral {
        event: String,
        user_id: i64,
        data: serde_json::Value,
    },
}

/// The client handle in context. Cheap to copy.
#[derive(Clone, Copy)]
pub struct Realtime {
    pub state: RwSignal<ConnectionState>,
    #[cfg(feature = "hydrate")]
    inner: StoredValue<std::rc::Rc<std::cell::RefCell<client::Inner>>, LocalStorage>,
}

/// Keeps a listener registered; dropping it (or the owning component's cleanup) removes it.
pub struct Subscription {
    #[cfg(feature = "hydrate")]
    realtime: Realtime,
    #[cfg(feature = "hydrate")]
    topic: Topic,
    #[cfg(feature = "hydrate")]
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        #[cfg(feature = "hydrate")]
        client::remove_listener(&self.realtime, self.topic, self.id);
    }
}

impl Realtime {
    pub fn provide() -> Realtime {
        let state = RwSignal::new(ConnectionState::Idle);
        let realtime = Realtime {
            state,
            #[cfg(feature = "hydrate")]
            inner: StoredValue::new_local(client::Inner::new()),
        };
        #[cfg(feature = "hydrate")]
        client::install_browser_listeners(realtime);
        provide_context(realtime);
        realtime
    }

    /// Listens to `topic` from `since` (or from now). Every listener of a topic shares one server
    /// subscription; the earliest position asked for wins.
    pub fn subscribe(
        &self,
        topic: Topic,
        since: Option<Position>,
        listener: impl Fn(Delivery) + 'static,
    ) -> Subscription {
        #[cfg(feature = "hydrate")]
        {
            let id = client::add_listener(self, topic, since, std::rc::Rc::new(listener));
            Subscription {
                realtime: *self,
                topic,
                id,
            }
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = (topic, since, listener);
            Subscription {}
        }
    }

    /// Sends an ephemeral event (typing) to the other subscribers of `topic`, if connected. The
    /// server allows the events in `studyhall::access::CLIENT_EVENTS` on topics that take them.
    pub fn publish(&self, topic: Topic, event: &str, data: serde_json::Value) {
        #[cfg(feature = "hydrate")]
        client::publish(self, topic, event, data);
        #[cfg(not(feature = "hydrate"))]
        let _ = (topic, event, data);
    }

    /// Tries to connect now (the status indicator's retry button).
    pub fn retry(&self) {
        #[cfg(feature = "hydrate")]
        client::connect_now(self);
    }
}

pub fn use_realtime() -> Realtime {
    use_context::<Realtime>().unwrap_or_else(Realtime::provide)
}

/// What a server message means for one topic's listeners; `None` for connection-level messages.
pub fn delivery_of(message: &ServerMessage) -> Option<(Topic, Delivery)> {
    match message.clone() {
        ServerMessage::Event {
            topic,
            offset,
            event,
            data,
            ..
        } => {
            let event = DurableEvent::decode(&event, data)
                .inspect_err(|e| leptos::logging::warn!("realtime: {topic} at {offset}: {e}"))
                .ok()
                .map(std::sync::Arc::new);
            Some((topic, Delivery::Event { offset, event }))
        }
        ServerMessage::Reset {
            topic,
            epoch,
            offset,
            ..
        } => Some((
            topic,
            Delivery::Reset {
                position: Position { epoch, offset },
            },
        )),
        ServerMessage::Presence {
            topic,
            present,
            away,
        } => Some((topic, Delivery::Presence { present, away })),
        ServerMessage::PresenceDiff {
            topic,
            joined,
            left,
            away,
            back,
        } => Some((
            topic,
            Delivery::PresenceDiff {
                joined,
                left,
                away,
                back,
            },
        )),
        ServerMessage::Ephemeral {
            topic,
            event,
            user_id,
            data,
        } => Some((
            topic,
            Delivery::Ephemeral {
                event,
                user_id,
                data,
            },
        )),
        _ => None,
    }
}

#[cfg(feature = "hydrate")]
mod client;
