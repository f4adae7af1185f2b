//! The announcements panel: rendered from a snapshot on the server, then live; admins can post, edit
//! and delete (each change reaches every open page as its own event).

use crate::api;
use crate::components::confirm::{use_status, EditDelete};
use crate::components::form::{field_error, focus_first_error, Field, FormAlert, RequestKey};
use crate::components::time::LocalTime;
use crate::realtime::live::use_live_snapshot;
use leptos::prelude::*;
use studyhall::announcements::Announcement;
use studyhall::model::Role;
use studyhall::protocol::Topic;

#[component]
pub fn AnnouncementsPanel(role: Role) -> impl IntoView {
    let items = use_live_snapshot(Topic::Announcements, || async {
        api::latest_announcements()
            .await
            .map(|s| (s.items, s.position))
    });
    view! {
        <section class="card" aria-labelledby="announcements-heading">
            <h2 id="announcements-heading" class="card-title">"Announcements"</h2>
            {(role == Role::Admin).then(|| view! { <PostAnnouncement /> })}
            <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="announcements" aria-live="polite">
                <Transition fallback=|| view! { <li class="py-2">"Loading…"</li> }>
                {move || items.status().map(|loaded| match loaded {
                    Err(e) => Some(view! { <li class="py-2" role="alert">{e.to_string()}</li> }),
                    Ok(()) => None,
                })}
                <Show when=move || matches!(items.status(), Some(Ok(()))) && items.map_or_default(Vec::is_empty)>
                    <li class="py-2 text-slate-600 dark:text-slate-400">"No announcements yet."</li>
                </Show>
                // Keyed by id, each row reading its announcement's current value: an edit re-renders the
                // row's text, never the row, so the open edit form hears its own answer.
                <For
                    each=move || items.map_or_default(|l| l.iter().map(|a| a.id).collect::<Vec<_>>())
                    key=|id| *id
                    children=move |id| {
                        // A memo: the row re-renders when its announcement changes, not on every event.
                        let current = Memo::new(move |_| items.map_or_default(|l| l.iter().find(|a| a.id == id).cloned()));
                        view! { <AnnouncementItem id current=current.into() admin=role == Role::Admin /> }
                    }
                />
                </Transition>
            </ul>
        </section>
    }
}

/// One announcement; for admins with Edit (in place) and Delete (after asking).
#[component]
fn AnnouncementItem(id: i64, current: Signal<Option<Announcement>>, admin: bool) -> impl IntoView {
    let editing = RwSignal::new(false);
    let (error, status) = (RwSignal::new(None::<studyhall::AppError>), use_status());
    let delete = Callback::new(move |_| {
        status.after(api::delete_announcement(id), error, "Announcement deleted")
    });
    view! {
        <li class="py-2" data-offset=move || current.get().map(|a| a.offset) data-testid="announcement">
            <Show when=move || editing.get() fallback=move || move || current.get().map(|a| view! {
                <p class="font-medium break-words">{a.title.clone()}</p>
                <p class="text-sm whitespace-pre-line break-words">{a.body.clone()}</p>
                <div class="flex flex-wrap items-center gap-x-3 text-xs text-slate-500 dark:text-slate-400">
                    <span>{a.author_name.clone().unwrap_or_else(|| "Studyhall".into())} " · " <LocalTime at=a.created_at /></span>
                    {admin.then(|| view! {
                        <EditDelete kind="announcement" name=a.title.clone() editing on_delete=delete
                            message="It disappears from everyone's dashboard. This cannot be undone." />
                    })}
                </div>
            })>
                {move || current.get_untracked().map(|a| view! { <EditAnnouncement a editing /> })}
            </Show>
            <FormAlert error=error />
        </li>
    }
}

/// Edits an announcement in place; Save publishes the change to every open page.
#[component]
fn EditAnnouncement(a: Announcement, editing: RwSignal<bool>) -> impl IntoView {
    let action = ServerAction::<api::EditAnnouncement>::new();
    let server_error = move || action.value().get().and_then(Result::err);
    let form = NodeRef::<leptos::html::Form>::new();
    focus_first_error(form, server_error);
    let (none, status) = (RwSignal::new(None), use_status());
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            status.say("Announcement saved");
            editing.set(false);
        }
    });
    let id = a.id;
    view! {
        <ActionForm action=action node_ref=form attr:class="space-y-2" attr:novalidate="true" attr:data-testid="announcement-edit">
            <input type="hidden" name="id" value=id />
            <Field label="Title" name="title" id=format!("announcement-{id}-title") value=a.title maxlength=120
                error=field_error(server_error, none, "title") />
            <Field label="Message" name="body" id=format!("announcement-{id}-body") value=a.body rows=4 maxlength=2000
                error=field_error(server_error, none, "body") />
            <FormAlert error=Signal::derive(server_error) />
            <div class="flex gap-3">
                <button type="submit" class="button-primary" disabled=move || action.pending().get()>"Save"</button>
                <button type="button" class="button-secondary" on:click=move |_| editing.set(false)>"Cancel"</button>
            </div>
        </ActionForm>
    }
}

#[component]
fn PostAnnouncement() -> impl IntoView {
    let action = ServerAction::<api::PostAnnouncement>::new();
    let server_error = move || action.value().get().and_then(Result::err);
    let none = RwSignal::new(None);
    let (form, key, status) = (
        NodeRef::<leptos::html::Form>::new(),
        RequestKey::new(),
        use_status(),
    );
    focus_first_error(form, server_error);
    // Posted: an empty form with a new key, so the next post is a new announcement.
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(f)) = (action.value().get(), form.get_untracked()) {
            f.reset();
            key.renew();
            status.say("Announcement posted");
        }
    });
    view! {
        <details class="mb-3">
            <summary class="cursor-pointer text-sm font-medium">"Post an announcement"</summary>
            <ActionForm action=action node_ref=form attr:class="mt-2 space-y-2" attr:novalidate="true" attr:data-testid="announcement-form">
                {key.input()}
                <Field label="Title" name="title" maxlength=120 error=field_error(server_error, none, "title") />
                <Field label="Message" name="body" rows=4 maxlength=2000 error=field_error(server_error, none, "body") />
                <FormAlert error=Signal::derive(server_error) />
                <button type="submit" class="button-primary" disabled=move || action.pending().get()>"Post"</button>
            </ActionForm>
        </details>
    }
}
