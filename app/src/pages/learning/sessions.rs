//! The learning page's sessions: the log form (also the edit form), the list with "Show more", and a
//! row with its edit and delete.

use super::remove;
use crate::api::learning::{self as api, LearningItem};
use crate::components::confirm::{use_status, EditDelete};
use crate::components::form::{field_error, focus_first_error, FormAlert, RequestKey};
use crate::components::time::LocalDay;
use crate::realtime::live::LiveSnapshot;
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use studyhall::learning::{format_minutes, LearningSession, LearningSnapshot};
use studyhall::AppError;

/// The list: the snapshot's newest page, then older pages on "Show more", appended to the live
/// snapshot so live edits and deletes apply to them as well.
#[component]
pub(super) fn SessionList(snap: LiveSnapshot<LearningSnapshot>, today: String) -> impl IntoView {
    let loading = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let more = move || snap.map_or_default(|s| s.more_sessions.clone());
    let show_more = move |_| {
        let Some(before) = more() else { return };
        loading.set(true);
        spawn_local(async move {
            match api::load_sessions(before).await {
                Ok(page) => {
                    snap.update(|s| {
                        // A session logged meanwhile on an older day may already be listed.
                        let new: Vec<_> = page
                            .items
                            .into_iter()
                            .filter(|p| !s.sessions.iter().any(|x| x.id == p.id))
                            .collect();
                        s.sessions.extend(new);
                        s.sort_sessions();
                        s.more_sessions = page.next;
                    });
                    error.try_set(None);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
            loading.try_set(false);
        });
    };
    view! {
        <section class="card lg:col-span-2 lg:col-start-1 lg:row-start-2" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading" class="card-title">"Sessions"</h2>
            <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="sessions">
                <Show when=move || snap.map_or_default(|s| s.sessions.is_empty())>
                    <li class="py-2 text-slate-600 dark:text-slate-400">"No sessions yet."</li>
                </Show>
                // Keyed by id, each row reading its session's current value: a live change re-renders a
                // row's text, never the row, so an open edit form stays open and hears its answer.
                <For
                    each=move || snap.map_or_default(|s| s.sessions.iter().map(|s| s.id).collect::<Vec<_>>())
                    key=|id| *id
                    children=move |id| {
                        // A memo: the row re-renders when its session changes, not on every live event.
                        let current = Memo::new(move |_| {
                            snap.map_or_default(|s| s.sessions.iter().find(|x| x.id == id).cloned())
                        });
                        view! { <SessionRow id current=current.into() today=today.clone() /> }
                    }
                />
            </ul>
            <Show when=move || more().is_some()>
                <button type="button" class="button-secondary mt-3" data-testid="sessions-more"
                    disabled=move || loading.get() on:click=show_more>
                    {move || if loading.get() { "Loading…" } else { "Show more" }}
                </button>
            </Show>
            <FormAlert error=error />
        </section>
    }
}

/// Logs a new session, or edits one. A new one is sent with a [`RequestKey`], so a double click
/// logs it once; after it is logged the form clears but keeps its date (a day's sessions are often
/// logged together) and takes a new key.
#[component]
pub(super) fn SessionForm(
    today: String,
    editing: Option<LearningSession>,
    #[prop(optional)] done: Option<Callback<()>>,
) -> impl IntoView {
    let action = ServerAction::<api::SaveSession>::new();
    let form = NodeRef::<html::Form>::new();
    let day_input = NodeRef::<html::Input>::new();
    let server_error = move || action.value().get().and_then(Result::err);
    focus_first_error(form, server_error);
    let (key, status) = (RequestKey::new(), use_status());
    let none = RwSignal::new(None);
    let is_new = editing.is_none();
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            if is_new {
                if let (Some(f), Some(day)) = (form.get_untracked(), day_input.get_untracked()) {
                    let kept = day.value();
                    f.reset();
                    day.set_value(&kept);
                }
                key.renew();
                status.say("Session logged");
            } else {
                status.say("Session saved");
            }
            if let Some(done) = done {
                done.run(());
            }
        }
    });
    let e = editing.clone();
    let (day, hours, minutes, topic, note) = match &e {
        Some(s) => (
            s.day.clone(),
            (s.minutes / 60).to_string(),
            (s.minutes % 60).to_string(),
            s.topic.clone(),
            s.note.clone().unwrap_or_default(),
        ),
        None => (
            today.clone(),
            "1".into(),
            "0".into(),
            String::new(),
            String::new(),
        ),
    };
    let prefix = e
        .as_ref()
        .map(|s| format!("s{}-", s.id))
        .unwrap_or_default();
    let id = move |name: &str| format!("{prefix}{name}");
    let err = move |f: &'static str| field_error(server_error, none, f);
    let invalid = move |f: &'static str| {
        let e = err(f);
        move || e.get().is_some().then_some("true")
    };
    view! {
        <ActionForm action=action node_ref=form attr:class="grid gap-3 sm:grid-cols-6" attr:novalidate="true" attr:data-testid=if is_new { "log-form" } else { "edit-form" }>
            {e.as_ref().map(|s| view! { <input type="hidden" name="id" value=s.id /> })}
            {is_new.then(|| key.input())}
            <div class="sm:col-span-2">
                <label class="block text-sm font-medium" for=id("day")>"Date"</label>
                <input class="input" type="date" id=id("day") name="day" value=day max=today.clone() required
                    node_ref=day_input aria-invalid=invalid("day") />
                <p class="text-sm text-red-700 dark:text-red-400" role="alert">{err("day")}</p>
            </div>
            <div class="sm:col-span-2">
                <span class="block text-sm font-medium" id=id("duration")>"Duration"</span>
                <div class="flex gap-2" role="group" aria-labelledby=id("duration")>
                    <label class="sr-only" for=id("hours")>"Hours"</label>
                    <input class="input" type="number" min="0" max="24" id=id("hours") name="hours" value=hours
                        aria-invalid=invalid("minutes") />
                    <span class="self-center text-sm">"h"</span>
                    <label class="sr-only" for=id("minutes")>"Minutes"</label>
                    <input class="input" type="number" min="0" max="59" id=id("minutes") name="minutes" value=minutes
                        aria-invalid=invalid("minutes") />
                    <span class="self-center text-sm">"min"</span>
                </div>
                <p class="text-sm text-red-700 dark:text-red-400" role="alert">{err("minutes")}</p>
            </div>
            <div class="sm:col-span-2">
                <label class="block text-sm font-medium" for=id("topic")>"Topic or skill"</label>
                <input class="input" id=id("topic") name="topic" value=topic maxlength="80" required
                    aria-invalid=invalid("topic") />
                <p class="text-sm text-red-700 dark:text-red-400" role="alert">{err("topic")}</p>
            </div>
            <div class="sm:col-span-6">
                <label class="block text-sm font-medium" for=id("note")>"Note (optional)"</label>
                <input class="input" id=id("note") name="note" value=note maxlength="1000"
                    aria-invalid=invalid("note") />
                <p class="text-sm text-red-700 dark:text-red-400" role="alert">{err("note")}</p>
            </div>
            <div class="flex items-center gap-3 sm:col-span-6">
                <button type="submit" class="button-primary" disabled=move || action.pending().get()>
                    {if is_new { "Log session" } else { "Save" }}
                </button>
                {done.map(|d| view! { <button type="button" class="button-secondary" on:click=move |_| d.run(())>"Cancel"</button> })}
                <FormAlert error=Signal::derive(server_error) />
            </div>
        </ActionForm>
    }
}

#[component]
fn SessionRow(id: i64, current: Signal<Option<LearningSession>>, today: String) -> impl IntoView {
    let editing = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let status = use_status();
    view! {
        <li class="py-3" data-testid="session-row" data-session-id=id>
            <Show when=move || editing.get() fallback=move || move || current.get().map(|s| {
                let what = format!("{} of {}", format_minutes(s.minutes), s.topic);
                view! {
                    <div class="flex flex-wrap items-baseline gap-x-3 gap-y-1">
                        <span class="min-w-0 break-words font-medium">{s.topic.clone()}</span>
                        <span class="text-sm" data-testid="session-duration">{format_minutes(s.minutes)}</span>
                        <span class="text-sm text-slate-500 dark:text-slate-400"><LocalDay day=s.day.clone() /></span>
                        <span class="ml-auto flex gap-3 text-sm">
                            <EditDelete kind="session" name=what.clone() editing
                                message=format!("{what} on {} leaves your log and your totals. This cannot be undone.", s.day)
                                on_delete=Callback::new(move |_| remove(LearningItem::Session(id), error, status, "Session deleted")) />
                        </span>
                    </div>
                    {s.note.clone().map(|n| view! { <p class="break-words text-sm text-slate-600 dark:text-slate-300">{n}</p> })}
                }
            })>
                {
                    let today = today.clone();
                    move || current.get_untracked().map(|s| view! {
                        <SessionForm today=today.clone() editing=Some(s) done=Callback::new(move |_| editing.set(false)) />
                    })
                }
            </Show>
            <FormAlert error=error />
        </li>
    }
}
