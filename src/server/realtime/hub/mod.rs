//! The hub: which local connections listen to which topics, and fan-out. An event is encoded once
//! and the same bytes go to every recipient's bounded mailbox. A connection whose mailbox is full is
//! flagged as a slow consumer (its socket is then closed) and never holds up delivery to anyone
//! else. Presence (who is there, who is away, merged with what other nodes hold) is in
//! `presence.rs` beside this file.
//!
//! Durable events are offered outside the hub's lock: under it, delivery only takes the topic's
//! recipient list (an `Arc`'d slice, rebuilt after the topic's subscribers change), so a publish to a
//! topic of 10,000 viewers neither blocks nor waits for connects, subscribes and other publishes.

mod presence;
#[cfg(test)]
mod tests;

use super::bus::{Bus, BusMessage};
use super::log::StoredEvent;
use super::mailbox::{LiveEvent, Mailbox, Offer, Outbound};
use super::presence::RemotePresence;
use crate::model::UserId;
use crate::protocol::{encode, ServerMessage, Topic};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy)]
pub struct HubSettings {
    /// Frames waiting for one connection before it counts as a slow consumer.
    pub queue_capacity: usize,
    /// Connections one user may hold, on all nodes together.
    pub max_connections_per_user: usize,
}

impl Default for HubSettings {
    fn default() -> Self {
        Self {
            queue_capacity: 1024,
            max_connections_per_user: 20,
        }
    }
}

struct Conn {
    user_id: UserId,
    /// Its client said its page is hidden or idle (`ClientMessage::Status`).
    away: bool,
    mailbox: Arc<Mailbox>,
    /// At its exact length: a connection holds a few topics (at most the subscription limit), and
    /// a hash set holding one allocates four slots.
    topics: Vec<Topic>,
}

/// A point in a topic's log: its epoch and an offset.
pub type LogPoint = (Arc<str>, i64);

/// A topic's subscribers as delivery reads them: shared, so a delivery holds them without the lock.
type Recipients = Arc<[(u64, Arc<Mailbox>)]>;

#[derive(Default)]
struct TopicEntry {
    subscribers: HashMap<u64, Arc<Mailbox>>,
    /// `subscribers` as a slice, made by the first delivery after they changed (a burst of
    /// subscribes costs one copy, not one per subscribe).
    recipients: Option<Recipients>,
    /// Local connections per present user.
    present: HashMap<UserId, usize>,
    /// The newest point of the topic's log this node has delivered or read (the catch-up compares
    /// it with the log's head).
    seen: Option<LogPoint>,
}

impl TopicEntry {
    fn recipients(&mut self) -> Recipients {
        self.recipients
            .get_or_insert_with(|| {
                self.subscribers
                    .iter()
                    .map(|(id, mailbox)| (*id, mailbox.clone()))
                    .collect()
            })
            .clone()
    }

    /// Moves `seen` forward to `(epoch, offset)` (a new epoch replaces the old one).
    fn saw(&mut self, epoch: &Arc<str>, offset: i64) {
        match &mut self.seen {
            Some((e, o)) if **e == **epoch => *o = (*o).max(offset),
            seen => *seen = Some((epoch.clone(), offset)),
        }
    }
}

/// One user's connections to this node.
#[derive(Default)]
struct UserConns {
    ids: Vec<u64>,
    /// How many of them are not away: the user is away when none is, on any node.
    active: usize,
}

#[derive(Default)]
struct State {
    conns: HashMap<u64, Conn>,
    topics: HashMap<Topic, TopicEntry>,
    per_user: HashMap<UserId, UserConns>,
    /// What the other nodes hold (empty on a node alone).
    remote: RemotePresence,
    /// How many presence changes this node has sent to the others.
    presence_seq: u64,
}

/// What a socket task gets when it joins the hub.
pub struct Registration {
    pub id: u64,
    pub mailbox: Arc<Mailbox>,
}

/// Why the hub turned a connection away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The user already has as many connections as one user may.
    TooManyConnections,
    /// The server is shutting down.
    ShuttingDown,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HubStats {
    pub connections: usize,
    pub users: usize,
    pub subscriptions: usize,
    pub topics: usize,
    /// Frames queued for connections (events, ephemeral events, presence diffs).
    pub delivered: u64,
    /// Connections flagged as slow consumers (each counted once).
    pub slow_consumers: u64,
    /// Durable events this node read from the log because the bus had not brought them.
    pub caught_up: u64,
}

/// Called with every durable event this node delivers (its topic and its encoded frame), whichever
/// node wrote it: how node-local views (the leaderboards) follow what changes.
pub type EventObserver = Arc<dyn Fn(Topic, &[u8]) + Send + Sync>;

struct Inner {
    settings: HubSettings,
    observers: std::sync::RwLock<Vec<EventObserver>>,
    state: Mutex<State>,
    bus: Arc<dyn Bus>,
    node: Arc<str>,
    clustered: bool,
    next_id: AtomicU64,
    /// Set once, under the state lock, when the server shuts down.
    closing: AtomicBool,
    delivered: AtomicU64,
    slow_consumers: AtomicU64,
    caught_up: AtomicU64,
}

#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").field("stats", &self.stats()).finish()
    }
}

impl Hub {
    pub fn new(settings: HubSettings, bus: Arc<dyn Bus>) -> Hub {
        let inner = Arc::new(Inner {
            settings,
            observers: std::sync::RwLock::new(Vec::new()),
            state: Mutex::new(State::default()),
            node: bus.node().into(),
            clustered: bus.clustered(),
            bus: bus.clone(),
            next_id: AtomicU64::new(1),
            closing: AtomicBool::new(false),
            delivered: AtomicU64::new(0),
            slow_consumers: AtomicU64::new(0),
            caught_up: AtomicU64::new(0),
        });
        let weak = Arc::downgrade(&inner);
        bus.set_handler(Arc::new(move |message| {
            if let Some(inner) = weak.upgrade() {
                Hub { inner }.deliver(message);
            }
        }));
        Hub { inner }
    }

    /// Adds a function called with every durable event delivered on this node.
    pub fn observe(&self, observer: EventObserver) {
        self.inner
            .observers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(observer);
    }

    /// This node's id.
    pub fn node(&self) -> &str {
        &self.inner.node
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a connection of `user_id`; refused beyond the per-user cap (counting the user's
    /// connections on other nodes) and once the server is shutting down.
    pub fn connect(&self, user_id: UserId) -> Result<Registration, Refused> {
        let mut state = self.state();
        // Read under the lock that `close_all` holds while it sets it: a connection either is
        // told to close or is refused, never neither.
        if self.is_closing() {
            return Err(Refused::ShuttingDown);
        }
        let elsewhere = state.remote.conns(user_id).0 as usize;
        let was_away = self.is_away(&state, user_id);
        let mine = state.per_user.entry(user_id).or_default();
        if mine.ids.len() + elsewhere >= self.inner.settings.max_connections_per_user {
            if mine.ids.is_empty() {
                state.per_user.remove(&user_id);
            }
            return Err(Refused::TooManyConnections);
        }
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        mine.ids.push(id);
        mine.active += 1;
        let mailbox = Arc::new(Mailbox::new(self.inner.settings.queue_capacity));
        state.conns.insert(
            id,
            Conn {
                user_id,
                away: false,
                mailbox: mailbox.clone(),
                topics: Vec::new(),
            },
        );
        self.announce_user(&mut state, user_id);
        // A new tab is in use: if every other one was away, the user is back.
        if was_away {
            self.tell_away(&state, user_id, false);
        }
        Ok(Registration { id, mailbox })
    }

    /// Tells every connection that the server is shutting down (each closes with 1001) and refuses
    /// new ones. One flag and one wake-up per connection, instead of a shutdown receiver and its
    /// wait in every connection's task. Returns the users who were connected, read under the same
    /// lock: their sockets skip storing last-seen once the hub is closing, so the caller stores it
    /// for all of them at once, and nobody connects after the list is taken.
    pub fn close_all(&self) -> Vec<UserId> {
        let state = self.state();
        self.inner.closing.store(true, Ordering::Release);
        for conn in state.conns.values() {
            conn.mailbox.close();
        }
        state.per_user.keys().copied().collect()
    }

    fn is_closing(&self) -> bool {
        self.inner.closing.load(Ordering::Acquire)
    }

    /// Removes a connection and its subscriptions. Returns true if the caller should store the
    /// user's last-seen now: it was their last connection, and the hub is not closing (then
    /// `close_all`, under the same lock, already listed the user for the shutdown to store).
    pub fn disconnect(&self, id: u64) -> bool {
        let mut state = self.state();
        let Some(conn) = state.conns.remove(&id) else {
            return false;
        };
        let was_away = self.is_away(&state, conn.user_id);
        for topic in &conn.topics {
            self.leave(&mut state, id, conn.user_id, *topic);
        }
        let Some(mine) = state.per_user.get_mut(&conn.user_id) else {
            return false;
        };
        mine.ids.retain(|c| *c != id);
        if !conn.away {
            mine.active -= 1;
        }
        let last_here = mine.ids.is_empty();
        if last_here {
            state.per_user.remove(&conn.user_id);
        }
        self.announce_user(&mut state, conn.user_id);
        // The tab in use closed and only away ones are left (here or on other nodes).
        if self.is_online(&state, conn.user_id) && self.is_away(&state, conn.user_id) != was_away {
            self.tell_away(&state, conn.user_id, !was_away);
        }
        last_here && !self.is_closing()
    }

    /// Adds a subscription. For topics with presence, returns who is present on any node (this
    /// user included) and tells the others if this user just arrived.
    pub fn subscribe(&self, id: u64, topic: Topic) -> Option<Vec<UserId>> {
        let mut state = self.state();
        let (user_id, mailbox) = {
            let conn = state.conns.get_mut(&id)?;
            if conn.topics.contains(&topic) {
                // Already subscribed: nothing changes.
                return topic.has_presence().then(|| Self::present(&state, topic));
            }
            conn.topics.reserve_exact(1);
            conn.topics.push(topic);
            (conn.user_id, conn.mailbox.clone())
        };
        let entry = state.topics.entry(topic).or_default();
        entry.subscribers.insert(id, mailbox);
        entry.recipients = None;
        if !topic.has_presence() {
            return None;
        }
        let count = entry.present.entry(user_id).or_default();
        *count += 1;
        if *count == 1 {
            self.arrived(&mut state, topic, user_id, Some(id));
        }
        Some(Self::present(&state, topic))
    }

    pub fn unsubscribe(&self, id: u64, topic: Topic) {
        let mut state = self.state();
        let Some(conn) = state.conns.get_mut(&id) else {
            return;
        };
        if let Some(i) = conn.topics.iter().position(|t| *t == topic) {
            conn.topics.swap_remove(i);
            conn.topics.shrink_to_fit();
            let user_id = conn.user_id;
            self.leave(&mut state, id, user_id, topic);
        }
    }

    fn leave(&self, state: &mut State, id: u64, user_id: UserId, topic: Topic) {
        let Some(entry) = state.topics.get_mut(&topic) else {
            return;
        };
        if entry.subscribers.remove(&id).is_some() {
            entry.recipients = None;
        }
        let mut left = false;
        if let Some(n) = entry.present.get_mut(&user_id) {
            *n -= 1;
            if *n == 0 {
                entry.present.remove(&user_id);
                left = true;
            }
        }
        if entry.subscribers.is_empty() {
            state.topics.remove(&topic);
        }
        if left {
            self.departed(state, topic, user_id);
        }
    }

    /// Publishes a committed durable event to every node's subscribers.
    pub fn publish(&self, event: &StoredEvent) {
        self.inner.bus.publish(Self::bus_event(event));
    }

    fn bus_event(event: &StoredEvent) -> BusMessage {
        BusMessage::Event {
            topic: event.topic,
            epoch: event.epoch.as_str().into(),
            offset: event.offset,
            frame: frame(&event.to_message()),
        }
    }

    /// Delivers a durable event read from the log to this node's subscribers only (the catch-up:
    /// the bus lost it or has not brought it yet). Connections drop what they already have.
    pub fn deliver_caught_up(&self, event: &StoredEvent) {
        self.inner.caught_up.fetch_add(1, Ordering::Relaxed);
        self.deliver(Self::bus_event(event));
    }

    /// The topics this node has subscribers for, each with the newest point of its log delivered
    /// or read here (`None` when nothing is known yet).
    pub fn watched(&self) -> Vec<(Topic, Option<LogPoint>)> {
        self.state()
            .topics
            .iter()
            .map(|(topic, entry)| (*topic, entry.seen.clone()))
            .collect()
    }

    /// Records that a subscriber read `topic`'s log up to `offset` (a subscribe's replay): the
    /// catch-up looks for what came after.
    pub fn note_position(&self, topic: Topic, epoch: &str, offset: i64) {
        if let Some(entry) = self.state().topics.get_mut(&topic) {
            if entry.seen.is_none() {
                entry.seen = Some((epoch.into(), offset));
            }
        }
    }

    /// Sends a frame to this node's subscribers of `topic` only (what each node works out for its own
    /// viewers, such as a leaderboard's moves).
    pub fn send_local(&self, topic: Topic, message: &ServerMessage) {
        self.send_frame(&self.state(), topic, frame(message), None);
    }

    /// Stops delivering `topic` to every connection of `user`, on every node, and tells each of them
    /// (see [`Outbound::Revoked`]). Called after the commit that removed the access.
    pub fn revoke(&self, user: UserId, topic: Topic) {
        self.inner.bus.publish(BusMessage::Revoke { user, topic });
    }

    /// Publishes an ephemeral event from connection `origin` to the topic's other subscribers.
    pub fn publish_ephemeral(
        &self,
        origin: u64,
        user_id: UserId,
        topic: Topic,
        event: &str,
        data: serde_json::Value,
    ) {
        let frame = frame(&ServerMessage::Ephemeral {
            topic,
            event: event.to_string(),
            user_id,
            data,
        });
        self.inner.bus.publish(BusMessage::Ephemeral {
            topic,
            origin,
            frame,
        });
    }

    /// Delivers a bus message to this node's subscribers.
    fn deliver(&self, message: BusMessage) {
        match message {
            BusMessage::Event {
                topic,
                epoch,
                offset,
                frame,
            } => {
                for observer in self
                    .inner
                    .observers
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                {
                    observer(topic, &frame);
                }
                // Only the list is taken under the lock. A connection that leaves meanwhile may
                // still be offered this event: its task is gone (nothing reads the mailbox) or it
                // no longer has the topic's cursor (the event is dropped), so it is never shown.
                let Some(recipients) = self.state().topics.get_mut(&topic).map(|entry| {
                    entry.saw(&epoch, offset);
                    entry.recipients()
                }) else {
                    return;
                };
                let event = Arc::new(LiveEvent {
                    topic,
                    epoch,
                    offset,
                    frame,
                });
                for (_, mailbox) in recipients.iter() {
                    self.offer(mailbox, Outbound::Event(event.clone()));
                }
            }
            BusMessage::Ephemeral {
                topic,
                origin,
                frame,
            } => {
                self.send_frame(&self.state(), topic, frame, Some(origin));
            }
            BusMessage::Revoke { user, topic } => {
                let mut state = self.state();
                // Every connection is looked at: revocations are rare (a removal from a room), and
                // the hub keeps no index of connections by user.
                let holding: Vec<u64> = state
                    .conns
                    .iter()
                    .filter(|(_, c)| c.user_id == user && c.topics.contains(&topic))
                    .map(|(id, _)| *id)
                    .collect();
                for id in holding {
                    let Some(conn) = state.conns.get_mut(&id) else {
                        continue;
                    };
                    conn.topics.retain(|t| *t != topic);
                    conn.topics.shrink_to_fit();
                    let mailbox = conn.mailbox.clone();
                    self.leave(&mut state, id, user, topic);
                    self.offer(&mailbox, Outbound::Revoked(topic));
                }
            }
            BusMessage::Presence { node, seq, update } => {
                if *node != *self.inner.node {
                    self.remote_presence(&node, seq, update);
                }
            }
        }
    }

    /// Sends an offset-less frame to a topic's subscribers, except one connection. Under the lock:
    /// presence diffs must reach each subscriber in the order the hub changed presence.
    fn send_frame(&self, state: &State, topic: Topic, frame: Bytes, except: Option<u64>) {
        let Some(entry) = state.topics.get(&topic) else {
            return;
        };
        for (_, mailbox) in entry
            .subscribers
            .iter()
            .filter(|(c, _)| Some(**c) != except)
        {
            self.offer(mailbox, Outbound::Frame(topic, frame.clone()));
        }
    }

    /// Queues an item for one connection and counts what became of it.
    fn offer(&self, mailbox: &Mailbox, item: Outbound) {
        let counter = match mailbox.offer(item) {
            Offer::Queued => &self.inner.delivered,
            Offer::FlaggedSlow => &self.inner.slow_consumers,
            Offer::Dropped => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn stats(&self) -> HubStats {
        let state = self.state();
        HubStats {
            connections: state.conns.len(),
            users: state.per_user.len(),
            subscriptions: state.topics.values().map(|t| t.subscribers.len()).sum(),
            topics: state.topics.len(),
            delivered: self.inner.delivered.load(Ordering::Relaxed),
            slow_consumers: self.inner.slow_consumers.load(Ordering::Relaxed),
            caught_up: self.inner.caught_up.load(Ordering::Relaxed),
        }
    }
}

fn frame(message: &ServerMessage) -> Bytes {
    Bytes::from(encode(message))
}
