//! The student's learning log: log, edit and delete sessions; set, complete and delete goals; add and
//! remove skills. Live from `user:{me}`, so another tab or device shows the same log.

use crate::api::learning::{self as api, LearningItem};
use crate::components::form::{field_error, FormAlert};
use crate::components::time::LocalDay;
use crate::realtime::live::use_live_snapshot;
use crate::session::use_current_user;
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use studyhall::learning::{
    format_minutes, Goal, LearningChange, LearningChanged, LearningSession, LearningSnapshot,
};
use studyhall::model::Role;
use studyhall::protocol::Topic;
use studyhall::server_events::LEARNING_CHANGED;
use studyhall::AppError;

fn apply(snap: &mut LearningSnapshot, event: &str, data: &serde_json::Value) {
    if event != LEARNING_CHANGED {
        return;
    }
    let Ok(c) = serde_json::from_value::<LearningChanged>(data.clone()) else {
        return;
    };
    match c.change {
        LearningChange::SessionSaved { session } => {
            snap.sessions.retain(|s| s.id != session.id);
            snap.sessions.push(session);
            snap.sessions
                .sort_by(|a, b| b.day.cmp(&a.day).then(b.id.cmp(&a.id)));
        }
        LearningChange::SessionDeleted { id } => snap.sessions.retain(|s| s.id != id),
        LearningChange::GoalSaved { goal } => match snap.goals.iter_mut().find(|g| g.id == goal.id)
        {
            Some(g) => *g = goal,
            None => snap.goals.insert(0, goal),
        },
        LearningChange::GoalDeleted { id } => snap.goals.retain(|g| g.id != id),
        LearningChange::SkillAdded { skill } => {
            if !snap.skills.iter().any(|s| s.id == skill.id) {
                snap.skills.push(skill);
                snap.skills.sort_by_key(|s| s.name.to_lowercase());
            }
        }
        LearningChange::SkillDeleted { id } => snap.skills.retain(|s| s.id != id),
    }
    snap.analytics = c.analytics;
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
    let snap = use_live_snapshot(
        Topic::User(user.id),
        || async { api::load_learning().await.map(|s| (s.clone(), s.position)) },
        apply,
    );
    view! {
        <Title text="Learning" />
        <h1 class="text-2xl font-bold">"Learning log"</h1>
        <Transition fallback=|| view! { <p class="mt-4">"Loading…"</p> }>
            // Reads borrow the snapshot for what each part shows; only lists handed to child views are cloned.
            {move || snap.with(|r| r.map(|r| r.map(|s| s.analytics.today.clone()).map_err(Clone::clone))).map(|r| match r {
                Err(e) => view! { <p role="alert" class="mt-4">{e.to_string()}</p> }.into_any(),
                Ok(today) => {
                    view! {
                        <p class="mt-1 text-slate-600 dark:text-slate-400" data-testid="learning-summary">
                            {move || snap.with(|s| s.and_then(Result::ok).map(|s| format!(
                                "{} in {} sessions · current streak {} days",
                                format_minutes(s.analytics.total_minutes), s.analytics.sessions, s.analytics.current_streak
                            )))}
                        </p>
                        <div class="mt-6 grid gap-6 lg:grid-cols-3">
                            <div class="space-y-6 lg:col-span-2">
                                <section class="card" aria-labelledby="log-heading">
                                    <h2 id="log-heading" class="card-title">"Log a session"</h2>
                                    <SessionForm today=today.clone() editing=None />
                                </section>
                                <section class="card" aria-labelledby="sessions-heading">
                                    <h2 id="sessions-heading" class="card-title">"Sessions"</h2>
                                    <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="sessions">
                                        <Show when=move || snap.map_or_default(|s| s.sessions.is_empty())>
                                            <li class="py-2 text-slate-600 dark:text-slate-400">"No sessions yet."</li>
                                        </Show>
                                        // Keyed, so a live change re-renders only the rows it touched (an open
                                        // edit form elsewhere in the list stays open).
                                        <For
                                            each=move || snap.map_or_default(|s| s.sessions.clone())
                                            key=|s| (s.id, s.updated_at)
                                            let:s
                                        >
                                            <SessionRow s today=today.clone() />
                                        </For>
                                    </ul>
                                </section>
                            </div>
                            <div class="space-y-6">
                                <Goals goals=Signal::derive(move || snap.map_or_default(|s| s.goals.clone())) />
                                <Skills skills=Signal::derive(move || snap.map_or_default(|s| s.skills.clone())) />
                            </div>
                        </div>
                    }.into_any()
                }
            })}
        </Transition>
    }
    .into_any()
}

/// Logs a new session, or edits one.
#[component]
fn SessionForm(
    today: String,
    editing: Option<LearningSession>,
    #[prop(optional)] done: Option<Callback<()>>,
) -> impl IntoView {
    let action = ServerAction::<api::SaveSession>::new();
    let form = NodeRef::<html::Form>::new();
    let server_error = move || action.value().get().and_then(Result::err);
    let none = RwSignal::new(None);
    let is_new = editing.is_none();
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            if let (true, Some(f)) = (is_new, form.get()) {
                f.reset();
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
    view! {
        <ActionForm action=action node_ref=form attr:class="grid gap-3 sm:grid-cols-6" attr:novalidate="true" attr:data-testid=if is_new { "log-form" } else { "edit-form" }>
            {e.as_ref().map(|s| view! { <input type="hidden" name="id" value=s.id /> })}
            <div class="sm:col-span-2">
                <label class="block text-sm font-medium" for=id("day")>"Date"</label>
                <input class="input" type="date" id=id("day") name="day" value=day max=today.clone() required />
                <p class="text-sm text-red-700 dark:text-red-400" role="alert">{err("day")}</p>
            </div>
            <div class="sm:col-span-2">
                <span class="block text-sm font-medium" id=id("duration")>"Duration"</span>
                <div class="flex gap-2" role="group" aria-labelledby=id("duration")>
                    <label class="sr-only" for=id("hours")>"Hours"</label>
                    <input class="input" type="number" min="0" max="24" id=id("hours") name="hours" value=hours />
                    <span class="self-center text-sm">"h"</span>
                    <label class="sr-only" for=id("minutes")>"Minutes"</label>
                    <input class="input" type="number" min="0" max="59" id=id("minutes") name="minutes" value=minutes />
                    <span class="self-center text-sm">"min"</span>
                </div>
                <p class="text-sm text-red-700 dark:text-red-400" role="alert">{err("minutes")}</p>
            </div>
            <div class="sm:col-span-2">
                <label class="block text-sm font-medium" for=id("topic")>"Topic or skill"</label>
                <input class="input" id=id("topic") name="topic" value=topic maxlength="80" required />
                <p class="text-sm text-red-700 dark:text-red-400" role="alert">{err("topic")}</p>
            </div>
            <div class="sm:col-span-6">
                <label class="block text-sm font-medium" for=id("note")>"Note (optional)"</label>
                <input class="input" id=id("note") name="note" value=note maxlength="1000" />
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

fn remove(item: LearningItem, error: RwSignal<Option<AppError>>) {
    spawn_local(async move {
        error.set(api::delete_learning_item(item).await.err());
    });
}

#[component]
fn SessionRow(s: LearningSession, today: String) -> impl IntoView {
    let editing = RwSignal::new(false);
    let confirm = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let id = s.id;
    let shown = s.clone();
    view! {
        <li class="py-3" data-testid="session-row">
            <Show when=move || editing.get() fallback=move || {
                let s = shown.clone();
                view! {
                    <div class="flex flex-wrap items-baseline gap-x-3 gap-y-1">
                        <span class="font-medium">{s.topic.clone()}</span>
                        <span class="text-sm" data-testid="session-duration">{format_minutes(s.minutes)}</span>
                        <span class="text-sm text-slate-500 dark:text-slate-400"><LocalDay day=s.day.clone() /></span>
                        <span class="ml-auto flex gap-3 text-sm">
                            <button type="button" class="link" on:click=move |_| editing.set(true)>"Edit"</button>
                            <Show when=move || confirm.get() fallback=move || view! {
                                <button type="button" class="link text-red-700 dark:text-red-400" on:click=move |_| confirm.set(true)>"Delete"</button>
                            }>
                                <button type="button" class="link text-red-700 dark:text-red-400"
                                    on:click=move |_| remove(LearningItem::Session(id), error)>"Confirm delete"</button>
                                <button type="button" class="link" on:click=move |_| confirm.set(false)>"Keep"</button>
                            </Show>
                        </span>
                    </div>
                    {s.note.clone().map(|n| view! { <p class="text-sm text-slate-600 dark:text-slate-300">{n}</p> })}
                }
            }>
                <SessionForm today=today.clone() editing=Some(s.clone()) done=Callback::new(move |_| editing.set(false)) />
            </Show>
            <FormAlert error=error />
        </li>
    }
}

#[component]
fn Goals(goals: Signal<Vec<Goal>>) -> impl IntoView {
    let action = ServerAction::<api::SetGoal>::new();
    let form = NodeRef::<html::Form>::new();
    let server_error = move || action.value().get().and_then(Result::err);
    let none = RwSignal::new(None);
    let error = RwSignal::new(None::<AppError>);
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(f)) = (action.value().get(), form.get()) {
            f.reset();
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
                <For
                    each=move || goals.get()
                    key=|g| (g.id, g.title.clone(), g.target_day.clone(), g.completed_at)
                    let:g
                >
                    <GoalRow g toggle error />
                </For>
            </ul>
        </section>
    }
}

#[component]
fn GoalRow(
    g: Goal,
    toggle: impl Fn(Goal) + Copy + Send + Sync + 'static,
    error: RwSignal<Option<AppError>>,
) -> impl IntoView {
    let editing = RwSignal::new(false);
    let done = g.completed_at.is_some();
    let gid = g.id;
    let shown = g.clone();
    view! {
        <li class="py-2" data-testid="goal-row">
            <Show when=move || editing.get() fallback=move || {
                let g = shown.clone();
                let toggled = g.clone();
                view! {
                    <div class="flex items-center gap-2">
                        <input type="checkbox" id=format!("goal-{gid}") prop:checked=done on:change=move |_| toggle(toggled.clone()) />
                        <label for=format!("goal-{gid}") class=if done { "flex-1 text-slate-500 line-through" } else { "flex-1" }>
                            {g.title.clone()}
                            {g.target_day.clone().map(|d| view! { <span class="ml-1 text-xs text-slate-500 dark:text-slate-400">"by " <LocalDay day=d /></span> })}
                        </label>
                        <button type="button" class="link text-sm" aria-label=format!("Edit goal {}", g.title)
                            on:click=move |_| editing.set(true)>"Edit"</button>
                        <button type="button" class="link text-sm text-red-700 dark:text-red-400" aria-label=format!("Delete goal {}", g.title)
                            on:click=move |_| remove(LearningItem::Goal(gid), error)>"Delete"</button>
                    </div>
                }
            }>
                <GoalEdit g=g.clone() editing />
            </Show>
        </li>
    }
}

#[component]
fn GoalEdit(g: Goal, editing: RwSignal<bool>) -> impl IntoView {
    let action = ServerAction::<api::EditGoal>::new();
    let server_error = move || action.value().get().and_then(Result::err);
    let none = RwSignal::new(None);
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            editing.set(false);
        }
    });
    let gid = g.id;
    view! {
        <ActionForm action=action attr:class="space-y-2" attr:novalidate="true">
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
fn Skills(skills: Signal<Vec<studyhall::learning::Skill>>) -> impl IntoView {
    let action = ServerAction::<api::AddSkill>::new();
    let form = NodeRef::<html::Form>::new();
    let server_error = move || action.value().get().and_then(Result::err);
    let none = RwSignal::new(None);
    let error = RwSignal::new(None::<AppError>);
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(f)) = (action.value().get(), form.get()) {
            f.reset();
        }
    });
    view! {
        <section class="card" aria-labelledby="skills-heading">
            <h2 id="skills-heading" class="card-title">"Skills"</h2>
            <ActionForm action=action node_ref=form attr:class="flex gap-2" attr:novalidate="true" attr:data-testid="skill-form">
                <label class="sr-only" for="skill-name">"Skill"</label>
                <input class="input" id="skill-name" name="name" placeholder="e.g. SQL" maxlength="60" />
                <button type="submit" class="button-primary" disabled=move || action.pending().get()>"Add"</button>
            </ActionForm>
            <p class="text-sm text-red-700 dark:text-red-400" role="alert">{field_error(server_error, none, "name")}</p>
            <FormAlert error=error />
            <ul class="mt-3 flex flex-wrap gap-2" data-testid="skills">
                {move || skills.get().into_iter().map(|s| {
                    let sid = s.id;
                    view! {
                        <li class="badge flex items-center gap-1">
                            {s.name.clone()}
                            <button type="button" aria-label=format!("Remove skill {}", s.name) on:click=move |_| remove(LearningItem::Skill(sid), error)>"×"</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}
