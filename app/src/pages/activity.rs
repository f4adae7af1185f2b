//! The activity feed: newest first, grouped ("Ana logged 3 sessions"), filtered by kind, student and
//! read state, paged by cursor, and live — arrivals join the top, or wait behind an "N new" pill when
//! the reader has scrolled away.

use crate::api;
use crate::api::learning::FeedView;
use crate::browser;
use crate::components::form::FormAlert;
use crate::components::time::LocalTime;
use crate::session::use_current_user;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use studyhall::feed::{self, kinds, Activity, FeedFilter};
use studyhall::model::{Role, UserId};
use studyhall::AppError;

#[derive(Debug, Clone, PartialEq, Default)]
struct Filters {
    kind: String,
    student: Option<UserId>,
    unread: bool,
}

impl Filters {
    fn to_filter(&self, before: Option<i64>) -> FeedFilter {
        FeedFilter {
            kind: (!self.kind.is_empty()).then(|| self.kind.clone()),
            user_id: self.student,
            unread: self.unread,
            before,
            limit: Some(30),
        }
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn admits(&self, a: &Activity) -> bool {
        (self.kind.is_empty() || a.kind == self.kind) && self.student.is_none_or(|s| a.user_id == s)
    }
}

#[component]
pub fn ActivityPage() -> impl IntoView {
    let user = use_current_user();
    let me = user.id;
    let query = use_query_map();
    let initial = Filters {
        student: query
            .get_untracked()
            .get("student")
            .and_then(|s| s.parse().ok()),
        ..Default::default()
    };
    let filters = RwSignal::new(initial);
    let first = api::request_resource(
        "activity first page",
        move || filters.get(),
        |f| api::learning::load_feed(f.to_filter(None)),
    );
    // What is shown: the first page (then live arrivals), plus pages loaded with "Load more".
    let items = RwSignal::new(None::<Vec<Activity>>);
    let next = RwSignal::new(None::<i64>);
    let unread = RwSignal::new(0i64);
    let pending = RwSignal::new(Vec::<Activity>::new());
    let error = RwSignal::new(None::<AppError>);
    let students = api::request_resource("activity students", || (), |_| api::load_overview());
    #[cfg(feature = "hydrate")]
    follow(first, filters, items, pending, unread, me);
    let shown = move || {
        items
            .get()
            .or_else(|| first.get().and_then(Result::ok).map(|v| v.page.items))
            .unwrap_or_default()
    };
    Effect::new(move |_| {
        if let Some(Ok(v)) = first.get() {
            items.set(Some(v.page.items.clone()));
            next.set(v.page.next);
            unread.set(v.page.unread);
            pending.set(Vec::new());
        }
    });
    let load_more = move |_| {
        let Some(before) = next.get_untracked() else {
            return;
        };
        let f = filters.get_untracked().to_filter(Some(before));
        spawn_local(async move {
            match api::learning::load_feed(f).await {
                Ok(FeedView { page, .. }) => {
                    items.update(|i| i.get_or_insert_with(Vec::new).extend(page.items));
                    next.set(page.next);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let mark = move |ids: Vec<i64>, all: bool, read: bool| {
        spawn_local(async move {
            match api::learning::mark_activities(ids.clone(), all, read).await {
                Ok(n) => {
                    unread.set(n);
                    items.update(|list| {
                        for a in list.iter_mut().flatten() {
                            if all || ids.contains(&a.id) {
                                a.read = read || a.user_id == me;
                            }
                        }
                    });
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let show_pending = move |_| {
        let mut new = pending.get_untracked();
        pending.set(Vec::new());
        items.update(|list| {
            let list = list.get_or_insert_with(Vec::new);
            new.retain(|a| !list.iter().any(|x| x.id == a.id));
            new.append(list);
            *list = new;
        });
        browser::scroll_to_top();
    };
    view! {
        <Title text="Activity" />
        <div class="flex flex-wrap items-baseline justify-between gap-2">
            <h1 class="text-2xl font-bold">"Activity"</h1>
            <p class="text-sm" data-testid="feed-unread">{move || format!("{} unread", unread.get())}</p>
        </div>
        <form class="mt-4 flex flex-wrap items-end gap-3" on:submit=|ev| ev.prevent_default()>
            <div>
                <label class="block text-sm font-medium" for="feed-kind">"Kind"</label>
                <select id="feed-kind" class="input" on:change=move |ev| filters.update(|f| f.kind = event_target_value(&ev))>
                    <option value="">"Everything"</option>
                    {kinds::ALL.into_iter().map(|k| view! { <option value=k>{feed::kind_label(k)}</option> }).collect_view()}
                </select>
            </div>
            {(user.role != Role::Student).then(|| view! {
                <div>
                    <label class="block text-sm font-medium" for="feed-student">"Student"</label>
                    <select id="feed-student" class="input" on:change=move |ev| filters.update(|f| f.student = event_target_value(&ev).parse().ok())>
                        <option value="">"All"</option>
                        <Transition fallback=|| ()>
                            {move || students.get().and_then(Result::ok).map(|o| o.students.into_iter().map(|p| {
                                let selected = filters.get_untracked().student == Some(p.id);
                                view! { <option value=p.id selected=selected>{p.display_name}</option> }
                            }).collect_view())}
                        </Transition>
                    </select>
                </div>
            })}
            <label class="flex items-center gap-2 text-sm">
                <input type="checkbox" on:change=move |ev| filters.update(|f| f.unread = event_target_checked(&ev)) />
                "Unread only"
            </label>
            <button type="button" class="button-secondary" data-testid="feed-read-all" on:click=move |_| mark(vec![], true, true)>"Mark all read"</button>
        </form>
        <FormAlert error=error />
        <div class="sticky top-2 z-10 flex justify-center">
            <button type="button" class="button-primary rounded-full shadow-lg" data-testid="new-pill"
                hidden=move || pending.get().is_empty() on:click=show_pending>
                {move || match pending.get().len() { 1 => "1 new activity ↑".to_string(), n => format!("{n} new activities ↑") }}
            </button>
        </div>
        <Transition fallback=|| view! { <p class="mt-4">"Loading…"</p> }>
            {move || first.get().map(|r| match r {
                Err(e) => view! { <p role="alert" class="mt-4">{e.to_string()}</p> }.into_any(),
                Ok(_) => view! {
                    <ol class="mt-4 space-y-2" data-testid="feed" aria-live="polite">
                        {move || {
                            let list = shown();
                            if list.is_empty() {
                                return view! { <li class="card text-slate-600 dark:text-slate-400">"Nothing here yet."</li> }.into_any();
                            }
                            feed::group(&list).into_iter().map(|g| {
                                let first = g.first().clone();
                                let ids: Vec<i64> = g.items.iter().map(|a| a.id).collect();
                                let any_unread = g.items.iter().any(|a| !a.read);
                                let details: Vec<Activity> = g.items.iter().map(|a| (*a).clone()).collect();
                                let many = details.len() > 1;
                                view! {
                                    <li class=if any_unread { "card border-l-4 border-l-indigo-500 p-3" } else { "card p-3" }
                                        data-testid="feed-item" data-unread=any_unread.to_string() data-kind=first.kind.clone()>
                                        <div class="flex items-baseline gap-3">
                                            <p class="flex-1 text-sm font-medium">{g.summary()}</p>
                                            <span class="text-xs text-slate-500 dark:text-slate-400"><LocalTime at=first.created_at /></span>
                                            <button type="button" class="link text-xs" on:click={
                                                let ids = ids.clone();
                                                move |_| mark(ids.clone(), false, any_unread)
                                            }>{if any_unread { "Mark read" } else { "Mark unread" }}</button>
                                        </div>
                                        {(!many).then(|| first.details.clone().map(|d| view! { <p class="text-sm text-slate-600 dark:text-slate-300">{d}</p> }))}
                                        {many.then(|| view! {
                                            <details class="mt-1 text-sm">
                                                <summary class="cursor-pointer text-slate-600 dark:text-slate-300">"Show each"</summary>
                                                <ul class="ml-4 list-disc">
                                                    {details.into_iter().map(|a| view! { <li>{a.title} " · " <LocalTime at=a.created_at /></li> }).collect_view()}
                                                </ul>
                                            </details>
                                        })}
                                    </li>
                                }
                            }).collect_view().into_any()
                        }}
                    </ol>
                    <div class="mt-4 text-center">
                        <button type="button" class="button-secondary" hidden=move || next.get().is_none() on:click=load_more>"Load more"</button>
                    </div>
                }.into_any(),
            })}
        </Transition>
    }
}

/// Browser only: follow the viewer's feed streams from the first page's positions.
#[cfg(feature = "hydrate")]
fn follow(
    first: Resource<Result<FeedView, AppError>>,
    filters: RwSignal<Filters>,
    items: RwSignal<Option<Vec<Activity>>>,
    pending: RwSignal<Vec<Activity>>,
    unread: RwSignal<i64>,
    me: UserId,
) {
    use crate::realtime::{use_realtime, Delivery, Subscription};
    use studyhall::events::DurableEvent;
    let realtime = use_realtime();
    let subs = StoredValue::new_local(Vec::<Subscription>::new());
    Effect::new(move |_| {
        let Some(Ok(view)) = first.get() else {
            return;
        };
        let mut kept = Vec::new();
        for (topic, position) in view.streams {
            kept.push(realtime.subscribe(topic, Some(position), move |d| {
                let Delivery::Event { event, .. } = d else {
                    if let Delivery::Reset { .. } = d {
                        first.refetch();
                    }
                    return;
                };
                // The feed's streams also carry the student's learning changes: only activity counts.
                let Some(DurableEvent::ActivityCreated(a)) = event.as_deref() else {
                    return;
                };
                let a = Activity {
                    read: a.user_id == me,
                    ..a.clone()
                };
                if !a.read {
                    unread.update(|n| *n += 1);
                }
                if !filters.get_untracked().admits(&a) {
                    return;
                }
                let known = items.with_untracked(|l| l.iter().flatten().any(|x| x.id == a.id))
                    || pending.with_untracked(|p| p.iter().any(|x| x.id == a.id));
                if known {
                    return;
                }
                if browser::scroll_y() < 120.0 {
                    items.update(|l| l.get_or_insert_with(Vec::new).insert(0, a));
                } else {
                    pending.update(|p| p.insert(0, a));
                }
            }));
        }
        subs.set_value(kept);
    });
    on_cleanup(move || subs.set_value(Vec::new()));
}
