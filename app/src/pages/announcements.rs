//! The announcements panel: rendered from a snapshot on the server, then live; admins can post, edit
//! and delete (each change reaches every open page as its own event).

use crate::api;
use crate::components::confirm::{use_status, ConfirmButton};
use crate::components::form::{field_error, focus_first_error, Field, FormAlert, RequestKey};
use crate::components::time::LocalTime;
use crate::realtime::live::use_live_snapshot;
use leptos::prelude::*;
use studyhall::model::{Announcement, Role, ANNOUNCEMENTS_LATEST};
use studyhall::protocol::Topic;

#[component]
pub fn AnnouncementsPanel(role: Role) -> impl IntoView {
    let items = use_live_snapshot(
        Topic::Announcements,
        || async {
            api::latest_announcements()
                .await
                .map(|s| (s.items, s.position))
        },
        apply,
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
                        <AnnouncementItem a=a.clone() admin=role == Role::Admin />
                    }).collect_view().into_any(),
                }))}
                </Transition>
            </ul>
        </section>
    }
}

/// Applies one live event on `announcements` to the newest [`ANNOUNCEMENTS_LATEST`].
fn apply(items: &mut Vec<Announcement>, event: &str, data: &serde_json::Value) {
    use studyhall::server_events::{
        ANNOUNCEMENT_CREATED, ANNOUNCEMENT_DELETED, ANNOUNCEMENT_UPDATED,
    };
    match event {
        ANNOUNCEMENT_CREATED => {
            if let Ok(a) = serde_json::from_value::<Announcement>(data.clone()) {
                if !items.iter().any(|x| x.id == a.id) {
                    items.insert(0, a);
                    items.truncate(ANNOUNCEMENTS_LATEST);
                }
            }
        }
        ANNOUNCEMENT_UPDATED => {
            if let Ok(a) = serde_json::from_value::<Announcement>(data.clone()) {
                if let Some(old) = items.iter_mut().find(|x| x.id == a.id) {
                    *old = a;
                }
            }
        }
        ANNOUNCEMENT_DELETED => {
            if let Some(id) = data.get("id").and_then(serde_json::Value::as_i64) {
                items.retain(|x| x.id != id);
            }
        }
        _ => {}
    }
}

/// One announcement; for admins with Edit (in place) and Delete (after asking).
#[component]
fn AnnouncementItem(a: Announcement, admin: bool) -> impl IntoView {
    let editing = RwSignal::new(false);
    let status = use_status();
    let error = RwSignal::new(None::<studyhall::AppError>);
    let id = a.id;
    let delete = Callback::new(move |_| {
        leptos::task::spawn_local(async move {
            match api::delete_announcement(id).await {
                Ok(()) => status.say("Announcement deleted"),
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    });
    let (shown, offset) = (a.clone(), a.offset);
    view! {
        <li class="py-2" data-offset=offset data-testid="announcement">
            <Show when=move || editing.get() fallback=move || {
                let a = shown.clone();
                view! {
                    <p class="font-medium break-words">{a.title.clone()}</p>
                    <p class="text-sm whitespace-pre-line break-words">{a.body.clone()}</p>
                    <div class="flex flex-wrap items-center gap-x-3 text-xs text-slate-500 dark:text-slate-400">
                        <span>{a.author_name.clone().unwrap_or_else(|| "Studyhall".into())} " · " <LocalTime at=a.created_at /></span>
                        {admin.then(|| view! {
                            <button type="button" class="link" aria-label=format!("Edit announcement {}", a.title)
                                on:click=move |_| editing.set(true)>"Edit"</button>
                            <ConfirmButton class="link text-red-700 dark:text-red-400" label="Delete"
                                aria_label=format!("Delete announcement {}", a.title)
                                title=format!("Delete the announcement “{}”?", a.title)
                                message="It disappears from everyone's dashboard. This cannot be undone."
                                confirm_label="Delete announcement" on_confirm=delete />
                        })}
                    </div>
                }
            }>
                <EditAnnouncement a=a.clone() editing />
            </Show>
            <FormAlert error=error />
        </li>
    }
}

/// Edits an announcement in place; Save publishes the change to every open page.
#[component]
fn EditAnnouncement(a: Announcement, editing: RwSignal<bool>) -> impl IntoView {
    // Not an action of this component: the saved event re-renders the list (and this form) before the
    // answer may arrive, so the request's task owns what happens after it.
    let error = RwSignal::new(None::<studyhall::AppError>);
    let pending = RwSignal::new(false);
    let server_error = move || error.get();
    let form = NodeRef::<leptos::html::Form>::new();
    focus_first_error(form, server_error);
    let none = RwSignal::new(None);
    let status = use_status();
    let id = a.id;
    let (title, body) = (
        RwSignal::new(a.title.clone()),
        RwSignal::new(a.body.clone()),
    );
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (t, b) = (title.get_untracked(), body.get_untracked());
        pending.set(true);
        leptos::task::spawn_local(async move {
            match api::edit_announcement(id, t, b).await {
                Ok(_) => {
                    status.say("Announcement saved");
                    editing.try_set(false);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
            pending.try_set(false);
        });
    };
    let (title_id, body_id) = (
        format!("announcement-{id}-title"),
        format!("announcement-{id}-body"),
    );
    view! {
        <form node_ref=form class="space-y-2" novalidate data-testid="announcement-edit" on:submit=submit>
            <label class="block text-sm font-medium" for=title_id.clone()>"Title"</label>
            <input class="input" id=title_id name="title" maxlength="120" prop:value=move || title.get()
                on:input=move |ev| title.set(event_target_value(&ev)) />
            <p class="text-sm text-red-700 dark:text-red-400" role="alert">{field_error(server_error, none, "title")}</p>
            <label class="block text-sm font-medium" for=body_id.clone()>"Message"</label>
            <textarea class="input" id=body_id name="body" rows="4" maxlength="2000" prop:value=move || body.get()
                on:input=move |ev| body.set(event_target_value(&ev))>{a.body}</textarea>
            <p class="text-sm text-red-700 dark:text-red-400" role="alert">{field_error(server_error, none, "body")}</p>
            <FormAlert error=Signal::derive(server_error) />
            <div class="flex gap-3">
                <button type="submit" class="button-primary" disabled=move || pending.get()>"Save"</button>
                <button type="button" class="button-secondary" on:click=move |_| editing.set(false)>"Cancel"</button>
            </div>
        </form>
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
