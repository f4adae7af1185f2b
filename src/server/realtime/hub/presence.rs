//! The hub's presence: who is present in each topic and who is away, across nodes. A user is
//! present in a topic while any of their connections, on any node, is subscribed to it, and away
//! while every connection of theirs, on every node, says its page is hidden or idle. This node's
//! counts are kept in the hub's state; the other nodes' come through the bus
//! ([`crate::server::realtime::presence`]). Each node tells only its own subscribers, and only when
//! the merged answer changes, so a user with tabs on two nodes joins once and leaves once.

use super::{frame, Hub, State};
use crate::model::UserId;
use crate::protocol::{ServerMessage, Topic};
use crate::server::realtime::bus::BusMessage;
use crate::server::realtime::presence::{Flip, PresenceUpdate};
use std::collections::HashSet;
use std::time::{Duration, Instant};

impl Hub {
    /// Whether `user` has a connection on any node.
    pub(super) fn is_online(&self, state: &State, user: UserId) -> bool {
        state.per_user.contains_key(&user) || state.remote.conns(user).0 > 0
    }

    /// Whether `user` is online and every connection of theirs, on every node, is away.
    pub(super) fn is_away(&self, state: &State, user: UserId) -> bool {
        let local = state.per_user.get(&user);
        let (remote_conns, remote_active) = state.remote.conns(user);
        let online = local.is_some() || remote_conns > 0;
        online && local.is_none_or(|u| u.active == 0) && !remote_active
    }

    /// Connection `id`'s page is hidden or idle (`away`), or in use again. When that changes
    /// whether its user is away (all their tabs on all nodes are), their presence topics hear of it.
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
        let was_away = self.is_away(&state, user);
        let Some(mine) = state.per_user.get_mut(&user) else {
            return;
        };
        if away {
            mine.active -= 1;
        } else {
            mine.active += 1;
        }
        self.announce_user(&mut state, user);
        if self.is_away(&state, user) != was_away {
            self.tell_away(&state, user, !was_away);
        }
    }

    /// Tells every presence topic `user` is present in (on any node) that they went away (or came
    /// back).
    pub(super) fn tell_away(&self, state: &State, user: UserId, away: bool) {
        // Several tabs follow the same rooms: each topic is told once.
        let local = state
            .per_user
            .get(&user)
            .into_iter()
            .flat_map(|mine| mine.ids.iter())
            .filter_map(|id| state.conns.get(id))
            .flat_map(|c| c.topics.iter().copied());
        let topics: HashSet<Topic> = local
            .chain(state.remote.topics_of(user))
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

    /// `user`'s first local connection in `topic` arrived: the other nodes hear of it, and the
    /// topic's local subscribers (but `except`) do if the user was not there already elsewhere.
    pub(super) fn arrived(
        &self,
        state: &mut State,
        topic: Topic,
        user: UserId,
        except: Option<u64>,
    ) {
        self.announce(
            state,
            PresenceUpdate::Topic {
                topic,
                user,
                present: true,
            },
        );
        if !state.remote.has(topic, user) {
            self.tell_joined(state, topic, user, except);
        }
    }

    /// `user`'s last local connection in `topic` left.
    pub(super) fn departed(&self, state: &mut State, topic: Topic, user: UserId) {
        self.announce(
            state,
            PresenceUpdate::Topic {
                topic,
                user,
                present: false,
            },
        );
        if !state.remote.has(topic, user) {
            self.tell_left(state, topic, user);
        }
    }

    fn tell_joined(&self, state: &State, topic: Topic, user: UserId, except: Option<u64>) {
        // Arriving with only away tabs (a hidden tab opening a room) counts as away at once.
        let away = if self.is_away(state, user) {
            vec![user]
        } else {
            vec![]
        };
        let frame = frame(&ServerMessage::PresenceDiff {
            topic,
            joined: vec![user],
            left: vec![],
            away,
            back: vec![],
        });
        self.send_frame(state, topic, frame, except);
    }

    fn tell_left(&self, state: &State, topic: Topic, user: UserId) {
        let frame = frame(&ServerMessage::PresenceDiff {
            topic,
            joined: vec![],
            left: vec![user],
            away: vec![],
            back: vec![],
        });
        self.send_frame(state, topic, frame, None);
    }

    /// Who is present in `topic` on any node, sorted.
    pub(super) fn present(state: &State, topic: Topic) -> Vec<UserId> {
        let local = state
            .topics
            .get(&topic)
            .into_iter()
            .flat_map(|t| t.present.keys().copied());
        let mut users: Vec<UserId> = local.chain(state.remote.users_in(topic)).collect();
        users.sort_unstable();
        users.dedup();
        users
    }

    /// Of `users`, those who are away (every connection of theirs, on every node, is).
    pub fn away_among(&self, users: &[UserId]) -> Vec<UserId> {
        let state = self.state();
        users
            .iter()
            .copied()
            .filter(|u| self.is_away(&state, *u))
            .collect()
    }

    /// Whether `user` has a connection subscribed to `topic` (a topic with presence) on any node.
    pub fn is_present(&self, topic: Topic, user: UserId) -> bool {
        let state = self.state();
        state
            .topics
            .get(&topic)
            .is_some_and(|t| t.present.contains_key(&user))
            || state.remote.has(topic, user)
    }

    /// Users with at least one connection on any node.
    pub fn online_users(&self) -> usize {
        let state = self.state();
        let elsewhere = state
            .remote
            .online()
            .filter(|u| !state.per_user.contains_key(u))
            .count();
        state.per_user.len() + elsewhere
    }

    /// The other nodes this one hears from.
    pub fn other_nodes(&self) -> Vec<String> {
        self.state().remote.nodes()
    }

    /// Tells the other nodes what `user`'s connections here are now.
    pub(super) fn announce_user(&self, state: &mut State, user: UserId) {
        let (conns, active) = state
            .per_user
            .get(&user)
            .map_or((0, false), |u| (u.ids.len() as u32, u.active > 0));
        self.announce(
            state,
            PresenceUpdate::User {
                user,
                conns,
                active,
            },
        );
    }

    /// Sends a presence message to the other nodes (nothing on a node alone). Under the lock, so
    /// changes leave in the order they were made and their numbers have no gaps.
    fn announce(&self, state: &mut State, update: PresenceUpdate) {
        if !self.inner.clustered {
            return;
        }
        if update.is_change() {
            state.presence_seq += 1;
        }
        self.inner.bus.publish(BusMessage::Presence {
            node: self.inner.node.clone(),
            seq: state.presence_seq,
            update,
        });
    }

    /// Everything this node holds, for a node that asked.
    fn snapshot(state: &State) -> PresenceUpdate {
        PresenceUpdate::Snapshot {
            topics: state
                .topics
                .iter()
                .filter(|(_, e)| !e.present.is_empty())
                .map(|(topic, e)| (*topic, e.present.keys().copied().collect()))
                .collect(),
            users: state
                .per_user
                .iter()
                .map(|(user, u)| (*user, u.ids.len() as u32, u.active > 0))
                .collect(),
        }
    }

    /// Tells the other nodes this one is alive, with the number of its last change (a node that
    /// missed one asks for a snapshot). Called every second by the cluster's heartbeat.
    pub fn heartbeat(&self) {
        let mut state = self.state();
        self.announce(&mut state, PresenceUpdate::Alive);
    }

    /// Asks every other node for its snapshot (after this node's bus connection came back).
    pub fn request_snapshots(&self) {
        let mut state = self.state();
        self.announce(&mut state, PresenceUpdate::SyncRequest { target: None });
    }

    /// Tells the other nodes this one is stopping (they drop what it held at once).
    pub fn leave_cluster(&self) {
        let mut state = self.state();
        self.announce(&mut state, PresenceUpdate::Gone);
    }

    /// Forgets the nodes not heard from within `ttl`. Returns the users who were online only
    /// through them (to store their last-seen).
    pub fn expire_nodes(&self, ttl: Duration) -> Vec<UserId> {
        let mut state = self.state();
        let (dead, flips) = state.remote.expire(Instant::now(), ttl);
        if !dead.is_empty() {
            tracing::warn!(nodes = ?dead, "nodes not heard from: their connections' presence ends");
        }
        self.apply_flips(&state, &flips)
    }

    /// Applies what another node sent.
    pub(super) fn remote_presence(&self, node: &str, seq: u64, update: PresenceUpdate) {
        let mut state = self.state();
        let me = self.inner.node.clone();
        let applied = state.remote.apply(node, seq, update, Instant::now(), &me);
        if let Some(target) = applied.ask_snapshot_of {
            self.announce(
                &mut state,
                PresenceUpdate::SyncRequest {
                    target: Some(target),
                },
            );
        }
        if applied.snapshot_wanted {
            let snapshot = Self::snapshot(&state);
            self.announce(&mut state, snapshot);
        }
        self.apply_flips(&state, &applied.flips);
    }

    /// Tells local subscribers what the other nodes' changes changed in the merged view. Returns
    /// the users now offline everywhere.
    fn apply_flips(&self, state: &State, flips: &[Flip]) -> Vec<UserId> {
        let mut offline = Vec::new();
        for flip in flips {
            match *flip {
                Flip::Topic {
                    topic,
                    user,
                    present,
                } => {
                    let here = state
                        .topics
                        .get(&topic)
                        .is_some_and(|t| t.present.contains_key(&user));
                    match (here, present) {
                        (true, _) => {}
                        (false, true) => self.tell_joined(state, topic, user, None),
                        (false, false) => self.tell_left(state, topic, user),
                    }
                }
                Flip::User {
                    user,
                    online,
                    active,
                    was_online,
                    was_active,
                } => {
                    let (here, here_active) = state
                        .per_user
                        .get(&user)
                        .map_or((false, false), |u| (true, u.active > 0));
                    let away_before = (here || was_online) && !here_active && !was_active;
                    let away_after = (here || online) && !here_active && !active;
                    if (here || online) && away_before != away_after {
                        self.tell_away(state, user, away_after);
                    }
                    if !here && !online && was_online {
                        offline.push(user);
                    }
                }
            }
        }
        offline
    }
}
