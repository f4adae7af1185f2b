//! One open room: its history oldest to newest with a "new messages" divider where the viewer's
//! unread began, older pages as the reader scrolls up (`scroll`), reactions, deleting one's own messages, marking what is
//! shown as read, who is here and typing (`presence`), and the composer. A send that fails for want
//! of a connection waits, shown as pending, and goes (with its client id, so once) when the
//! connection is back; one the server refuses keeps its text, shown as not sent, with Retry. It
//! follows `room:{id}` from the snapshot's position.

use super::composer::Composer;
use super::message::{client_id, MessageRow, Pending, PendingRow};
use super::presence::{RoomPresence, WhoIsHere};
use super::scroll::ScrollKeeper;
use crate::api;
use crate::components::form::FormAlert;
use crate::components::time::{local_day, DayOf};
use crate::realtime::live::{use_live_snapshot, LiveSnapshot};
use crate::realtime::{use_realtime, ConnectionState};
use leptos::prelude::*;
use leptos::task::spawn_local;
use studyhall::chat::{MessageId, NewMessage, Quote, RoomId, RoomKind, RoomSnapshot};
use studyhall::events::{DurableEvent, Follow};
use studyhall::protocol::Topic;
use studyhall::AppError;

#[component]
pub fn Conversation(room: RoomId) -> impl IntoView {
    let snap = use_live_snapshot(Topic::Room(room), move || async move {
        api::chat::chat_room(room).await.map(|s| {
            let at = s.position.clone();
            (s, at)
        })
    });
    // The status is read here, inside the Transition (so the server waits for the snapshot), and the
    // conversation is built once it is in: `Show` rebuilds only when loaded-ness flips, so events
    // change the conversation in place (its pending sends and its divider survive them).
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || snap.status().and_then(Result::err).map(|e| view! {
                <div class="card" role="alert">
                    <p>{e.to_string()}</p>
                    <a href="/chat" class="link mt-2 inline-block">"Back to your rooms"</a>
                </div>
            })}
            <Show when=move || matches!(snap.status(), Some(Ok(())))>
                <Loaded room snap />
            </Show>
        </Transition>
    }
}

#[component]
fn Loaded(room: RoomId, snap: LiveSnapshot<RoomSnapshot>) -> impl IntoView {
    let name = move || snap.map_or_default(|s| s.summary.room.name.clone());
    // Where the viewer's unread began when the room opened: the divider stays there while they read.
    let first_unread = snap.map_or_default(|s| {
        s.page
            .messages
            .iter()
            .rev()
            .find(|m| {
                m.id > s.summary.last_read_id && m.author.as_ref().map(|a| a.id) != Some(s.viewer)
            })
            .map(|m| m.id)
    });
    let (viewer, since) = untrack(|| {
        snap.with(|s| {
            s.and_then(Result::ok)
                .map(|s| (s.viewer, s.position.clone()))
        })
    })
    .expect("built once the snapshot is in");
    let presence = RoomPresence::follow(room, viewer, Some(since));
    // Whoever's message arrives is no longer typing it.
    Effect::new(move |_| {
        let newest =
            snap.map_or_default(|s| s.page.messages.first().and_then(|m| m.author.clone()));
        if let Some(author) = newest {
            presence.wrote(author.id);
        }
    });
    let pending = RwSignal::new(Vec::<Pending>::new());
    let replying = RwSignal::new(None::<Quote>);
    let error = RwSignal::new(None::<AppError>);
    let older_loading = RwSignal::new(false);
    // The room list (navigation count, the page's list) takes this room's entry from here while it
    // is open: its unread count falls as it is read, its last activity moves as messages arrive.
    if let Some(rooms) = super::list::use_chat_rooms() {
        rooms.open.set(Some(room));
        on_cleanup(move || {
            if rooms.open.try_get_untracked() == Some(Some(room)) {
                rooms.open.set(None);
            }
        });
        Effect::new(move |_| {
            if let Some(mine) = snap.map_or_default(|s| Some(s.summary.clone())) {
                rooms.list.update(|l| {
                    if let Some(entry) = l.rooms.iter_mut().find(|r| r.room.id == mine.room.id) {
                        if *entry != mine {
                            *entry = mine;
                        }
                    }
                });
            }
        });
    }
    // What is on screen is read, while the page is visible: a hidden tab does not clear the count.
    // At most one mark every 1.5 s, for the newest message then, so a busy room costs one request
    // (and one `chat.read` to its members) per reader per interval, not one per message.
    let marked = StoredValue::new(0i64);
    let mark = move || {
        if !crate::browser::page_visible() {
            return;
        }
        let (newest, read) = untrack(|| {
            snap.map_or_default(|s| {
                (
                    s.page.messages.first().map(|m| m.id),
                    s.summary.last_read_id,
                )
            })
        });
        if let Some(newest) = newest.filter(|n| *n > read && *n > marked.get_value()) {
            marked.set_value(newest);
            spawn_local(async move {
                let _ = api::chat::chat_read(room, newest).await;
            });
        }
    };
    Effect::new(move |_| mark());
    crate::browser::every(1500, mark);
    let scroll = ScrollKeeper::new();
    let fetch_older = move || {
        let Some(before) = untrack(|| snap.map_or_default(|s| s.page.older)) else {
            return;
        };
        if older_loading.get_untracked() {
            return;
        }
        older_loading.set(true);
        spawn_local(async move {
            match api::chat::chat_history(room, before).await {
                Ok(page) => {
                    let saved = scroll.before_prepend();
                    snap.update(|s| {
                        s.page.messages.extend(page.messages);
                        s.page.older = page.older;
                    });
                    scroll.after_prepend(saved);
                }
                Err(e) => error.set(Some(e)),
            }
            older_loading.set(false);
        });
    };
    let load_older = move |_| fetch_older();
    // Opened at a message (a search result, `?message={id}`): older pages load until it is in, then
    // it is scrolled to and marked.
    let query = leptos_router::hooks::use_query_map();
    let target = Memo::new(move |_| {
        query.with(|q| q.get("message").and_then(|m| m.parse::<MessageId>().ok()))
    });
    let pages_sought = StoredValue::new(0u32);
    Effect::new(move |_| {
        let Some(target) = target.get() else { return };
        let (present, older) =
            snap.map_or_default(|s| (s.page.messages.iter().any(|m| m.id == target), s.page.older));
        if present {
            crate::browser::scroll_into_view(&format!("message-{target}"));
        } else if older.is_some_and(|o| o > target)
            && pages_sought.get_value() < 100
            && !older_loading.get()
        {
            pages_sought.update_value(|n| *n += 1);
            fetch_older();
        }
    });
    // Opens at the newest message and follows new ones while the reader is at the bottom (a room
    // opened at a message leaves the scrolling to that).
    Effect::new(move |_| {
        snap.map_or_default(|s| s.page.messages.first().map(|m| m.id));
        pending.with(Vec::len);
        if target.get_untracked().is_none() {
            scroll.follow_newest();
        }
    });
    let send = move |p: Pending| {
        spawn_local(async move {
            let message = NewMessage {
                client_id: p.client_id.clone(),
                body: p.body.clone(),
                reply_to: p.reply_to,
                attachments: p.attachments.iter().map(|a| a.id).collect(),
            };
            match api::chat::chat_send(room, message).await {
                Ok(sent) => {
                    snap.update(|s| s.apply(&DurableEvent::ChatMessagePosted(sent)));
                    pending.update(|l| l.retain(|x| x.client_id != p.client_id));
                }
                Err(e) => pending.update(|l| {
                    if let Some(x) = l.iter_mut().find(|x| x.client_id == p.client_id) {
                        if matches!(e, AppError::Network) {
                            x.waiting = true;
                        } else {
                            x.failed = Some(e.to_string());
                        }
                    }
                }),
            }
        });
    };
    // Sends that waited for the connection go when it is back (the socket reopening is the sign),
    // and every few seconds while the browser says it is online (the socket may never have dropped).
    let resend_waiting = move || {
        let waiting: Vec<Pending> =
            pending.with_untracked(|l| l.iter().filter(|p| p.waiting).cloned().collect());
        if waiting.is_empty() {
            return;
        }
        pending.update(|l| l.iter_mut().for_each(|p| p.waiting = false));
        for p in waiting {
            send(p);
        }
    };
    let realtime = use_realtime();
    Effect::new(move |_| {
        if realtime.state.get() == ConnectionState::Open {
            resend_waiting();
        }
    });
    crate::browser::every(5000, move || {
        if crate::browser::online() {
            resend_waiting();
        }
    });
    view! {
        <div class="card flex h-[calc(100dvh-9rem)] min-h-[24rem] flex-col p-0" data-testid="conversation">
            <header class="flex items-center gap-3 border-b border-slate-200 px-4 py-3 dark:border-slate-800">
                <a href="/chat" class="link md:hidden" aria-label="Back to your rooms">"←"</a>
                <h2 class="min-w-0 flex-1 truncate text-lg font-semibold" data-testid="room-name">{name}</h2>
                {first_unread.map(|_| view! {
                    <button type="button" class="link shrink-0 text-xs" on:click=move |_| crate::browser::scroll_into_view("new-divider")>"Jump to first unread"</button>
                })}
                <WhoIsHere snap presence />
                <button type="button" class="button-secondary shrink-0 px-2 py-1 text-xs" data-testid="mute"
                    aria-pressed=move || snap.map_or_default(|s| s.summary.muted).to_string()
                    title="A muted room sends no notifications and leaves the navigation's count; its own count stays."
                    on:click=move |_| {
                        let muted = !untrack(|| snap.map_or_default(|s| s.summary.muted));
                        spawn_local(async move {
                            match api::chat::chat_mute(room, muted).await {
                                Ok(summary) => {
                                    snap.update(|s| s.summary = summary);
                                }
                                Err(e) => error.set(Some(e)),
                            }
                        });
                    }>
                    {move || if snap.map_or_default(|s| s.summary.muted) { "Unmute" } else { "Mute" }}
                </button>
            </header>
            <div class="min-h-0 flex-1 space-y-1 overflow-y-auto px-4 py-3" role="log" aria-live="polite" aria-label="Messages" data-testid="messages"
                node_ref=scroll.el on:scroll=move |_| if scroll.scrolled() { fetch_older() }>
                <Show when=move || snap.map_or_default(|s| s.page.older.is_some())>
                    <div class="flex justify-center">
                        <button type="button" class="button-secondary text-sm" on:click=load_older disabled=move || older_loading.get()>
                            "Load older messages"
                        </button>
                    </div>
                </Show>
                <Show when=move || snap.map_or_default(|s| s.page.messages.is_empty()) && pending.with(Vec::is_empty)>
                    <p class="py-8 text-center text-slate-600 dark:text-slate-400">"No messages yet. Say hello below."</p>
                </Show>
                <For
                    each=move || snap.map_or_default(|s| s.page.messages.iter().rev().map(|m| m.id).collect::<Vec<_>>())
                    key=|id| *id
                    children=move |id| {
                        let current = Memo::new(move |_| snap.map_or_default(|s| s.page.messages.iter().find(|m| m.id == id).cloned()));
                        let viewer = snap.map_or_default(|s| s.viewer);
                        let moderator = snap.map_or_default(|s| s.summary.role.moderates());
                        // The message before this one (older): a new day gets a heading, and a message
                        // by the same person within five minutes joins theirs without its own header.
                        let before = Memo::new(move |_| snap.map_or_default(|s| {
                            let i = s.page.messages.iter().position(|m| m.id == id)?;
                            s.page.messages.get(i + 1).map(|m| (m.created_at, m.author.as_ref().map(|a| a.id)))
                        }));
                        let at = Memo::new(move |_| current.with(|c| c.as_ref().map(|m| m.created_at)).unwrap_or_default());
                        let new_day = move || before.get().is_none_or(|(b, _)| local_day(b) != local_day(at.get()));
                        let continued = Signal::derive(move || {
                            let author = current.with(|c| c.as_ref().and_then(|m| m.author.as_ref().map(|a| a.id)));
                            first_unread != Some(id)
                                && before.get().is_some_and(|(b, by)| {
                                    by.is_some() && by == author && at.get() - b < 5 * crate::format::MINUTE && !new_day()
                                })
                        });
                        view! {
                            {move || new_day().then(|| view! {
                                <div role="separator" class="my-3 flex items-center gap-2 text-xs font-semibold text-slate-600 dark:text-slate-400" data-testid="day-heading">
                                    <span class="h-px flex-1 bg-slate-200 dark:bg-slate-700"></span><DayOf at=at.get() /><span class="h-px flex-1 bg-slate-200 dark:bg-slate-700"></span>
                                </div>
                            })}
                            {(first_unread == Some(id)).then(|| view! {
                                <div id="new-divider" class="my-2 flex items-center gap-2 text-xs font-semibold text-indigo-700 dark:text-indigo-300" data-testid="new-divider">
                                    <span class="h-px flex-1 bg-indigo-300 dark:bg-indigo-700"></span>"New messages"<span class="h-px flex-1 bg-indigo-300 dark:bg-indigo-700"></span>
                                </div>
                            })}
                            <MessageRow room current=current.into() viewer moderator error target=target.into() replying continued />
                        }
                    }
                />
                <Show when=move || snap.map_or_default(seen_by_the_other)>
                    <p class="text-right text-xs text-slate-500 dark:text-slate-400" data-testid="seen">"Seen"</p>
                </Show>
                {move || {
                    let readers = snap.map_or_default(read_newest);
                    (!readers.is_empty()).then(|| {
                        let names = readers.join(", ");
                        view! {
                            <p class="text-right text-xs text-slate-500 dark:text-slate-400" title=names.clone() data-testid="read-by">
                                {format!("Read by {}", readers.len())}<span class="sr-only">{format!(": {names}")}</span>
                            </p>
                        }
                    })
                }}
                <For each=move || pending.get() key=|p| (p.client_id.clone(), p.failed.clone(), p.waiting) let:p>
                    <PendingRow p=p.clone() retry=move |p: Pending| {
                        pending.update(|l| if let Some(x) = l.iter_mut().find(|x| x.client_id == p.client_id) { x.failed = None; x.waiting = false; });
                        send(p);
                    } />
                </For>
            </div>
            <p class="min-h-[1.25rem] px-4 text-xs italic text-slate-600 dark:text-slate-400" aria-live="polite" data-testid="typing">
                {move || snap.with(|s| s.and_then(Result::ok).and_then(|s| presence.typing_line(&s.members)))}
            </p>
            <FormAlert error=error />
            {move || replying.get().map(|q| view! {
                <div class="mx-3 flex items-center gap-2 rounded-md bg-slate-100 px-3 py-1 text-xs dark:bg-slate-800" data-testid="replying">
                    <span class="min-w-0 flex-1 truncate">"Replying to " {q.author_name.clone().unwrap_or_else(|| "Someone".into())} ": " {q.excerpt.clone()}</span>
                    <button type="button" class="link" aria-label="Cancel the reply" on:click=move |_| replying.set(None)>"Cancel"</button>
                </div>
            })}
            <Composer room presence members=Signal::derive(move || snap.map_or_default(|s| {
                s.members.iter().filter(|m| m.id != s.viewer).cloned().collect::<Vec<_>>()
            })) on_send=move |body: String, attachments| {
                let reply_to = replying.get_untracked().map(|q| q.id);
                replying.set(None);
                let p = Pending { client_id: client_id(), body, reply_to, attachments, failed: None, waiting: false };
                pending.update(|l| l.push(p.clone()));
                send(p);
            } />
        </div>
    }
}

/// Outside direct rooms: who (besides the viewer and the author) has read up to the newest message,
/// by name ("Read by 3", the names on hover).
fn read_newest(s: &RoomSnapshot) -> Vec<String> {
    if s.summary.room.kind == RoomKind::Direct {
        return Vec::new();
    }
    let Some(newest) = s.page.messages.iter().find(|m| m.deleted_at.is_none()) else {
        return Vec::new();
    };
    let author = newest.author.as_ref().map(|a| a.id);
    s.reads
        .iter()
        .filter(|r| {
            r.user_id != s.viewer && Some(r.user_id) != author && r.last_read_id >= newest.id
        })
        .filter_map(|r| s.members.iter().find(|m| m.id == r.user_id))
        .map(|m| m.display_name.clone())
        .collect()
}

/// In a direct room: whether the other person has read the viewer's newest message, when the newest
/// message in the room is the viewer's ("Seen" goes under it, as in any messenger).
fn seen_by_the_other(s: &RoomSnapshot) -> bool {
    if s.summary.room.kind != RoomKind::Direct {
        return false;
    }
    let Some(newest) = s.page.messages.iter().find(|m| m.deleted_at.is_none()) else {
        return false;
    };
    newest.author.as_ref().map(|a| a.id) == Some(s.viewer)
        && s.reads
            .iter()
            .any(|r| r.user_id != s.viewer && r.last_read_id >= newest.id)
}
