//! The hub: which local connections listen to which topics, fan-out and presence (who is there, and
//! who of them is away: every one of their connections says its tab is hidden or idle). An event is
//! encoded once and the same bytes go to every recipient's bounded mailbox. A connection whose
//! mailbox is full is flagged as a slow consumer (its socket is then closed) and never holds up
//! delivery to anyone else.
//!
//! Durable events are offered outside the hub's lock: under it, delivery only takes the topic's
//! recipient list (an `Arc`'d slice, rebuilt after the topic's subscribers change), so a publish to a
//! topic of 10,000 viewers neither blocks nor waits for connects, subscribes and other publishes.

use super::bus::{Bus, BusMessage};
use super::log::StoredEvent;
use super::mailbox::{LiveEvent, Mailbox, Offer, Outbound};
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

/// A topic's subscribers as delivery reads them: shared, so a delivery holds them without the lock.
type Recipients = Arc<[(u64, Arc<Mailbox>)]>;

#[derive(Default)]
struct TopicEntry {
    subscribers: HashMap<u64, Arc<Mailbox>>,
    /// `subscribers` as a slice, made by the first delivery after they changed (a burst of
    /// subscribes costs one copy, not one per subscribe).
    recipients: Option<Recipients>,
    /// Connections per present user.
    present: HashMap<UserId, usize>,
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
}

/// One user's connections to this node.
#[derive(Default)]
struct UserConns {
    ids: Vec<u64>,
    /// How many of them are not away: the user is away when none is.
    active: usize,
}

#[derive(Default)]
struct State {
    conns: HashMap<u64, Conn>,
    topics: HashMap<Topic, TopicEntry>,
    per_user: HashMap<UserId, UserConns>,
}

impl State {
    fn is_away(&self, user: UserId) -> bool {
        self.per_user.get(&user).is_some_and(|u| u.active == 0)
    }
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
}

struct Inner {
    settings: HubSettings,
    state: Mutex<State>,
    bus: Arc<dyn Bus>,
    next_id: AtomicU64,
    /// Set once, under the state lock, when the server shuts down.
    closing: AtomicBool,
    delivered: AtomicU64,
    slow_consumers: AtomicU64,
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
            state: Mutex::new(State::default()),
            bus: bus.clone(),
            next_id: AtomicU64::new(1),
            closing: AtomicBool::new(false),
            delivered: AtomicU64::new(0),
            slow_consumers: AtomicU64::new(0),
        });
        let weak = Arc::downgrade(&inner);
        bus.set_handler(Arc::new(move |message| {
            if let Some(inner) = weak.upgrade() {
                Hub { inner }.deliver(message);
            }
        }));
        Hub { inner }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a connection of `user_id`; refused beyond the per-user cap and once the server
    /// is shutting down.
    pub fn connect(&self, user_id: UserId) -> Result<Registration, Refused> {
        let mut state = self.state();
        // Read under the lock that `close_all` holds while it sets it: a connection either is
        // told to close or is refused, never neither.
        if self.is_closing() {
            return Err(Refused::ShuttingDown);
        }
        let mine = state.per_user.entry(user_id).or_default();
        if mine.ids.len() >= self.inner.settings.max_connections_per_user {
            return Err(Refused::TooManyConnections);
        }
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        mine.ids.push(id);
        mine.active += 1;
        // A new tab is active: if every other tab was away, the user is back.
        if mine.active == 1 && mine.ids.len() > 1 {
            self.tell_away(&state, user_id, false);
        }
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
        if mine.ids.is_empty() {
            state.per_user.remove(&conn.user_id);
            return !self.is_closing();
        }
        // The active tab closed and only away ones are left.
        if !conn.away && mine.active == 0 {
            self.tell_away(&state, conn.user_id, true);
        }
        false
    }

    /// Connection `id`'s page is hidden or idle (`away`), or in use again. When that changes
    /// whether its user is away (all their tabs are), their presence topics hear of it.
    pub fn set_away(&self, id: u64, away: bool) {
        let mut state = self.state();
        let Some(conn) = state.conns.get_mut(&id) else {
            return;
        };
        if conn.away == away {
            return;
        }
        conn.away = away;
        let user = conn.user_id;
        let Some(mine) = state.per_user.get_mut(&user) else {
            return;
        };
        let was_away = mine.active == 0;
        if away {
            mine.active -= 1;
        } else {
            mine.active += 1;
        }
        if (mine.active == 0) != was_away {
            self.tell_away(&state, user, away);
        }
    }

    /// Tells every presence topic `user` is present in that they went away (or came back).
    fn tell_away(&self, state: &State, user: UserId, away: bool) {
        let Some(mine) = state.per_user.get(&user) else {
            return;
        };
        // Several tabs follow the same rooms: each topic is told once.
        let topics: std::collections::HashSet<Topic> = mine
            .ids
            .iter()
            .filter_map(|id| state.conns.get(id))
            .flat_map(|c| c.topics.iter().copied())
            .filter(|t| t.has_presence())
            .collect();
        for topic in topics {
            let (went, came) = if away {
                (vec![user], vec![])
            } else {
                (vec![], vec![user])
            };
            let frame = frame(&ServerMessage::PresenceDiff {
                topic,
                joined: vec![],
                left: vec![],
                away: went,
                back: came,
            });
            self.send_frame(state, topic, frame, None);
        }
    }

    /// Of `users`, those who are away (every connection of theirs on this node is).
    pub fn away_among(&self, users: &[UserId]) -> Vec<UserId> {
        let state = self.state();
        users
            .iter()
            .copied()
            .filter(|u| state.is_away(*u))
            .collect()
    }

    /// Adds a subscription. For topics with presence, returns who is present (this user included) and
    /// tells the others if this user just arrived.
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
            // Arriving with only away tabs (a hidden tab opening a room) counts as away at once.
            let away = if state.is_away(user_id) {
                vec![user_id]
            } else {
                vec![]
            };
            let frame = frame(&ServerMessage::PresenceDiff {
                topic,
                joined: vec![user_id],
                left: vec![],
                away,
                back: vec![],
            });
            self.send_frame(&state, topic, frame, Some(id));
        }
        Some(Self::present(&state, topic))
    }

    fn present(state: &State, topic: Topic) -> Vec<UserId> {
        let mut users: Vec<UserId> = state
            .topics
            .get(&topic)
            .map(|t| t.present.keys().copied().collect())
            .unwrap_or_default();
        users.sort_unstable();
        users
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
        } else if left {
            let frame = frame(&ServerMessage::PresenceDiff {
                topic,
                joined: vec![],
                left: vec![user_id],
                away: vec![],
                back: vec![],
            });
            self.send_frame(state, topic, frame, None);
        }
    }

    /// Publishes a committed durable event to every node's subscribers.
    pub fn publish(&self, event: &StoredEvent) {
        self.inner.bus.publish(BusMessage::Event {
            topic: event.topic,
            epoch: event.epoch.as_str().into(),
            offset: event.offset,
            frame: frame(&event.to_message()),
        });
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
                // Only the list is taken under the lock. A connection that leaves meanwhile may
                // still be offered this event: its task is gone (nothing reads the mailbox) or it
                // no longer has the topic's cursor (the event is dropped), so it is never shown.
                let Some(recipients) = self
                    .state()
                    .topics
                    .get_mut(&topic)
                    .map(TopicEntry::recipients)
                else {
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

    /// Users with at least one connection to this node.
    /// Whether `user` has a connection on this node subscribed to `topic` (a topic with presence).
    pub fn is_present(&self, topic: Topic, user: UserId) -> bool {
        self.state()
            .topics
            .get(&topic)
            .is_some_and(|t| t.present.contains_key(&user))
    }

    pub fn online_users(&self) -> usize {
        self.state().per_user.len()
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
        }
    }
}

fn frame(message: &ServerMessage) -> Bytes {
    Bytes::from(encode(message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::realtime::mailbox::{Next, Stop};
    use crate::server::realtime::InProcessBus;
    use std::time::Duration;

    #[tokio::test]
    async fn closing_wakes_every_connection_and_refuses_new_ones() {
        let hub = Hub::new(HubSettings::default(), Arc::new(InProcessBus::default()));
        let first = hub.connect(1).expect("open");
        let second = hub.connect(2).expect("open");
        assert!(!hub.is_closing());
        let mut online = hub.close_all();
        online.sort_unstable();
        assert_eq!(online, [1, 2], "who was connected when the hub closed");
        assert!(hub.is_closing());
        for registration in [&first, &second] {
            let next = tokio::time::timeout(Duration::from_secs(5), registration.mailbox.next())
                .await
                .expect("told without waiting");
            assert!(matches!(next, Next::Stop(Stop::Closing)));
        }
        assert_eq!(hub.connect(3).err(), Some(Refused::ShuttingDown));
        // Those told to close still leave as usual, and leave last-seen to the shutdown, which
        // has them in its list.
        assert!(
            !hub.disconnect(first.id),
            "last-seen is the shutdown's to store"
        );
        assert_eq!(hub.stats().connections, 1);
    }

    #[test]
    fn a_topic_is_held_once_per_connection_and_let_go_on_unsubscribe_and_disconnect() {
        let hub = Hub::new(HubSettings::default(), Arc::new(InProcessBus::default()));
        let conn = hub.connect(1).expect("open");
        let topics_held = |hub: &Hub| {
            let state = hub.state();
            let topics = &state.conns[&conn.id].topics;
            (topics.len(), topics.capacity())
        };
        hub.subscribe(conn.id, Topic::User(1));
        hub.subscribe(conn.id, Topic::User(1));
        assert_eq!(
            hub.subscribe(conn.id, Topic::Room(7)),
            Some(vec![1]),
            "a presence topic answers who is there"
        );
        let stats = hub.stats();
        assert_eq!(
            (stats.subscriptions, stats.topics),
            (2, 2),
            "a repeat adds nothing"
        );
        assert_eq!(topics_held(&hub), (2, 2), "no spare room");
        hub.unsubscribe(conn.id, Topic::User(1));
        hub.unsubscribe(conn.id, Topic::User(1)); // not held any more: nothing happens
        let stats = hub.stats();
        assert_eq!((stats.subscriptions, stats.topics), (1, 1));
        assert_eq!(topics_held(&hub), (1, 1), "room given back");
        // Held again after it was let go (it would count as a repeat if unsubscribe had not
        // removed it from the connection's own list).
        hub.subscribe(conn.id, Topic::User(1));
        assert_eq!(hub.stats().subscriptions, 2);
        assert!(
            hub.disconnect(conn.id),
            "the user's last connection: store last-seen"
        );
        let stats = hub.stats();
        assert_eq!(
            (stats.connections, stats.subscriptions, stats.topics),
            (0, 0, 0)
        );
    }

    #[test]
    fn delivery_follows_every_subscribe_and_unsubscribe() {
        let hub = Hub::new(HubSettings::default(), Arc::new(InProcessBus::default()));
        let [a, b, c] = [1, 2, 3].map(|user| hub.connect(user).expect("open"));
        let topic = Topic::User(9);
        let publish = |offset: i64| {
            hub.publish(&StoredEvent {
                topic,
                epoch: "e".into(),
                offset,
                event: "learning.changed".into(),
                data: serde_json::Value::Null,
                at: 0,
            })
        };
        let received = |r: &Registration| {
            std::iter::from_fn(|| r.mailbox.try_recv())
                .filter_map(|out| match out {
                    Outbound::Event(e) => Some(e.offset),
                    Outbound::Frame(..) | Outbound::Revoked(_) => None,
                })
                .collect::<Vec<_>>()
        };
        hub.subscribe(a.id, topic);
        hub.subscribe(b.id, topic);
        publish(1);
        // The list delivery used is rebuilt after each change, never reused stale.
        hub.subscribe(c.id, topic);
        publish(2);
        hub.unsubscribe(a.id, topic);
        publish(3);
        assert_eq!(received(&a), [1, 2]);
        assert_eq!(received(&b), [1, 2, 3]);
        assert_eq!(received(&c), [2, 3]);
        hub.disconnect(b.id);
        publish(4);
        assert_eq!(received(&b), Vec::<i64>::new(), "gone with its connection");
        assert_eq!(received(&c), [4]);
    }

    #[test]
    fn a_revoked_topic_stops_at_once_for_every_connection_of_that_user_only() {
        let hub = Hub::new(HubSettings::default(), Arc::new(InProcessBus::default()));
        // Two tabs of user 1, one of user 2, all in the room; user 1 also follows another topic.
        let [tab1, tab2, other] = [1, 1, 2].map(|user| hub.connect(user).expect("open"));
        let room = Topic::Room(7);
        for r in [&tab1, &tab2, &other] {
            hub.subscribe(r.id, room);
        }
        hub.subscribe(tab1.id, Topic::Announcements);
        let drain =
            |r: &Registration| std::iter::from_fn(|| r.mailbox.try_recv()).collect::<Vec<_>>();
        for r in [&tab1, &tab2, &other] {
            drain(r); // presence frames from the subscribes
        }
        hub.revoke(1, room);
        hub.publish(&StoredEvent {
            topic: room,
            epoch: "e".into(),
            offset: 1,
            event: "chat.message.posted".into(),
            data: serde_json::Value::Null,
            at: 0,
        });
        for tab in [&tab1, &tab2] {
            let got = drain(tab);
            assert!(
                matches!(got.as_slice(), [Outbound::Revoked(t)] if *t == room),
                "told once, then nothing of the room: {got:?}"
            );
        }
        let got = drain(&other);
        let events: Vec<_> = got
            .iter()
            .filter_map(|o| match o {
                Outbound::Event(e) => Some(e.offset),
                _ => None,
            })
            .collect();
        assert_eq!(events, [1], "another member still gets the room");
        assert!(
            got.iter()
                .any(|o| matches!(o, Outbound::Frame(t, _) if *t == room)),
            "and sees user 1 leave the room's presence"
        );
        let stats = hub.stats();
        assert_eq!(
            (stats.subscriptions, stats.topics),
            (2, 2),
            "user 2's room and user 1's announcements stay"
        );
    }
    #[test]
    fn a_user_beyond_the_cap_is_refused() {
        let settings = HubSettings {
            max_connections_per_user: 1,
            ..HubSettings::default()
        };
        let hub = Hub::new(settings, Arc::new(InProcessBus::default()));
        let held = hub.connect(7).expect("open");
        assert_eq!(hub.connect(7).err(), Some(Refused::TooManyConnections));
        assert!(hub.connect(8).is_ok());
        // A user with two connections (a higher cap) is still online after one closes.
        let hub = Hub::new(HubSettings::default(), Arc::new(InProcessBus::default()));
        let (one, two) = (hub.connect(7).expect("open"), hub.connect(7).expect("open"));
        assert!(!hub.disconnect(one.id), "another connection remains");
        assert!(hub.disconnect(two.id));
        assert!(
            !hub.disconnect(held.id),
            "not this hub's connection: nothing to store"
        );
    }
}
