//! The hub's own tests: delivery, subscriptions, revocation, the per-user cap, and presence merged
//! with other nodes'.

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
    let drain = |r: &Registration| std::iter::from_fn(|| r.mailbox.try_recv()).collect::<Vec<_>>();
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

/// Two hubs joined by a bus that holds what is in flight until [`Link::pump`] hands it over, as
/// Redis would (no reentrancy: a node never handles another's message inside its own publish).
mod linked {
    use super::*;
    use crate::server::realtime::bus::Handler;
    use std::collections::VecDeque;
    use std::sync::RwLock;

    #[derive(Default)]
    pub struct Link {
        in_flight: Mutex<VecDeque<(String, BusMessage)>>,
        handlers: RwLock<Vec<(String, Handler)>>,
    }

    pub struct LinkedBus {
        pub node: String,
        pub link: Arc<Link>,
    }

    impl Link {
        /// Delivers everything in flight (and what that causes) to every other node.
        pub fn pump(&self) {
            loop {
                let next = self.in_flight.lock().unwrap().pop_front();
                let Some((from, message)) = next else { return };
                let handlers = self.handlers.read().unwrap().clone();
                for (node, handler) in handlers {
                    if node != from {
                        handler(message.clone());
                    }
                }
            }
        }
    }

    impl Bus for LinkedBus {
        fn publish(&self, message: BusMessage) {
            let remote = match &message {
                BusMessage::Ephemeral { topic, frame, .. } => BusMessage::Ephemeral {
                    topic: *topic,
                    origin: 0,
                    frame: frame.clone(),
                },
                other => other.clone(),
            };
            self.link
                .in_flight
                .lock()
                .unwrap()
                .push_back((self.node.clone(), remote));
            if !matches!(message, BusMessage::Presence { .. }) {
                let handlers = self.link.handlers.read().unwrap().clone();
                for (node, handler) in handlers {
                    if node == self.node {
                        handler(message.clone());
                    }
                }
            }
        }

        fn set_handler(&self, handler: Handler) {
            self.link
                .handlers
                .write()
                .unwrap()
                .push((self.node.clone(), handler));
        }

        fn node(&self) -> &str {
            &self.node
        }

        fn clustered(&self) -> bool {
            true
        }
    }
}

/// A presence diff's joined, left, away and back.
type Diff = (Vec<UserId>, Vec<UserId>, Vec<UserId>, Vec<UserId>);

fn presence_frames(r: &Registration) -> Vec<Diff> {
    std::iter::from_fn(|| r.mailbox.try_recv())
        .filter_map(|out| match out {
            Outbound::Frame(_, bytes) => {
                match crate::protocol::decode_server(std::str::from_utf8(&bytes).unwrap()) {
                    Ok(ServerMessage::PresenceDiff {
                        joined,
                        left,
                        away,
                        back,
                        ..
                    }) => Some((joined, left, away, back)),
                    _ => None,
                }
            }
            _ => None,
        })
        .collect()
}

#[test]
fn two_nodes_merge_presence_and_away_and_a_silent_node_leaves() {
    let link = Arc::new(linked::Link::default());
    let bus = |node: &str| {
        Arc::new(linked::LinkedBus {
            node: node.into(),
            link: link.clone(),
        })
    };
    let a = Hub::new(HubSettings::default(), bus("a"));
    let b = Hub::new(HubSettings::default(), bus("b"));
    let room = Topic::Room(1);
    // Ana (7) has a tab on node a; Ben (8) watches the room from node b.
    let ana_a = a.connect(7).unwrap();
    a.subscribe(ana_a.id, room);
    link.pump();
    let ben = b.connect(8).unwrap();
    assert_eq!(
        b.subscribe(ben.id, room),
        Some(vec![7, 8]),
        "Ana on node a is listed on b"
    );
    link.pump();
    assert_eq!(a.online_users(), 2);
    assert!(a.is_present(room, 8) && b.is_present(room, 7));
    // A second tab of Ana's, on node b: no join for Ben. Her tab on a closes: no leave.
    let ana_b = b.connect(7).unwrap();
    b.subscribe(ana_b.id, room);
    link.pump();
    a.disconnect(ana_a.id);
    link.pump();
    assert!(
        presence_frames(&ben).is_empty(),
        "one presence for two tabs"
    );
    // Her remaining tab goes idle: away everywhere; it comes back.
    b.set_away(ana_b.id, true);
    link.pump();
    assert_eq!(presence_frames(&ben), [(vec![], vec![], vec![7], vec![])]);
    assert_eq!(a.away_among(&[7, 8]), [7], "node a agrees she is away");
    b.set_away(ana_b.id, false);
    link.pump();
    assert_eq!(presence_frames(&ben), [(vec![], vec![], vec![], vec![7])]);
    // Cy (9) joins on node a; then node a falls silent and is declared dead.
    let cy = a.connect(9).unwrap();
    a.subscribe(cy.id, room);
    link.pump();
    assert_eq!(presence_frames(&ben), [(vec![9], vec![], vec![], vec![])]);
    let offline = b.expire_nodes(Duration::ZERO);
    assert_eq!(offline, [9], "Cy was online only through node a");
    assert_eq!(presence_frames(&ben), [(vec![], vec![9], vec![], vec![])]);
    assert!(b.is_present(room, 7), "Ana's tab on b keeps her present");
    assert!(b.other_nodes().is_empty());
}
