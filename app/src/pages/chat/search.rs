//! Searching the viewer's rooms from the chat page: a search box over the room list whose results
//! (newest first, the matching words marked, "more" for older ones) replace the list until cleared;
//! each result opens its room at that message.

use crate::api;
use crate::components::form::FormAlert;
use crate::components::time::LocalTime;
use leptos::prelude::*;
use leptos::task::spawn_local;
use studyhall::chat::search::{highlight, SearchHit, HITS_MAX};
use studyhall::AppError;

/// What the search box is showing.
#[derive(Clone, Default, PartialEq)]
struct Found {
    query: String,
    words: Vec<String>,
    hits: Vec<SearchHit>,
    /// Whether an older page may exist.
    more: bool,
}

/// The search box, and its results in place of `children` (the room list) while a search is shown.
#[component]
pub(super) fn SearchRooms(children: ChildrenFn) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let found = RwSignal::new(None::<Found>);
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let run = move |query: String, before: Option<i64>| {
        busy.set(true);
        spawn_local(async move {
            match api::chat::chat_search(query.clone(), before).await {
                Ok(r) => {
                    error.set(None);
                    let more = r.hits.len() as i64 >= HITS_MAX;
                    found.update(|f| match (f.as_mut(), before) {
                        (Some(f), Some(_)) => {
                            f.hits.extend(r.hits);
                            f.more = more;
                        }
                        _ => {
                            *f = Some(Found {
                                query,
                                words: r.words,
                                hits: r.hits,
                                more,
                            })
                        }
                    });
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = text.get_untracked();
        if q.trim().is_empty() {
            found.set(None);
        } else {
            run(q, None);
        }
    };
    let clear = move |_| {
        text.set(String::new());
        found.set(None);
        error.set(None);
    };
    let older = move |_| {
        if let Some(f) = found.get_untracked() {
            run(f.query, f.hits.last().map(|h| h.message_id));
        }
    };
    view! {
        <form role="search" class="mb-3 flex gap-2" on:submit=submit>
            <label for="chat-search" class="sr-only">"Search messages"</label>
            <input id="chat-search" type="search" class="input min-w-0 flex-1" placeholder="Search messages" maxlength="200"
                data-testid="chat-search" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev)) />
            <button type="submit" class="button-secondary" disabled=move || busy.get()>"Search"</button>
        </form>
        <FormAlert error=error />
        {move || match found.get() {
            None => children().into_any(),
            Some(f) => view! {
                <div data-testid="search-results">
                    <div class="mb-2 flex items-center justify-between gap-2 text-sm">
                        <p aria-live="polite">{match f.hits.len() { 0 => "No messages found.".to_string(), 1 => "1 message found".to_string(), n => format!("{n} messages found") }}</p>
                        <button type="button" class="link" on:click=clear>"Back to rooms"</button>
                    </div>
                    {f.hits.is_empty().then(|| view! {
                        <p class="text-sm text-slate-600 dark:text-slate-400">"Search looks for whole words and word starts in the rooms you belong to. Try fewer or shorter words."</p>
                    })}
                    <ul class="space-y-1">
                        {f.hits.iter().cloned().map(|h| view! { <Hit h words=f.words.clone() /> }).collect_view()}
                    </ul>
                    {f.more.then(|| view! {
                        <button type="button" class="button-secondary mt-2 w-full text-sm" on:click=older disabled=move || busy.get()>"Older results"</button>
                    })}
                </div>
            }.into_any(),
        }}
    }
}

#[component]
fn Hit(h: SearchHit, words: Vec<String>) -> impl IntoView {
    let author = h
        .author
        .as_ref()
        .map(|a| a.display_name.clone())
        .unwrap_or_else(|| "Someone".into());
    let label = format!("{author} in {}: {}", h.room_name, h.excerpt);
    view! {
        <li>
            <a href=format!("/chat/{}?message={}", h.room_id, h.message_id) aria-label=label data-testid="search-hit"
                class="block rounded-md px-3 py-2 hover:bg-slate-100 dark:hover:bg-slate-800">
                <span class="block truncate text-xs text-slate-600 dark:text-slate-400">
                    {h.room_name.clone()} " · " {author} " · " <LocalTime at=h.created_at />
                </span>
                <span class="block break-words text-sm">
                    {highlight(&h.excerpt, &words).into_iter().map(|(run, hit)| if hit {
                        view! { <mark class="rounded bg-amber-200 px-0.5 text-slate-900 dark:bg-amber-700 dark:text-white">{run}</mark> }.into_any()
                    } else {
                        view! { <span>{run}</span> }.into_any()
                    }).collect_view()}
                </span>
            </a>
        </li>
    }
}
