//! Presence on the other nodes: what each of them says about its own connections, merged into one
//! view the hub reads beside its local counts. Each node sends only changes of its own state
//! (a user arrives in or leaves a topic on that node; a user's connections there and whether any is
//! in use), numbered in order; a missing number, an unknown node or a reconnect to the bus asks that
//! node for a snapshot of everything it holds. A node not heard from for the node TTL is taken as
//! dead and everything it held goes, as leaves.
//!
//! Pure data: no I/O, no clock of its own. The hub calls it under its lock and turns the [`Flip`]s it
//! returns into presence diffs for its local subscribers.

use crate::model::UserId;
use crate::protocol::Topic;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// What one node says of its own presence state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum PresenceUpdate {
    /// `user` now has (or no longer has) a connection subscribed to `topic` on the sending node.
    Topic {
        topic: Topic,
        user: UserId,
        present: bool,
    },
    /// `user`'s connections on the sending node, and whether any of them is in use (not away).
    /// `conns: 0` means the user has none there any more.
    User {
        user: UserId,
        conns: u32,
        active: bool,
    },
    /// Everything the sending node holds, replacing what was known of it.
    Snapshot {
        topics: Vec<(Topic, Vec<UserId>)>,
        users: Vec<(UserId, u32, bool)>,
    },
    /// The sending node is alive; `seq` tells how many changes it has sent.
    Alive,
    /// Asks `target` (every node when `None`) for a snapshot.
    SyncRequest { target: Option<String> },
    /// The sending node is stopping: everything it held goes now.
    Gone,
}

impl PresenceUpdate {
    /// Whether this update changes the sender's state (and so takes the next number).
    pub fn is_change(&self) -> bool {
        matches!(
            self,
            PresenceUpdate::Topic { .. }
                | PresenceUpdate::User { .. }
                | PresenceUpdate::Snapshot { .. }
        )
    }
}

/// A change in what the other nodes, together, hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flip {
    /// Whether any other node has `user` present in `topic`.
    Topic {
        topic: Topic,
        user: UserId,
        present: bool,
    },
    /// Whether any other node has a connection of `user` (`online`) and whether any has one in use
    /// (`active`), now and before.
    User {
        user: UserId,
        online: bool,
        active: bool,
        was_online: bool,
        was_active: bool,
    },
}

/// What applying one message asks of the hub.
#[derive(Debug, Default, PartialEq)]
pub struct Applied {
    pub flips: Vec<Flip>,
    /// A snapshot is needed from this node (its numbering has a gap, or it is unknown).
    pub ask_snapshot_of: Option<String>,
    /// Another node asked for this node's snapshot.
    pub snapshot_wanted: bool,
}

#[derive(Default)]
struct NodeView {
    /// The number of the last change applied.
    seq: u64,
    heard_at: Option<Instant>,
    /// When a snapshot was last asked of it (not asked again for a second).
    asked_at: Option<Instant>,
    topics: HashMap<Topic, HashSet<UserId>>,
    users: HashMap<UserId, (u32, bool)>,
}

/// The merged presence of every other node.
#[derive(Default)]
pub struct RemotePresence {
    nodes: HashMap<String, NodeView>,
    /// Per topic and user: on how many other nodes the user is present.
    topic_users: HashMap<Topic, HashMap<UserId, u32>>,
    /// Per user: the topics other nodes have them present in (for away changes).
    user_topics: HashMap<UserId, HashSet<Topic>>,
    /// Per user: connections on other nodes, and on how many nodes one is in use.
    users: HashMap<UserId, (u32, u32)>,
}

/// Whether a user has a connection on another node, and whether one of them is in use.
type UserState = (bool, bool);

/// Collects transitions and keeps only those whose end differs from their start (a snapshot removes
/// then re-adds what stays).
#[derive(Default)]
struct Net {
    topics: HashMap<(Topic, UserId), (bool, bool)>,
    /// Per user: (online, active) before and after.
    users: HashMap<UserId, (UserState, UserState)>,
    order: Vec<Flip>,
}

impl Net {
    fn topic(&mut self, topic: Topic, user: UserId, now: bool) {
        let e = self.topics.entry((topic, user)).or_insert_with(|| {
            self.order.push(Flip::Topic {
                topic,
                user,
                present: now,
            });
            (!now, now)
        });
        e.1 = now;
    }

    fn user(&mut self, user: UserId, before: (bool, bool), after: (bool, bool)) {
        if before == after {
            return;
        }
        let e = self.users.entry(user).or_insert_with(|| {
            self.order.push(Flip::User {
                user,
                online: after.0,
                active: after.1,
                was_online: before.0,
                was_active: before.1,
            });
            (before, after)
        });
        e.1 = after;
    }

    fn into_flips(self) -> Vec<Flip> {
        self.order
            .into_iter()
            .filter_map(|flip| match flip {
                Flip::Topic { topic, user, .. } => {
                    let (before, after) = self.topics[&(topic, user)];
                    (before != after).then_some(Flip::Topic {
                        topic,
                        user,
                        present: after,
                    })
                }
                Flip::User { user, .. } => {
                    let (before, after) = self.users[&user];
                    (before != after).then_some(Flip::User {
                        user,
                        online: after.0,
                        active: after.1,
                        was_online: before.0,
                        was_active: before.1,
                    })
                }
            })
            .collect()
    }
}

impl RemotePresence {
    /// Applies what `node` sent as its change number `seq` (for changes) or its current number.
    pub fn apply(
        &mut self,
        node: &str,
        seq: u64,
        update: PresenceUpdate,
        now: Instant,
        me: &str,
    ) -> Applied {
        let mut applied = Applied::default();
        let mut net = Net::default();
        let known = self.nodes.contains_key(node);
        let view = self.nodes.entry(node.to_string()).or_default();
        view.heard_at = Some(now);
        let in_step = match &update {
            PresenceUpdate::Snapshot { .. } | PresenceUpdate::Gone => true,
            PresenceUpdate::SyncRequest { .. } => true,
            PresenceUpdate::Alive => known && seq == view.seq,
            PresenceUpdate::Topic { .. } | PresenceUpdate::User { .. } => {
                known && seq == view.seq + 1
            }
        };
        if update.is_change() {
            view.seq = seq;
        }
        if !in_step {
            let recently = view
                .asked_at
                .is_some_and(|at| now.duration_since(at) < Duration::from_secs(1));
            if !recently {
                view.asked_at = Some(now);
                applied.ask_snapshot_of = Some(node.to_string());
            }
        }
        match update {
            PresenceUpdate::Topic {
                topic,
                user,
                present,
            } => self.set_topic(node, topic, user, present, &mut net),
            PresenceUpdate::User {
                user,
                conns,
                active,
            } => self.set_user(node, user, conns, active, &mut net),
            PresenceUpdate::Snapshot { topics, users } => {
                self.clear_node(node, &mut net);
                for (user, conns, active) in users {
                    self.set_user(node, user, conns, active, &mut net);
                }
                for (topic, present) in topics {
                    for user in present {
                        self.set_topic(node, topic, user, true, &mut net);
                    }
                }
                if let Some(view) = self.nodes.get_mut(node) {
                    view.asked_at = None;
                }
            }
            PresenceUpdate::Gone => {
                self.clear_node(node, &mut net);
                self.nodes.remove(node);
            }
            PresenceUpdate::SyncRequest { target } => {
                applied.snapshot_wanted = target.as_deref().is_none_or(|t| t == me);
            }
            PresenceUpdate::Alive => {}
        }
        applied.flips = net.into_flips();
        applied
    }

    /// Drops every node not heard from within `ttl`: returns them and what their loss changed.
    pub fn expire(&mut self, now: Instant, ttl: Duration) -> (Vec<String>, Vec<Flip>) {
        let dead: Vec<String> = self
            .nodes
            .iter()
            .filter(|(_, v)| v.heard_at.is_none_or(|at| now.duration_since(at) > ttl))
            .map(|(n, _)| n.clone())
            .collect();
        let mut net = Net::default();
        for node in &dead {
            self.clear_node(node, &mut net);
            self.nodes.remove(node);
        }
        (dead, net.into_flips())
    }

    /// Users another node has present in `topic`.
    pub fn users_in(&self, topic: Topic) -> impl Iterator<Item = UserId> + '_ {
        self.topic_users
            .get(&topic)
            .into_iter()
            .flat_map(|users| users.keys().copied())
    }

    pub fn has(&self, topic: Topic, user: UserId) -> bool {
        self.topic_users
            .get(&topic)
            .is_some_and(|u| u.contains_key(&user))
    }

    /// Topics another node has `user` present in.
    pub fn topics_of(&self, user: UserId) -> impl Iterator<Item = Topic> + '_ {
        self.user_topics
            .get(&user)
            .into_iter()
            .flat_map(|t| t.iter().copied())
    }

    /// `user`'s connections on other nodes, and whether one of them is in use.
    pub fn conns(&self, user: UserId) -> (u32, bool) {
        self.users
            .get(&user)
            .map_or((0, false), |(conns, active)| (*conns, *active > 0))
    }

    /// Users with a connection on another node.
    pub fn online(&self) -> impl Iterator<Item = UserId> + '_ {
        self.users.keys().copied()
    }

    /// The other nodes heard from.
    pub fn nodes(&self) -> Vec<String> {
        let mut nodes: Vec<String> = self.nodes.keys().cloned().collect();
        nodes.sort();
        nodes
    }

    fn user_state(&self, user: UserId) -> (bool, bool) {
        let (conns, active) = self.conns(user);
        (conns > 0, active)
    }

    fn set_topic(&mut self, node: &str, topic: Topic, user: UserId, present: bool, net: &mut Net) {
        let Some(view) = self.nodes.get_mut(node) else {
            return;
        };
        let changed = if present {
            view.topics.entry(topic).or_default().insert(user)
        } else {
            let removed = view.topics.get_mut(&topic).is_some_and(|u| u.remove(&user));
            if view.topics.get(&topic).is_some_and(HashSet::is_empty) {
                view.topics.remove(&topic);
            }
            removed
        };
        if !changed {
            return;
        }
        let users = self.topic_users.entry(topic).or_default();
        let count = users.entry(user).or_default();
        if present {
            *count += 1;
            if *count == 1 {
                self.user_topics.entry(user).or_default().insert(topic);
                net.topic(topic, user, true);
            }
        } else {
            *count -= 1;
            if *count == 0 {
                users.remove(&user);
                if users.is_empty() {
                    self.topic_users.remove(&topic);
                }
                if let Some(t) = self.user_topics.get_mut(&user) {
                    t.remove(&topic);
                    if t.is_empty() {
                        self.user_topics.remove(&user);
                    }
                }
                net.topic(topic, user, false);
            }
        }
    }

    fn set_user(&mut self, node: &str, user: UserId, conns: u32, active: bool, net: &mut Net) {
        let before = self.user_state(user);
        let Some(view) = self.nodes.get_mut(node) else {
            return;
        };
        let active = active && conns > 0;
        let old = if conns == 0 {
            view.users.remove(&user)
        } else {
            view.users.insert(user, (conns, active))
        }
        .unwrap_or((0, false));
        let total = self.users.entry(user).or_default();
        total.0 = total.0 - old.0 + conns;
        total.1 = total.1 - u32::from(old.1) + u32::from(active);
        if total.0 == 0 {
            self.users.remove(&user);
        }
        let after = self.user_state(user);
        net.user(user, before, after);
    }

    fn clear_node(&mut self, node: &str, net: &mut Net) {
        let Some(view) = self.nodes.get(node) else {
            return;
        };
        let topics: Vec<(Topic, UserId)> = view
            .topics
            .iter()
            .flat_map(|(t, users)| users.iter().map(move |u| (*t, *u)))
            .collect();
        let users: Vec<UserId> = view.users.keys().copied().collect();
        for (topic, user) in topics {
            self.set_topic(node, topic, user, false, net);
        }
        for user in users {
            self.set_user(node, user, 0, false, net);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "me";

    fn topic(t: Topic, user: UserId, present: bool) -> PresenceUpdate {
        PresenceUpdate::Topic {
            topic: t,
            user,
            present,
        }
    }

    fn user(user: UserId, conns: u32, active: bool) -> PresenceUpdate {
        PresenceUpdate::User {
            user,
            conns,
            active,
        }
    }

    #[test]
    fn a_user_on_two_nodes_is_present_until_both_leave() {
        let mut p = RemotePresence::default();
        let now = Instant::now();
        let room = Topic::Room(1);
        let a = p.apply("a", 1, topic(room, 7, true), now, ME);
        assert_eq!(
            a.flips,
            [Flip::Topic {
                topic: room,
                user: 7,
                present: true
            }]
        );
        assert_eq!(
            a.ask_snapshot_of.as_deref(),
            Some("a"),
            "an unknown node is asked for its snapshot"
        );
        let b = p.apply("b", 1, topic(room, 7, true), now, ME);
        assert!(b.flips.is_empty(), "already present through node a");
        assert!(p
            .apply("a", 2, topic(room, 7, false), now, ME)
            .flips
            .is_empty());
        assert!(p.has(room, 7));
        let gone = p.apply("b", 2, topic(room, 7, false), now, ME);
        assert_eq!(
            gone.flips,
            [Flip::Topic {
                topic: room,
                user: 7,
                present: false
            }]
        );
        assert_eq!(p.users_in(room).count(), 0);
        assert_eq!(p.topics_of(7).count(), 0);
    }

    #[test]
    fn a_gap_in_a_nodes_numbering_asks_for_its_snapshot_once_a_second() {
        let mut p = RemotePresence::default();
        let now = Instant::now();
        p.apply(
            "a",
            1,
            PresenceUpdate::Snapshot {
                topics: vec![],
                users: vec![],
            },
            now,
            ME,
        );
        assert_eq!(
            p.apply("a", 2, user(7, 1, true), now, ME).ask_snapshot_of,
            None
        );
        assert_eq!(
            p.apply("a", 2, PresenceUpdate::Alive, now, ME)
                .ask_snapshot_of,
            None
        );
        // Change 3 was lost: the heartbeat says 4.
        let later = now + Duration::from_millis(10);
        assert_eq!(
            p.apply("a", 4, PresenceUpdate::Alive, later, ME)
                .ask_snapshot_of
                .as_deref(),
            Some("a")
        );
        assert_eq!(
            p.apply("a", 5, user(8, 1, true), later, ME).ask_snapshot_of,
            None,
            "not asked again while the answer is on its way"
        );
    }

    #[test]
    fn a_snapshot_replaces_what_was_known_and_flips_only_what_changed() {
        let mut p = RemotePresence::default();
        let now = Instant::now();
        let (r1, r2) = (Topic::Room(1), Topic::Room(2));
        p.apply(
            "a",
            1,
            PresenceUpdate::Snapshot {
                topics: vec![(r1, vec![7, 8])],
                users: vec![(7, 1, true), (8, 2, false)],
            },
            now,
            ME,
        );
        let applied = p.apply(
            "a",
            5,
            PresenceUpdate::Snapshot {
                topics: vec![(r1, vec![7]), (r2, vec![7])],
                users: vec![(7, 2, true)],
            },
            now,
            ME,
        );
        let mut flips = applied.flips;
        flips.sort_by_key(|f| format!("{f:?}"));
        assert_eq!(
            flips,
            [
                Flip::Topic {
                    topic: r1,
                    user: 8,
                    present: false
                },
                Flip::Topic {
                    topic: r2,
                    user: 7,
                    present: true
                },
                Flip::User {
                    user: 8,
                    online: false,
                    active: false,
                    was_online: true,
                    was_active: false
                },
            ]
        );
        assert_eq!(p.conns(7), (2, true));
        assert_eq!(p.conns(8), (0, false));
    }

    #[test]
    fn away_is_every_remote_connection_idle_and_a_dead_node_leaves_everything() {
        let mut p = RemotePresence::default();
        let t0 = Instant::now();
        let room = Topic::Room(3);
        p.apply(
            "a",
            1,
            PresenceUpdate::Snapshot {
                topics: vec![],
                users: vec![],
            },
            t0,
            ME,
        );
        p.apply(
            "b",
            1,
            PresenceUpdate::Snapshot {
                topics: vec![],
                users: vec![],
            },
            t0,
            ME,
        );
        p.apply("a", 2, user(7, 1, false), t0, ME);
        assert_eq!(p.conns(7), (1, false), "online, away");
        let back = p.apply("b", 2, user(7, 1, true), t0, ME);
        assert_eq!(
            back.flips,
            [Flip::User {
                user: 7,
                online: true,
                active: true,
                was_online: true,
                was_active: false
            }]
        );
        p.apply("b", 3, topic(room, 7, true), t0, ME);
        // Node a keeps beating; node b goes silent.
        let t1 = t0 + Duration::from_secs(4);
        p.apply("a", 2, PresenceUpdate::Alive, t1, ME);
        let (dead, flips) = p.expire(t0 + Duration::from_secs(6), Duration::from_secs(5));
        assert_eq!(dead, ["b"]);
        assert!(flips.contains(&Flip::Topic {
            topic: room,
            user: 7,
            present: false
        }));
        assert!(flips.contains(&Flip::User {
            user: 7,
            online: true,
            active: false,
            was_online: true,
            was_active: true
        }));
        assert_eq!(p.nodes(), ["a"]);
    }

    #[test]
    fn a_sync_request_is_answered_by_its_target_or_by_everyone() {
        let mut p = RemotePresence::default();
        let now = Instant::now();
        let ask = |target: Option<&str>| PresenceUpdate::SyncRequest {
            target: target.map(str::to_string),
        };
        assert!(p.apply("a", 0, ask(None), now, ME).snapshot_wanted);
        assert!(p.apply("a", 0, ask(Some(ME)), now, ME).snapshot_wanted);
        assert!(!p.apply("a", 0, ask(Some("c")), now, ME).snapshot_wanted);
        let gone = p.apply("a", 0, PresenceUpdate::Gone, now, ME);
        assert!(gone.flips.is_empty());
        assert!(p.nodes().is_empty());
    }
}
