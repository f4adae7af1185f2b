//! The viewer's room list, kept by the signed-in layout for every page: the navigation's unread
//! total and the chat page's list read it. It follows the viewer's own stream (rooms joined, left,
//! changed) and, in the browser, each room's topic from the position the list was read at, so a
//! message in any room moves its count at once in every tab, once. The open conversation keeps its
//! own room's entry (from its fuller snapshot); the list leaves that entry to it. Each followed
//! room's presence is kept too, for the dots beside direct rooms.

use crate::api;
use crate::realtime::live::{use_live_snapshot, LiveSnapshot};
use leptos::prelude::*;
use std::collections::HashMap;
use studyhall::chat::my_rooms::MyRooms;
use studyhall::chat::RoomId;
use studyhall::model::UserId;
use studyhall::protocol::{PresenceSet, Topic};

/// Rooms followed for their counts at most: the connection allows 100 subscriptions, and pages need
/// a few of their own. Rooms beyond (the least recently active) show the count they loaded with.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub const FOLLOWED_ROOMS_MAX: usize = 80;

/// The room list in context.
#[derive(Clone, Copy)]
pub struct ChatRooms {
    pub list: LiveSnapshot<MyRooms>,
    /// The room whose conversation is open (it keeps that entry current itself).
    pub open: RwSignal<Option<RoomId>>,
    /// Who is present (and who of them away) in each followed room, for the direct rooms' dots.
    pub presence: RwSignal<HashMap<RoomId, PresenceSet>>,
}

/// How a person reads in the list: online, away or offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    Online,
    Away,
    Offline,
}

impl Seen {
    pub fn words(self) -> &'static str {
        match self {
            Seen::Online => "online",
            Seen::Away => "away",
            Seen::Offline => "offline",
        }
    }
}

impl ChatRooms {
    /// Unread messages over the rooms not muted; 0 while loading. Tracked.
    pub fn unread_total(&self) -> i64 {
        self.list.map_or_default(MyRooms::unread_total)
    }

    /// Whether `user` is online, away or offline as `room`'s presence says. Tracked.
    pub fn seen(&self, room: RoomId, user: UserId) -> Seen {
        self.presence.with(|p| match p.get(&room) {
            Some(r) if r.is_away(user) => Seen::Away,
            Some(r) if r.is_here(user) => Seen::Online,
            _ => Seen::Offline,
        })
    }
}

/// Loads the viewer's rooms and keeps them live; provides [`ChatRooms`].
pub fn provide_chat_rooms(me: UserId) -> ChatRooms {
    let list = use_live_snapshot(Topic::User(me), api::chat::chat_rooms);
    let rooms = ChatRooms {
        list,
        open: RwSignal::new(None),
        presence: RwSignal::new(HashMap::new()),
    };
    #[cfg(feature = "hydrate")]
    follow_rooms(rooms);
    provide_context(rooms);
    rooms
}

pub fn use_chat_rooms() -> Option<ChatRooms> {
    use_context::<ChatRooms>()
}

/// Browser only: one subscription per room in the list (the first [`FOLLOWED_ROOMS_MAX`]), from
/// the position the list has for it, each folding its events into the list.
#[cfg(feature = "hydrate")]
fn follow_rooms(rooms: ChatRooms) {
    use crate::realtime::{use_realtime, Delivery, Subscription};
    use studyhall::chat::my_rooms::Applied;
    let realtime = use_realtime();
    let followed = StoredValue::new_local(HashMap::<RoomId, Subscription>::new());
    Effect::new(move |_| {
        let wanted: Vec<(RoomId, Option<studyhall::model::Position>)> =
            rooms.list.map_or_default(|l| {
                l.rooms
                    .iter()
                    .take(FOLLOWED_ROOMS_MAX)
                    .map(|r| (r.room.id, l.head(r.room.id).cloned()))
                    .collect()
            });
        followed.update_value(|subs| {
            subs.retain(|room, _| wanted.iter().any(|(w, _)| w == room));
            rooms
                .presence
                .update(|p| p.retain(|room, _| wanted.iter().any(|(w, _)| w == room)));
            for (room, since) in wanted {
                if subs.contains_key(&room) {
                    continue;
                }
                let sub: Subscription =
                    realtime.subscribe(Topic::Room(room), since, move |d| match d {
                        Delivery::Event {
                            offset,
                            event: Some(event),
                        } => {
                            if rooms.open.get_untracked() == Some(room) {
                                // The conversation keeps this entry; only the position moves.
                                rooms.list.update(|l| {
                                    if let Some(h) = l.heads.iter_mut().find(|h| h.room_id == room)
                                    {
                                        h.position.offset = h.position.offset.max(offset);
                                    }
                                });
                                return;
                            }
                            let mut refetch = false;
                            rooms.list.update(|l| {
                                refetch = l.apply_room(room, offset, &event) == Applied::Refetch;
                            });
                            if refetch {
                                rooms.list.reload();
                            }
                        }
                        Delivery::Reset { .. } => rooms.list.reload(),
                        Delivery::Presence { present, away } => rooms.presence.update(|p| {
                            p.insert(room, PresenceSet::new(present, away));
                        }),
                        Delivery::PresenceDiff {
                            joined,
                            left,
                            away,
                            back,
                        } => rooms.presence.update(|p| {
                            p.entry(room)
                                .or_default()
                                .apply_diff(&joined, &left, &away, &back);
                        }),
                        _ => {}
                    });
                subs.insert(room, sub);
            }
        });
    });
    on_cleanup(move || followed.update_value(HashMap::clear));
}
