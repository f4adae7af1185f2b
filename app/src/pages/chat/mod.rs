//! The chat page (`/chat`, `/chat/{room}`): the caller's rooms beside the open conversation. On a
//! narrow screen they are two screens: the list, and the room with a way back. The list follows the
//! caller's own stream (rooms joined and left); the open room follows its topic (see `room`).

mod attach;
mod composer;
mod group;
mod groups;
pub mod list;
mod message;
mod presence;
mod room;
mod scroll;
mod search;

pub use group::GroupPage;
pub use groups::GroupsPage;

use crate::components::time::LocalTime;
use crate::session::use_current_user;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use room::Conversation;
use studyhall::chat::{RoomId, RoomKind, RoomSummary};

#[component]
pub fn ChatPage() -> impl IntoView {
    let me = use_current_user().id;
    let params = use_params_map();
    let selected =
        Memo::new(move |_| params.with(|p| p.get("room").and_then(|r| r.parse::<RoomId>().ok())));
    // The layout keeps the list for every page (the navigation's count); this page shows it.
    let rooms = list::use_chat_rooms()
        .unwrap_or_else(|| list::provide_chat_rooms(me))
        .list;
    composer::Drafts::provide();
    let list_class = move || {
        if selected.get().is_some() {
            "hidden md:block"
        } else {
            "block"
        }
    };
    let room_class = move || {
        if selected.get().is_some() {
            "block min-w-0"
        } else {
            "hidden md:block min-w-0"
        }
    };
    view! {
        <Title text="Chat" />
        <div class="flex flex-wrap items-baseline justify-between gap-2">
            <h1 class="text-2xl font-bold">"Chat"</h1>
            <a href="/chat/groups" class="link" data-testid="groups-link">"Study groups"</a>
        </div>
        <div class="mt-4 grid gap-4 md:grid-cols-[16rem_minmax(0,1fr)]">
            <nav aria-label="Rooms" class=list_class data-testid="room-list">
                <search::SearchRooms>
                    <Transition fallback=|| view! { <p>"Loading…"</p> }>
                        // Built once loaded; the list then changes in place.
                        {move || rooms.status().and_then(Result::err).map(|e| view! { <p role="alert">{e.to_string()}</p> })}
                        <Show when=move || matches!(rooms.status(), Some(Ok(())))>
                            <RoomList rooms=Signal::derive(move || rooms.map_or_default(|l| l.rooms.clone())) selected />
                        </Show>
                    </Transition>
                </search::SearchRooms>
            </nav>
            <section class=room_class aria-label="Conversation">
                {move || match selected.get() {
                    Some(room) => view! { <Conversation room /> }.into_any(),
                    None => view! {
                        <div class="card text-slate-600 dark:text-slate-400">
                            <p>"Choose a room to read and write in it."</p>
                        </div>
                    }.into_any(),
                }}
            </section>
        </div>
    }
}

/// The rooms, newest activity first; unread ones bold with their count.
#[component]
fn RoomList(rooms: Signal<Vec<RoomSummary>>, selected: Memo<Option<RoomId>>) -> impl IntoView {
    view! {
        <Show when=move || !rooms.with(Vec::is_empty) fallback=|| view! {
            <div class="card text-sm text-slate-600 dark:text-slate-400" data-testid="no-rooms">
                <p class="font-medium">"No rooms yet."</p>
                <p class="mt-1">"Your cohort's room and conversations with your mentor appear here once you are in a cohort or have a mentor."</p>
                <p class="mt-1"><a href="/chat/groups" class="link">"Find or start a study group"</a></p>
            </div>
        }>
            <ul class="space-y-1">
                <For each=move || rooms.get() key=|r| (r.room.id, r.unread, r.room.last_message_at, r.room.name.clone()) let:summary>
                    <RoomLink summary selected />
                </For>
            </ul>
        </Show>
    }
}

#[component]
fn RoomLink(summary: RoomSummary, selected: Memo<Option<RoomId>>) -> impl IntoView {
    let id = summary.room.id;
    let unread = summary.unread;
    let kind = match summary.room.kind {
        RoomKind::Direct => "Direct",
        RoomKind::Cohort => "Cohort",
        RoomKind::Group => "Group",
        RoomKind::Channel => "Channel",
    };
    let label = if unread > 0 {
        format!("{}, {kind}, {unread} unread", summary.room.name)
    } else {
        format!("{}, {kind}", summary.room.name)
    };
    let current = move || (selected.get() == Some(id)).then_some("page");
    // Beside a direct room, whether the other person is online, away or offline (grey until the
    // room's presence arrives, on the server and the hydrating browser alike).
    let peer = summary.room.peer.clone().map(|p| p.id);
    let rooms = list::use_chat_rooms();
    let dot = move || {
        let (Some(peer), Some(rooms)) = (peer, rooms) else {
            return None;
        };
        let seen = rooms.seen(id, peer);
        let (color, words) = match seen {
            list::Seen::Online => ("bg-emerald-500", seen.words()),
            list::Seen::Away => ("bg-amber-400", seen.words()),
            list::Seen::Offline => ("bg-slate-400", seen.words()),
        };
        Some(view! {
            <span class=format!("h-2 w-2 shrink-0 rounded-full {color}") data-testid="room-presence-dot" data-seen=words
                aria-hidden="true"></span>
        })
    };
    let name_class = if unread > 0 {
        "block truncate font-bold"
    } else {
        "block truncate"
    };
    view! {
        <li>
            <a href=format!("/chat/{id}") aria-current=current data-testid="room-link"
                aria-label=move || match (peer, rooms) {
                    (Some(peer), Some(rooms)) => format!("{label}, {}", rooms.seen(id, peer).words()),
                    _ => label.clone(),
                }
                class="flex items-center gap-2 rounded-md px-3 py-2 hover:bg-slate-100 dark:hover:bg-slate-800 aria-[current=page]:bg-indigo-50 dark:aria-[current=page]:bg-indigo-950">
                {dot}
                <span class="min-w-0 flex-1">
                    <span class=name_class>{summary.room.name.clone()}</span>
                    <span class="block text-xs text-slate-500 dark:text-slate-400">
                        {kind}
                        {summary.room.last_message_at.map(|at| view! { " · " <LocalTime at /> })}
                    </span>
                </span>
                {(unread > 0).then(|| view! {
                    <span class="rounded-full bg-indigo-600 px-2 text-xs font-semibold text-white" data-testid="room-unread">{unread}</span>
                })}
            </a>
        </li>
    }
}
