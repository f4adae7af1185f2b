//! The announcements panel: rendered from a snapshot on the server, then live; admins can post.

use crate::api;
use crate::components::form::{field_error, Field, FormAlert};
use crate::components::time::LocalTime;
use crate::realtime::live::use_live_snapshot;
use leptos::prelude::*;
use studyhall::model::{Announcement, Role};
use studyhall::protocol::Topic;

const SHOWN: usize = 10;

#[component]
pub fn AnnouncementsPanel(role: Role) -> impl IntoView {
    let items = use_live_snapshot(
        Topic::Announcements,
        || async {
            api::latest_announcements()
                .await
                .map(|s| (s.items, s.position))
        },
        |items: &mut Vec<Announcement>, event, data| {
            if event == studyhall::server_events::ANNOUNCEMENT_CREATED {
                if let Ok(a) = serde_json::from_value::<Announcement>(data.clone()) {
                    items.insert(0, a);
                    items.truncate(SHOWN);
                }
            }
        },
    );
    view! {
        <section class="card" aria-labelledby="announcements-heading">
            <h2 id="announcements-heading" class="card-title">"Announcements"</h2>
            {(role == Role::Admin).then(|| view! { <PostAnnouncement /> })}
            <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="announcements" aria-live="polite">
                <Transition fallback=|| view! { <li class="py-2">"Loading…"</li> }>
                {move || items.with(|loaded| loaded.map(|loaded| match loaded {
                    Err(e) => view! { <li class="py-2" role="alert">{e.to_string()}</li> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <li class="py-2 text-slate-600 dark:text-slate-400">"No announcements yet."</li>
                    }.into_any(),
                    Ok(list) => list.iter().map(|a| view! {
                        <li class="py-2" data-offset=a.offset>
                            <p class="font-medium">{a.title.clone()}</p>
                            <p class="text-sm">{a.body.clone()}</p>
                            <p class="text-xs text-slate-500 dark:text-slate-400">
                                {a.author_name.clone().unwrap_or_else(|| "Studyhall".into())} " · " <LocalTime at=a.created_at />
                            </p>
                        </li>
                    }).collect_view().into_any(),
                }))}
                </Transition>
            </ul>
        </section>
    }
}

#[component]
fn PostAnnouncement() -> impl IntoView {
    let action = ServerAction::<api::PostAnnouncement>::new();
    let server_error = move || action.value().get().and_then(Result::err);
    let none = RwSignal::new(None);
    view! {
        <details class="mb-3">
            <summary class="cursor-pointer text-sm font-medium">"Post an announcement"</summary>
            <ActionForm action=action attr:class="mt-2 space-y-2" attr:novalidate="true">
                <Field label="Title" name="title" error=field_error(server_error, none, "title") />
                <Field label="Message" name="body" error=field_error(server_error, none, "body") />
                <FormAlert error=Signal::derive(server_error) />
                <button type="submit" class="button-primary" disabled=move || action.pending().get()>"Post"</button>
            </ActionForm>
        </details>
    }
}
