//! Who is online, away (every tab hidden or idle) and typing in a room: the room topic's presence
//! list (several tabs of one person count once; the server keeps it; every page follows every room
//! of its user, so presence reads as online) and its ephemeral `typing` events. The viewer's
//! typing is published at most every [`TYPING_EVERY_MS`]; someone else's shows for
//! [`TYPING_SHOWN_MS`] after their last one, or until their message arrives.

use crate::components::time::LocalTime;
use crate::realtime::live::LiveSnapshot;
use crate::realtime::{use_realtime, Delivery, Realtime, Subscription};
use leptos::prelude::*;
use studyhall::chat::{Author, RoomId, RoomSnapshot};
use studyhall::model::{Millis, Position, UserId};
use studyhall::protocol::{PresenceSet, Topic};

/// How often a writer says again that they are typing.
pub const TYPING_EVERY_MS: i64 = 3_000;
/// How long "is typing" stays without a further word from the writer.
pub const TYPING_SHOWN_MS: i64 = 6_000;

/// The open room's presence and typing, shared by its header, message list and composer.
#[derive(Clone, Copy)]
pub struct RoomPresence {
    room: RoomId,
    me: UserId,
    /// Kept from when the room opened: event handlers run outside the component, without context.
    realtime: Realtime,
    /// Who follows the room now, which is who is online (the viewer included, once connected), and
    /// of them, whose every tab is hidden or idle.
    people: RwSignal<PresenceSet>,
    /// When people went offline while the room was open (browser clock, ms): their "last seen".
    left_at: RwSignal<Vec<(UserId, i64)>>,
    /// Who is typing, with when their indicator lapses (browser clock, ms).
    typing: RwSignal<Vec<(UserId, i64)>>,
    /// When the viewer last said they are typing.
    last_sent: StoredValue<Option<i64>>,
    _subscription: StoredValue<Option<Subscription>, LocalStorage>,
}

impl RoomPresence {
    /// Listens to `room`'s presence and typing. Beside a room snapshot, `since` is its position: the
    /// topic's one server subscription resumes from the earliest position any listener asks for,
    /// so this listener must not ask for "now" before the snapshot's own listener is in.
    pub fn follow(room: RoomId, me: UserId, since: Option<Position>) -> Self {
        let people = RwSignal::new(PresenceSet::default());
        let typing = RwSignal::new(Vec::<(UserId, i64)>::new());
        let left_at = RwSignal::new(Vec::<(UserId, i64)>::new());
        let realtime = use_realtime();
        let subscription = realtime.subscribe(Topic::Room(room), since, move |d| match d {
            Delivery::Presence { present, away } => {
                people.try_set(PresenceSet::new(present, away));
            }
            Delivery::PresenceDiff {
                joined,
                left,
                away,
                back,
            } => {
                people.try_update(|p| p.apply_diff(&joined, &left, &away, &back));
                let now = crate::browser::now_ms();
                left_at.try_update(|l| {
                    l.retain(|(u, _)| !left.contains(u));
                    l.extend(left.iter().map(|u| (*u, now)));
                });
            }
            Delivery::Ephemeral {
                event,
                user_id,
                data,
            } if event == "typing" && user_id != me => {
                let stopped = data.get("typing") == Some(&serde_json::Value::Bool(false));
                let until = crate::browser::now_ms() + TYPING_SHOWN_MS;
                typing.try_update(|t| {
                    t.retain(|(u, _)| *u != user_id);
                    if !stopped {
                        t.push((user_id, until));
                    }
                });
            }
            _ => {}
        });
        // Lapsed indicators go even when nothing else happens.
        crate::browser::every(1_000, move || {
            let now = crate::browser::now_ms();
            if typing.with_untracked(|t| t.iter().any(|(_, until)| *until <= now)) {
                typing.update(|t| t.retain(|(_, until)| *until > now));
            }
        });
        RoomPresence {
            room,
            me,
            realtime,
            people,
            left_at,
            typing,
            last_sent: StoredValue::new(None),
            _subscription: StoredValue::new_local(Some(subscription)),
        }
    }

    /// The viewer typed: tells the room, at most every [`TYPING_EVERY_MS`].
    pub fn typed(&self) {
        let now = crate::browser::now_ms();
        if self
            .last_sent
            .get_value()
            .is_none_or(|then| now - then >= TYPING_EVERY_MS)
        {
            self.last_sent.set_value(Some(now));
            let typing = serde_json::json!({ "typing": true });
            self.realtime
                .publish(Topic::Room(self.room), "typing", typing);
        }
    }

    /// The viewer sent their message: they stopped typing, and the next keystroke says so again at
    /// once.
    pub fn sent(&self) {
        if self.last_sent.get_value().is_some() {
            let stopped = serde_json::json!({ "typing": false });
            self.realtime
                .publish(Topic::Room(self.room), "typing", stopped);
        }
        self.last_sent.set_value(None);
    }

    /// `author`'s message arrived: they are no longer typing it.
    pub fn wrote(&self, author: UserId) {
        if self
            .typing
            .with_untracked(|t| t.iter().any(|(u, _)| *u == author))
        {
            self.typing.update(|t| t.retain(|(u, _)| *u != author));
        }
    }

    /// When `user` was last online, as far as this page knows: `stored` (from the server) or when
    /// they left while the page watched, whichever is later. Tracked.
    pub fn last_seen(&self, user: UserId, stored: Option<Millis>) -> Option<Millis> {
        let watched = self
            .left_at
            .with(|l| l.iter().find(|(u, _)| *u == user).map(|(_, at)| *at));
        stored.max(watched)
    }

    /// Whether `user` is online (the viewer always is).
    pub fn is_here(&self, user: UserId) -> bool {
        user == self.me || self.people.with(|p| p.is_here(user))
    }

    /// Whether `user` is online with every tab hidden or idle (never the viewer, who is looking).
    pub fn is_away(&self, user: UserId) -> bool {
        user != self.me && self.people.with(|p| p.is_away(user))
    }

    /// "Ana is typing…", "Ana and Ben are typing…", "Several people are typing…"; tracked.
    pub fn typing_line(&self, members: &[Author]) -> Option<String> {
        let names: Vec<String> = self.typing.with(|t| {
            t.iter()
                .map(|(u, _)| {
                    members
                        .iter()
                        .find(|m| m.id == *u)
                        .map(|m| m.display_name.clone())
                        .unwrap_or_else(|| "Someone".into())
                })
                .collect()
        });
        typing_sentence(&names)
    }
}

/// Presence in the header: in a direct room whether the other person is online; elsewhere how many
/// members are, with their names on opening the list.
#[component]
pub(super) fn WhoIsHere(snap: LiveSnapshot<RoomSnapshot>, presence: RoomPresence) -> impl IntoView {
    let peer = snap.map_or_default(|s| s.summary.room.peer.clone());
    let stored = snap.map_or_default(|s| s.peer_last_seen);
    move || match &peer {
        Some(peer) => {
            let here = presence.is_here(peer.id);
            let away = presence.is_away(peer.id);
            let seen = (!here)
                .then(|| presence.last_seen(peer.id, stored))
                .flatten();
            let (dot, words) = match (here, away) {
                (true, false) => ("bg-emerald-500", "Online"),
                (true, true) => ("bg-amber-400", "Away"),
                _ => ("bg-slate-400", "Offline"),
            };
            view! {
                <span class="flex shrink-0 items-center gap-1 text-xs text-slate-600 dark:text-slate-400" data-testid="peer-presence" data-here=here.to_string() data-away=away.to_string()>
                    <span class=format!("h-2 w-2 rounded-full {dot}") aria-hidden="true"></span>
                    <span>{words}</span>
                    {seen.map(|at| view! { <span data-testid="last-seen">" · last seen " <LocalTime at /></span> })}
                    <span class="sr-only">{format!(": {} is {}", peer.display_name, words.to_lowercase())}</span>
                </span>
            }
            .into_any()
        }
        None => {
            let members = snap.map_or_default(|s| s.members.clone());
            let here: Vec<String> = members
                .iter()
                .filter(|m| presence.is_here(m.id))
                .map(|m| {
                    if presence.is_away(m.id) {
                        format!("{} (away)", m.display_name)
                    } else {
                        m.display_name.clone()
                    }
                })
                .collect();
            let count = here.len();
            view! {
                <details class="relative shrink-0 text-xs text-slate-600 dark:text-slate-400" data-testid="room-presence">
                    <summary class="cursor-pointer" aria-label=format!("{count} of {} members online; show who", members.len())>
                        <span class="mr-1 inline-block h-2 w-2 rounded-full bg-emerald-500" aria-hidden="true"></span>
                        {format!("{count} online")}
                    </summary>
                    <ul class="absolute right-0 z-10 mt-1 w-48 rounded-md border border-slate-200 bg-white p-2 shadow dark:border-slate-700 dark:bg-slate-900">
                        {here.into_iter().map(|n| view! { <li class="truncate">{n}</li> }).collect_view()}
                    </ul>
                </details>
            }
            .into_any()
        }
    }
}

/// The typing indicator's words for these names, in the order they started typing.
pub fn typing_sentence(names: &[String]) -> Option<String> {
    match names {
        [] => None,
        [one] => Some(format!("{one} is typing…")),
        [a, b] => Some(format!("{a} and {b} are typing…")),
        _ => Some("Several people are typing…".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::typing_sentence;

    #[test]
    fn typing_reads_as_a_sentence() {
        let n = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(typing_sentence(&[]), None);
        assert_eq!(typing_sentence(&n(&["Ana"])).unwrap(), "Ana is typing…");
        assert_eq!(
            typing_sentence(&n(&["Ana", "Ben"])).unwrap(),
            "Ana and Ben are typing…"
        );
        assert_eq!(
            typing_sentence(&n(&["Ana", "Ben", "Cy"])).unwrap(),
            "Several people are typing…"
        );
    }
}
