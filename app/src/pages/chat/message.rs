//! One message in the open room: its author and times ("edited", exact time on hover), its text
//! (server-rendered HTML), the message it answers (a jump to it), reactions, and for its author
//! editing within the window and deleting; anyone may reply. And a message the viewer sent that
//! the server has not confirmed yet (`Pending`). Its files are `attach`'s.

use super::attach::AttachmentList;
use crate::api;
use crate::components::time::LocalTime;
use leptos::prelude::*;
use leptos::task::spawn_local;
use studyhall::chat::{Message, MessageId, Quote, RoomId, EDIT_WINDOW_MS, REACTIONS};
use studyhall::model::UserId;
use studyhall::AppError;

/// A message the viewer sent that the server has not confirmed.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Pending {
    pub client_id: String,
    pub body: String,
    /// The message it answers.
    pub reply_to: Option<MessageId>,
    /// Files uploaded for it.
    pub attachments: Vec<studyhall::chat::attachments::Attachment>,
    pub failed: Option<String>,
    /// Not sent for want of a connection: sent again when it is back.
    pub waiting: bool,
}

pub(super) fn client_id() -> String {
    let random = (js_sys::Math::random() * 1e12) as u64;
    format!("{}-{random:x}", crate::browser::now_ms())
}

#[component]
pub(super) fn MessageRow(
    room: RoomId,
    current: Signal<Option<Message>>,
    viewer: UserId,
    /// The viewer moderates the room (its owner or a moderator): they may delete anyone's message.
    moderator: bool,
    error: RwSignal<Option<AppError>>,
    /// The message the room was opened at, marked.
    target: Signal<Option<MessageId>>,
    /// The message the composer answers; Reply sets it.
    replying: RwSignal<Option<Quote>>,
    /// It follows the same person's message closely: its name and time are for screen readers only.
    continued: Signal<bool>,
) -> impl IntoView {
    let clock = crate::components::time::use_clock();
    // The text being edited, kept across the row's updates (a reaction arriving mid-edit).
    let editing = RwSignal::new(None::<String>);
    let save = move |id: MessageId| {
        let Some(body) = editing.get_untracked() else {
            return;
        };
        spawn_local(async move {
            match api::chat::chat_edit(room, id, body).await {
                Ok(_) => editing.set(None),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let react = move |id: MessageId, emoji: &'static str| {
        spawn_local(async move {
            if let Err(e) = api::chat::chat_react(room, id, emoji.to_string()).await {
                error.set(Some(e));
            }
        });
    };
    let remove = move |id: MessageId| {
        spawn_local(async move {
            if let Err(e) = api::chat::chat_delete(room, id).await {
                error.set(Some(e));
            }
        });
    };
    move || {
        current.get().map(|m| {
        let id = m.id;
        let author = m.author.as_ref().map(|a| a.display_name.clone()).unwrap_or_else(|| "Someone".into());
        let deleted = m.deleted_at.is_some();
        let mine = m.author.as_ref().map(|a| a.id) == Some(viewer);
        // By the page clock, so the server and the hydrating browser agree; the button goes once the
        // window has passed (the clock ticks every 30 s).
        let created = m.created_at;
        let editable = move || mine && !deleted && clock.now() - created < EDIT_WINDOW_MS;
        let label = format!("{author}'s message");
        let quote_of_this = Quote {
            id,
            author_name: Some(author.clone()),
            excerpt: studyhall::chat::excerpt(&m.body),
            deleted: false,
        };
        let original = m.body.clone();
        let reply_label = format!("Reply to {author}");
        let moderate_label = format!("Delete {author}'s message (as the room's moderator)");
        view! {
            <article id=format!("message-{id}") class=move || if target.get() == Some(id) {
                    "group rounded-md px-2 py-1 ring-2 ring-amber-400 hover:bg-slate-50 dark:hover:bg-slate-900"
                } else {
                    "group rounded-md px-2 py-1 hover:bg-slate-50 dark:hover:bg-slate-900"
                }
                data-testid="message" data-id=id aria-label=label aria-current=move || (target.get() == Some(id)).then_some("true")>
                <p class=move || if continued.get() { "sr-only" } else { "text-sm" }>
                    <span class="font-semibold">{author}</span>
                    " "
                    <span class="text-xs text-slate-500 dark:text-slate-400"><LocalTime at=m.created_at /></span>
                    {m.edited_at.map(|at| view! { <span class="ml-1 text-xs text-slate-500 dark:text-slate-400">"(edited " <LocalTime at /> ")"</span> })}
                </p>
                {m.reply_to.clone().map(|q| {
                    let words = if q.deleted {
                        "a deleted message".to_string()
                    } else {
                        format!("{}: {}", q.author_name.clone().unwrap_or_else(|| "Someone".into()), q.excerpt)
                    };
                    view! {
                        <button type="button" class="mb-1 block max-w-full truncate border-l-2 border-slate-300 pl-2 text-left text-xs text-slate-600 dark:border-slate-600 dark:text-slate-400"
                            aria-label=format!("In reply to {words}; go to it") data-testid="quote"
                            on:click=move |_| crate::browser::scroll_into_view(&format!("message-{}", q.id))>
                            "↩ " {words.clone()}
                        </button>
                    }
                })}
                {if deleted {
                    view! { <p class="text-sm italic text-slate-500 dark:text-slate-400" data-testid="tombstone">"Message deleted"</p> }.into_any()
                } else if editing.with(Option::is_some) {
                    view! {
                        <form class="mt-1 space-y-1" on:submit=move |ev| { ev.prevent_default(); save(id); }>
                            <label for=format!("edit-{id}") class="sr-only">"Edit your message"</label>
                            <textarea id=format!("edit-{id}") class="input w-full" rows="2" maxlength="4000" data-testid="edit-box"
                                prop:value=move || editing.get().unwrap_or_default()
                                on:input=move |ev| editing.set(Some(event_target_value(&ev)))
                                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                                    if ev.key() == "Escape" {
                                        editing.set(None);
                                    } else if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                                        ev.prevent_default();
                                        save(id);
                                    }
                                }></textarea>
                            <div class="flex gap-2 text-xs">
                                <button type="submit" class="button-primary">"Save"</button>
                                <button type="button" class="button-secondary" on:click=move |_| editing.set(None)>"Cancel"</button>
                            </div>
                        </form>
                    }.into_any()
                } else {
                    // Rendered and sanitised on the server (pulldown-cmark, then ammonia).
                    view! {
                        <div class="chat-body break-words text-sm" data-testid="message-body" inner_html=m.html.clone()></div>
                        <AttachmentList files=m.attachments.clone() />
                    }.into_any()
                }}
                {(!deleted).then(|| view! {
                    <div class="mt-1 flex flex-wrap items-center gap-1">
                        {m.reactions.iter().map(|r| {
                            let emoji: &'static str = REACTIONS.iter().copied().find(|e| *e == r.emoji).unwrap_or("👍");
                            let names = r.users.iter().map(|u| u.display_name.clone()).collect::<Vec<_>>().join(", ");
                            view! {
                                <button type="button" class="rounded-full border border-slate-300 px-2 text-xs dark:border-slate-700" title=names.clone()
                                    aria-label=format!("{emoji} {} ({names}); toggle yours", r.users.len()) on:click=move |_| react(id, emoji)>
                                    {emoji} " " {r.users.len()}
                                </button>
                            }
                        }).collect_view()}
                        <details class="relative">
                            <summary class="cursor-pointer list-none rounded px-1 text-xs text-slate-500 dark:text-slate-400" aria-label="Add a reaction">"☺+"</summary>
                            <div class="absolute z-10 flex gap-1 rounded-md border border-slate-200 bg-white p-1 shadow dark:border-slate-700 dark:bg-slate-900">
                                {REACTIONS.iter().map(|e| view! {
                                    <button type="button" class="px-1" aria-label=format!("React with {e}") on:click=move |_| react(id, e)>{*e}</button>
                                }).collect_view()}
                            </div>
                        </details>
                        <button type="button" class="link text-xs" aria-label=reply_label.clone() on:click=move |_| replying.set(Some(quote_of_this.clone()))>"Reply"</button>
                        {move || editable().then(|| {
                            let original = original.clone();
                            view! {
                            <button type="button" class="link text-xs" aria-label="Edit your message" on:click=move |_| editing.set(Some(original.clone()))>"Edit"</button>
                        }})}
                        {mine.then(|| view! {
                            <button type="button" class="link text-xs" aria-label="Delete your message" on:click=move |_| remove(id)>"Delete"</button>
                        })}
                        {(moderator && !mine).then(|| view! {
                            <button type="button" class="link text-xs" aria-label=moderate_label on:click=move |_| remove(id)>"Delete"</button>
                        })}
                    </div>
                })}
            </article>
        }
    })
    }
}

#[component]
pub(super) fn PendingRow(p: Pending, retry: impl Fn(Pending) + Copy + 'static) -> impl IntoView {
    let failed = p.failed.clone();
    let again = p.clone();
    view! {
        <article class="rounded-md px-2 py-1 opacity-70" data-testid="pending">
            <p class="whitespace-pre-wrap break-words text-sm">{p.body.clone()}</p>
            {(!p.attachments.is_empty()).then(|| view! {
                <p class="truncate text-xs text-slate-500 dark:text-slate-400">
                    "📎 " {p.attachments.iter().map(|a| a.name.clone()).collect::<Vec<_>>().join(", ")}
                </p>
            })}
            {match failed {
                None if p.waiting => view! {
                    <p class="text-xs text-amber-700 dark:text-amber-400" data-testid="pending-waiting">"Not sent yet: waiting for the connection. It goes by itself when you are back online."</p>
                }.into_any(),
                None => view! { <p class="text-xs text-slate-500 dark:text-slate-400">"Sending…"</p> }.into_any(),
                Some(why) => view! {
                    <p class="text-xs text-red-700 dark:text-red-400" role="alert">
                        "Not sent: " {why} " "
                        <button type="button" class="link" on:click=move |_| retry(again.clone())>"Retry"</button>
                    </p>
                }.into_any(),
            }}
        </article>
    }
}
