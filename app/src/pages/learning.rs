//! The student's learning log: log, edit and delete sessions; set, complete and delete goals; add and
//! remove skills. Live from `user:{me}`, so another tab or device shows the same log.

mod sessions;

use crate::api::learning::{self as api, LearningItem};
use crate::components::confirm::{use_status, EditDelete, Status};
use crate::components::form::{field_error, focus_first_error, FormAlert, RequestKey};
use crate::components::time::LocalDay;
use crate::realtime::live::use_live_snapshot_with;
use crate::session::use_current_user;
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use sessions::{SessionForm, SessionList};
use studyhall::learning::{format_count, format_minutes, Analytics, Goal, LearningSnapshot, Skill};
use studyhall::model::Role;
use studyhall::protocol::Topic;
use studyhall::AppError;

/// "5 h in 6 sessions · current streak 1 day".
fn summary(a: &Analytics) -> String {
    format!(
        "{} in {} · current streak {}",
        format_minutes(a.total_minutes),
        format_count(a.sessions, "session", "sessions"),
        format_count(a.current_streak, "day", "days"),
    )
}

/// Deletes a row of the log and says so; the list follows from the live change.
fn remove(
    item: LearningItem,
    error: RwSignal<Option<AppError>>,
    status: Status,
    done: &'static str,
) {
    status.after(api::delete_learning_item(item), error, done);
}

#[component]
pub fn LearningPage() -> impl IntoView {
    let user = use_current_user();
    if user.role != Role::Student {
        return view! {
            <Title text="Learning" />
            <h1 class="text-2xl font-bold">"Learning log"</h1>
            <p class="mt-2">"The learning log is for students. Your students' learning shows on your dashboard and in the activity feed."</p>
        }
        .into_any();
    }
    let inbox = crate::components::bell::use_inbox();
    let snap = use_live_snapshot_with(
        Topic::User(user.id),
        || async { api::load_learning().await.map(|s| (s.clone(), s.position)) },
        move |_: &LearningSnapshot, event| {
            crate::components::celebrate::on_learning_event(inbox, event)
        },
    );
    view! {
        <Title text="Learning" />
        <h1 class="text-2xl font-bold">"Learning log"</h1>
        <Transition fallback=|| view! { <p class="mt-4">"Loading…"</p> }>
            // The frame (forms, lists) is built once, when the snapshot is in: `Show` memoizes "loaded",
            // so a live change re-renders only the parts that read it, and a form keeps its state (and
            // its action's answer) through the change its own save caused.
            <Show
                when=move || matches!(snap.status(), Some(Ok(())))
                fallback=move || move || snap.status().and_then(Result::err).map(|e| view! { <p role="alert" class="mt-4">{e.to_string()}</p> })
            >
                {
                    // Today as the snapshot says (the student's zone); read once, for the form's default.
                    let today = untrack(|| snap.map_or_default(|s| s.analytics.today.clone()));
                    view! {
                        <p class="mt-1 text-slate-600 dark:text-slate-400" data-testid="learning-summary">
                            {move || snap.with(|s| s.and_then(Result::ok).map(|s| summary(&s.analytics)))}
                        </p>
                        // In reading order (and stacked on phones): the log form, goals and skills, then
                        // the long session list; on wide screens goals and skills sit in the right column.
                        <div class="mt-6 grid gap-6 lg:grid-cols-3 lg:grid-rows-[auto_1fr] lg:items-start">
                            <section class="card lg:col-span-2" aria-labelledby="log-heading">
                                <h2 id="log-heading" class="card-title">"Log a session"</h2>
                                <SessionForm today=today.clone() editing=None />
                            </section>
                            <div class="space-y-6 lg:col-start-3 lg:row-span-2 lg:row-start-1">
                                <Goals goals=Signal::derive(move || snap.map_or_default(|s| s.goals.clone())) />
                                <Skills skills=Signal::derive(move || snap.map_or_default(|s| s.skills.clone())) />
                            </div>
                            <SessionList snap today />
                        </div>
                    }
                }
            </Show>
        </Transition>
    }
    .into_any()
}

#[component]
fn Goals(goals: Signal<Vec<Goal>>) -> impl IntoView {
    let action = ServerAction::<api::SetGoal>::new();
    let form = NodeRef::<html::Form>::new();
    let server_error = move || action.value().get().and_then(Result::err);
    focus_first_error(form, server_error);
    let none = RwSignal::new(None);
    let error = RwSignal::new(None::<AppError>);
    let (key, status) = (RequestKey::new(), use_status());
    // Set: an empty form with a new key, so the next goal is a new one.
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(f)) = (action.value().get(), form.get_untracked()) {
            f.reset();
            key.renew();
            status.say("Goal set");
        }
    });
    let toggle = move |goal: Goal| {
        spawn_local(async move {
            error.set(
                api::complete_goal(goal.id, goal.completed_at.is_none())
                    .await
                    .err(),
            );
        })
    };
    view! {
        <section class="card" aria-labelledby="goals-heading">
            <h2 id="goals-heading" class="card-title">"Goals"</h2>
            <ActionForm action=action node_ref=form attr:class="space-y-2" attr:novalidate="true" attr:data-testid="goal-form">
                {key.input()}
                <label class="block text-sm font-medium" for="goal-title">"New goal"</label>
                <input class="input" id="goal-title" name="title" maxlength="120" />
                <p class="text-sm text-red-700 dark:text-red-400" role="alert">{field_error(server_error, none, "title")}</p>
                <label class="block text-sm font-medium" for="goal-target">"Target date (optional)"</label>
                <input class="input" type="date" id="goal-target" name="target_day" />
                <p class="text-sm text-red-700 dark:text-red-400" role="alert">{field_error(server_error, none, "target_day")}</p>
                <button type="submit" class="button-primary" disabled=move || action.pending().get()>"Set goal"</button>
            </ActionForm>
            <FormAlert error=error />
            <ul class="mt-3 divide-y divide-slate-200 dark:divide-slate-800" data-testid="goals">
                // Keyed by id, each row reading its goal's current value: a live change re-renders the
                // row's text, never the row, so an open edit form stays open and hears its answer.
                <For
                    each=move || goals.get()
                    key=|g| g.id
                    children=move |g: Goal| {
                        let id = g.id;
                        // A memo: the row re-renders when its goal changes, not on every live event (one
                        // for another row, or an activity, would redraw a checkbox just clicked).
                        let current = Memo::new(move |_| goals.with(|gs| gs.iter().find(|x| x.id == id).cloned()));
                        view! { <GoalRow id current=current.into() toggle error /> }
                    }
                />
            </ul>
        </section>
    }
}

#[component]
fn GoalRow(
    id: i64,
    current: Signal<Option<Goal>>,
    toggle: impl Fn(Goal) + Copy + Send + Sync + 'static,
    error: RwSignal<Option<AppError>>,
) -> impl IntoView {
    let editing = RwSignal::new(false);
    let status = use_status();
    view! {
        <li class="py-2" data-testid="goal-row">
            <Show when=move || editing.get() fallback=move || move || current.get().map(|g| {
                let done = g.completed_at.is_some();
                let toggled = g.clone();
                view! {
                    <div class="flex items-center gap-2">
                        <input type="checkbox" id=format!("goal-{id}") prop:checked=done on:change=move |_| toggle(toggled.clone()) />
                        <label for=format!("goal-{id}") class=if done { "flex-1 text-slate-500 line-through" } else { "flex-1" }>
                            {g.title.clone()}
                            {g.target_day.clone().map(|d| view! { <span class="ml-1 text-xs text-slate-500 dark:text-slate-400">"by " <LocalDay day=d /></span> })}
                        </label>
                        <EditDelete kind="goal" name=g.title.clone() editing size="text-sm"
                            message="It leaves your goals and your figures. This cannot be undone."
                            on_delete=Callback::new(move |_| remove(LearningItem::Goal(id), error, status, "Goal deleted")) />
                    </div>
                }
            })>
                {move || current.get_untracked().map(|g| view! { <GoalEdit g editing /> })}
            </Show>
        </li>
    }
}

#[component]
fn GoalEdit(g: Goal, editing: RwSignal<bool>) -> impl IntoView {
    let action = ServerAction::<api::EditGoal>::new();
    let server_error = move || action.value().get().and_then(Result::err);
    let form = NodeRef::<html::Form>::new();
    focus_first_error(form, server_error);
    let none = RwSignal::new(None);
    let status = use_status();
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            status.say("Goal saved");
            editing.set(false);
        }
    });
    let gid = g.id;
    view! {
        <ActionForm action=action node_ref=form attr:class="space-y-2" attr:novalidate="true">
            <input type="hidden" name="id" value=gid />
            <label class="block text-sm font-medium" for=format!("goal-{gid}-title")>"Goal"</label>
            <input class="input" id=format!("goal-{gid}-title") name="title" value=g.title maxlength="120" />
            <p class="text-sm text-red-700 dark:text-red-400" role="alert">{field_error(server_error, none, "title")}</p>
            <label class="block text-sm font-medium" for=format!("goal-{gid}-target")>"Target date"</label>
            <input class="input" type="date" id=format!("goal-{gid}-target") name="target_day" value=g.target_day.unwrap_or_default() />
            <p class="text-sm text-red-700 dark:text-red-400" role="alert">{field_error(server_error, none, "target_day")}</p>
            <FormAlert error=Signal::derive(server_error) />
            <div class="flex gap-2">
                <button type="submit" class="button-primary" disabled=move || action.pending().get()>"Save"</button>
                <button type="button" class="button-secondary" on:click=move |_| editing.set(false)>"Cancel"</button>
            </div>
        </ActionForm>
    }
}

#[component]
fn Skills(skills: Signal<Vec<Skill>>) -> impl IntoView {
    let action = ServerAction::<api::AddSkill>::new();
    let form = NodeRef::<html::Form>::new();
    let server_error = move || action.value().get().and_then(Result::err);
    focus_first_error(form, server_error);
    let none = RwSignal::new(None);
    let error = RwSignal::new(None::<AppError>);
    let name_error = field_error(server_error, none, "name");
    let (key, status) = (RequestKey::new(), use_status());
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(f)) = (action.value().get(), form.get_untracked()) {
            f.reset();
            key.renew();
            status.say("Skill added");
        }
    });
    view! {
        <section class="card" aria-labelledby="skills-heading">
            <h2 id="skills-heading" class="card-title">"Skills"</h2>
            <ActionForm action=action node_ref=form attr:class="flex gap-2" attr:novalidate="true" attr:data-testid="skill-form">
                {key.input()}
                <label class="sr-only" for="skill-name">"Skill"</label>
                <input class="input" id="skill-name" name="name" placeholder="e.g. SQL" maxlength="60"
                    aria-invalid=move || name_error.get().is_some().then_some("true") />
                <button type="submit" class="button-primary" disabled=move || action.pending().get()>"Add"</button>
            </ActionForm>
            <p class="text-sm text-red-700 dark:text-red-400" role="alert">{name_error}</p>
            <FormAlert error=error />
            <ul class="mt-3 flex flex-wrap gap-2" data-testid="skills">
                <For each=move || skills.get() key=|s| s.id children=move |s: Skill| {
                    let id = s.id;
                    view! {
                        <li class="badge flex items-center gap-1">
                            {s.name.clone()}
                            <button type="button" aria-label=format!("Remove skill {}", s.name)
                                on:click=move |_| remove(LearningItem::Skill(id), error, status, "Skill removed")>"×"</button>
                        </li>
                    }
                } />
            </ul>
        </section>
    }
}
