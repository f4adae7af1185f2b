//! The signed-in home. Students see their figures, weekly chart and recent activity; mentors a live,
//! sortable table of their students; admins live system figures. Everyone sees announcements, their
//! cohort and the people they work with. Rendered complete on the server, then live.

use super::announcements::AnnouncementsPanel;
use crate::api;
use crate::api::learning::StudentDashboard;
use crate::components::chart::BarChart;
use crate::components::time::LocalTime;
use crate::realtime::live::{use_live_snapshot, use_live_snapshot_with};
use crate::session::use_current_user;
use leptos::prelude::*;
use leptos_meta::Title;
use studyhall::events::{DurableEvent, Follow};
use studyhall::learning::{format_count, format_minutes, StudentRow, SystemFigures};
use studyhall::model::{PersonRef, Role, UserId};
use studyhall::protocol::{KpiModule, Topic};

#[component]
pub fn DashboardPage() -> impl IntoView {
    let user = use_current_user();
    let overview = api::request_resource("dashboard overview", || (), |_| api::load_overview());
    view! {
        <Title text="Dashboard" />
        <h1 class="text-2xl font-bold">"Welcome, " {user.display_name.clone()}</h1>
        <p class="mt-1 text-slate-600 dark:text-slate-400">{user.role.label()} " · " {user.time_zone.clone()}</p>
        <div class="mt-6 space-y-6">
            {match user.role {
                Role::Student => view! { <StudentPanel me=user.id /> }.into_any(),
                Role::Mentor => view! { <MentorTable /> }.into_any(),
                Role::Admin => view! { <AdminFigures /> }.into_any(),
            }}
            <AnnouncementsPanel role=user.role />
        </div>
        <Suspense fallback=|| view! { <p class="mt-6">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Err(e) => view! { <p role="alert" class="mt-6">{e.to_string()}</p> }.into_any(),
                    Ok(o) => {
                        let role = o.user.role;
                        view! {
                            <div class="mt-6 grid gap-4 md:grid-cols-2">
                                <section class="card" aria-labelledby="cohort-heading">
                                    <h2 id="cohort-heading" class="card-title">"Cohort"</h2>
                                    <p data-testid="cohort">{o.cohort_name.unwrap_or_else(|| "Not in a cohort yet".into())}</p>
                                </section>
                                {(role == Role::Student).then(|| view! {
                                    <People title="Your mentors" empty="No mentor assigned yet." people=o.mentors.clone() />
                                })}
                                {(role == Role::Mentor).then(|| view! {
                                    <People title="Your students" empty="No students assigned yet." people=o.students.clone() />
                                })}
                                {(role == Role::Admin).then(|| view! {
                                    <section class="card" aria-labelledby="totals-heading">
                                        <h2 id="totals-heading" class="card-title">"Active users"</h2>
                                        <dl class="grid grid-cols-3 gap-2 text-center">
                                            {o.role_counts.iter().map(|(r, n)| view! {
                                                <div>
                                                    <dt class="text-xs text-slate-500 dark:text-slate-400">{r.label()}</dt>
                                                    <dd class="text-2xl font-semibold">{*n}</dd>
                                                </div>
                                            }).collect_view()}
                                        </dl>
                                        <a href="/admin/users" class="link mt-3 inline-block">"Manage users"</a>
                                    </section>
                                })}
                            </div>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Tile(
    label: &'static str,
    testid: &'static str,
    #[prop(into)] value: Signal<String>,
    #[prop(optional, into)] hint: Option<Signal<String>>,
) -> impl IntoView {
    view! {
        <div class="card p-4">
            <dt class="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">{label}</dt>
            <dd class="mt-1 text-2xl font-semibold" data-testid=testid>{value}</dd>
            {hint.map(|h| view! { <dd class="text-xs text-slate-500 dark:text-slate-400">{h}</dd> })}
        </div>
    }
}

/// The student's figures follow `user:{me}`: each learning change carries the new figures, each
/// activity joins the newest six.
impl Follow for StudentDashboard {
    fn apply(&mut self, event: &DurableEvent) {
        use DurableEvent::*;
        match event {
            LearningChanged(c) => self.analytics = c.analytics.clone(),
            ActivityCreated(a) => {
                if !self.recent.iter().any(|x| x.id == a.id) {
                    self.recent.insert(0, a.clone());
                    self.recent.truncate(6);
                }
            }
            FiguresUpdated(_) => {}
            AnnouncementCreated(_) | AnnouncementUpdated(_) | AnnouncementDeleted(_) => {}
            NotificationCreated(_)
            | NotificationsMarked(_)
            | NotificationsDeleted(_)
            | NotificationsCleared(_)
            | NotificationsExpired(_)
            | PreferencesChanged(_) => {}
            ChatMessagePosted(_)
            | ChatMessageEdited(_)
            | ChatMessageDeleted(_)
            | ChatReactionsChanged(_)
            | ChatRead(_)
            | ChatRoomJoined(_)
            | ChatRoomLeft(_)
            | ChatRoomChanged(_) => {}
        }
    }
}

/// "You are #4 in Cohort A this week, 35 points behind #3": the student's standing on their cohort's
/// weekly board (the school's when they have no cohort), read again whenever their own learning changes.
#[component]
fn LeaderboardTile(learned: Signal<i64>) -> impl IntoView {
    use studyhall::leaderboard::Which;
    // Loaded once with the page (the same on the server and while hydrating), then again in the
    // browser whenever the student's own learning changes.
    let standing = api::request_resource(
        "dashboard leaderboard",
        || (),
        |_| async move {
            let choices = api::leaderboard::leaderboard_choices().await?;
            let Some(scope) = choices.scopes.get(1).or(choices.scopes.first()) else {
                return Ok(None);
            };
            let board = api::leaderboard::leaderboard_board(
                scope.scope.to_string(),
                "week".into(),
                Which::Current,
                0,
                1,
            )
            .await?;
            Ok(Some(board))
        },
    );
    Effect::new(move |seen: Option<i64>| {
        let now = learned.get();
        if seen.is_some_and(|s| s != now) {
            standing.refetch();
        }
        now
    });
    view! {
        <Transition fallback=|| ()>
            {move || standing.get().and_then(Result::ok).flatten().map(|b| {
                let text = match &b.me {
                    None => format!("Log time to join {}'s board this week.", b.scope_name),
                    Some(me) if me.rank == 1 => format!("You lead {} this week with {} points.", b.scope_name, me.points),
                    Some(me) => {
                        let above = b.around_me.iter().filter(|r| r.rank < me.rank).map(|r| r.points).min();
                        match above {
                            Some(p) => format!("You are #{} in {} this week, {} points behind #{}.", me.rank, b.scope_name, p - me.points, b.around_me.iter().filter(|r| r.points == p).map(|r| r.rank).next().unwrap_or(me.rank - 1)),
                            None => format!("You are #{} in {} this week.", me.rank, b.scope_name),
                        }
                    }
                };
                view! {
                    <a href="/leaderboard" class="card flex items-center gap-3 p-4 hover:ring-2 hover:ring-indigo-300" data-testid="leaderboard-tile">
                        <svg class="h-6 w-6 shrink-0 text-amber-500" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true">
                            <path d="M8 21h8M12 17v4M7 4h10v5a5 5 0 0 1-10 0V4zM7 6H4a3 3 0 0 0 3 4M17 6h3a3 3 0 0 1-3 4" />
                        </svg>
                        <span class="flex-1 text-sm font-medium">{text}</span>
                        <span class="link text-sm">"Leaderboard"</span>
                    </a>
                }
            })}
        </Transition>
    }
}

/// The student's figures, chart and recent activity, live from `user:{me}`.
#[component]
fn StudentPanel(me: UserId) -> impl IntoView {
    let inbox = crate::components::bell::use_inbox();
    let data = use_live_snapshot_with(
        Topic::User(me),
        || async {
            api::learning::load_student_dashboard()
                .await
                .map(|d| (d.clone(), d.position))
        },
        move |_: &StudentDashboard, event| {
            crate::components::celebrate::on_learning_event(inbox, event)
        },
    );
    let learned = Signal::derive(move || data.map_or_default(|d| d.analytics.total_minutes));
    view! {
        <LeaderboardTile learned />
        <Transition fallback=|| view! { <p>"Loading your figures…"</p> }>
            {move || data.status().map(|loaded| match loaded {
                Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                Ok(()) => {
                    // Each figure borrows the snapshot for just what it shows (no clone of the whole).
                    let figure = move |f: fn(&studyhall::learning::Analytics) -> String| {
                        data.map_or_default(|d| f(&d.analytics))
                    };
                    let field = move |f: fn(&studyhall::learning::Analytics) -> String| Signal::derive(move || figure(f));
                    view! {
                        <section aria-labelledby="figures-heading" class="space-y-4">
                            <div class="flex flex-wrap items-baseline justify-between gap-2">
                                <h2 id="figures-heading" class="text-lg font-semibold">"Your learning"</h2>
                                <p class="text-xs text-slate-500 dark:text-slate-400" data-testid="updated-at">
                                    "Updated " {move || { let at = data.map_or_default(|d| d.analytics.computed_at); view! { <LocalTime at /> } }}
                                </p>
                            </div>
                            <dl class="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6">
                                <Tile label="Hours" testid="kpi-hours" value=field(|a| format!("{:.1}", a.total_hours())) />
                                <Tile label="Current streak" testid="kpi-streak" value=field(|a| days(a.current_streak)) />
                                <Tile label="Longest streak" testid="kpi-longest" value=field(|a| days(a.longest_streak)) />
                                <Tile label="Sessions" testid="kpi-sessions" value=field(|a| a.sessions.to_string()) />
                                <Tile label="Goals done" testid="kpi-goals" value=field(|a| format!("{} / {}", a.goals_completed, a.goals_set)) />
                                <Tile label="Skills" testid="kpi-skills" value=field(|a| a.skills.to_string()) />
                            </dl>
                            <FirstSteps done=Signal::derive(move || data.map_or_default(|d| {
                                let a = &d.analytics;
                                [a.sessions > 0, a.goals_set > 0, a.skills > 0]
                            })) />
                            <Show when=move || data.map_or_default(|d| d.analytics.sessions > 0)>
                            <div class="grid gap-4 lg:grid-cols-2">
                                <div class="card">
                                    <h3 class="card-title">"Weekly, last 12 weeks"</h3>
                                    <BarChart id="weekly-chart" title="Time learned per week, last 12 weeks"
                                        totals=Signal::derive(move || data.map_or_default(|d| d.analytics.weekly.clone())) />
                                </div>
                                <div class="card">
                                    <h3 class="card-title">"Monthly, last 12 months"</h3>
                                    <BarChart id="monthly-chart" title="Time learned per month, last 12 months"
                                        totals=Signal::derive(move || data.map_or_default(|d| d.analytics.monthly.clone())) />
                                </div>
                            </div>
                            </Show>
                            <div class="card">
                                <div class="flex items-baseline justify-between">
                                    <h3 class="card-title">"Recent activity"</h3>
                                    <a class="link text-sm" href="/learning">"Log learning"</a>
                                </div>
                                <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="recent-activity">
                                    {move || {
                                        let items = data.map_or_default(|d| d.recent.clone());
                                        if items.is_empty() {
                                            return view! { <li class="py-2 text-slate-600 dark:text-slate-400">"Nothing yet. Log your first session."</li> }.into_any();
                                        }
                                        items.into_iter().map(|a| view! {
                                            <li class="py-2">
                                                <p class="text-sm">{a.title}</p>
                                                <p class="text-xs text-slate-500 dark:text-slate-400"><LocalTime at=a.created_at /></p>
                                            </li>
                                        }).collect_view().into_any()
                                    }}
                                </ul>
                            </div>
                        </section>
                    }.into_any()
                }
            })}
        </Transition>
    }
}

fn days(n: i64) -> String {
    format_count(n, "day", "days")
}

/// A new student's first steps, ticked live as they are done; gone once all three are. Until the
/// first session is logged it stands where the (empty) charts would be.
#[component]
fn FirstSteps(
    /// Whether a session is logged, a goal set and a skill added.
    done: Signal<[bool; 3]>,
) -> impl IntoView {
    let steps = move || {
        let [session, goal, skill] = done.get();
        [
            (
                session,
                "Log your first session",
                "Each session counts toward your hours and streak; your mentor sees it too.",
            ),
            (
                goal,
                "Set a goal",
                "Something you want to finish, with a date if you like.",
            ),
            (
                skill,
                "Add the skills you are working on",
                "Your mentor sees what you are practising.",
            ),
        ]
    };
    let all_done = move || steps().iter().all(|(done, ..)| *done);
    view! {
        <Show when=move || !all_done()>
            <section class="card border-indigo-200 dark:border-indigo-900" aria-labelledby="first-steps-heading" data-testid="first-steps">
                <h3 id="first-steps-heading" class="card-title">"Get started"</h3>
                <p class="text-sm text-slate-600 dark:text-slate-400">
                    {move || format!("{} of 3 done. Your charts fill in as you log.", steps().iter().filter(|(d, ..)| *d).count())}
                </p>
                <ol class="mt-3 space-y-3">
                    {move || steps().into_iter().map(|(done, title, hint)| view! {
                        <li class="flex gap-3" data-done=done.to_string()>
                            <span aria-hidden="true" class=if done { "mt-0.5 flex h-5 w-5 shrink-0 items-center justify-center rounded-full bg-emerald-600 text-xs text-white" } else { "mt-0.5 h-5 w-5 shrink-0 rounded-full border-2 border-slate-300 dark:border-slate-600" }>
                                {done.then_some("✓")}
                            </span>
                            <div class="min-w-0">
                                <p class=if done { "font-medium text-slate-500 line-through dark:text-slate-400" } else { "font-medium" }>
                                    {title}
                                    <span class="sr-only">{if done { " (done)" } else { " (to do)" }}</span>
                                </p>
                                <p class="text-sm text-slate-600 dark:text-slate-400">{hint}</p>
                            </div>
                        </li>
                    }).collect_view()}
                </ol>
                <a href="/learning" class="button-primary mt-4 inline-block">"Open your learning log"</a>
            </section>
        </Show>
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortBy {
    Name,
    Week,
    Streak,
    Last,
}

/// The mentor's students, each row live from that student's stream.
#[component]
fn MentorTable() -> impl IntoView {
    let loaded = api::request_resource(
        "dashboard mentor rows",
        || (),
        |_| api::learning::mentor_rows(),
    );
    let rows = RwSignal::new(None::<Vec<StudentRow>>);
    let sort = RwSignal::new((SortBy::Week, true));
    #[cfg(feature = "hydrate")]
    follow_rows(loaded, rows);
    let sorted = move || {
        let mut list = rows
            .get()
            .or_else(|| loaded.get().and_then(Result::ok))
            .unwrap_or_default();
        let (by, desc) = sort.get();
        list.sort_by(|a, b| {
            let o = match by {
                SortBy::Name => a
                    .display_name
                    .to_lowercase()
                    .cmp(&b.display_name.to_lowercase()),
                SortBy::Week => a.this_week_minutes.cmp(&b.this_week_minutes),
                SortBy::Streak => a.current_streak.cmp(&b.current_streak),
                SortBy::Last => a.last_activity_at.cmp(&b.last_activity_at),
            };
            if desc {
                o.reverse()
            } else {
                o
            }
        });
        list
    };
    let header = move |label: &'static str, by: SortBy| {
        let aria = move || {
            let (s, desc) = sort.get();
            if s == by {
                if desc {
                    "descending"
                } else {
                    "ascending"
                }
            } else {
                "none"
            }
        };
        view! {
            <th scope="col" aria-sort=aria>
                <button type="button" class="font-semibold" on:click=move |_| sort.update(|(s, d)| {
                    if *s == by { *d = !*d } else { *s = by; *d = by != SortBy::Name }
                })>
                    {label}
                    <span aria-hidden="true">{move || { let (s, d) = sort.get(); if s == by { if d { " ↓" } else { " ↑" } } else { "" } }}</span>
                </button>
            </th>
        }
    };
    view! {
        <section class="card overflow-x-auto" aria-labelledby="students-heading">
            <h2 id="students-heading" class="card-title">"Your students this week"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || loaded.get().map(|r| match r {
                    Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="text-slate-600 dark:text-slate-400">"No students assigned yet."</p> }.into_any(),
                    Ok(_) => view! {
                        <table class="admin-table" data-testid="mentor-table">
                            <thead>
                                <tr>
                                    {header("Student", SortBy::Name)}
                                    {header("This week", SortBy::Week)}
                                    {header("Streak", SortBy::Streak)}
                                    {header("Last activity", SortBy::Last)}
                                </tr>
                            </thead>
                            <tbody>
                                {move || sorted().into_iter().map(|r| view! {
                                    <tr data-testid=format!("student-row-{}", r.user_id)>
                                        <td><a class="link" href=format!("/activity?student={}", r.user_id)>{r.display_name}</a></td>
                                        <td data-testid="row-week">{format_minutes(r.this_week_minutes)}</td>
                                        <td data-testid="row-streak">{days(r.current_streak)}</td>
                                        <td>{match r.last_activity_at { Some(at) => view! { <LocalTime at /> }.into_any(), None => "—".into_any() }}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// Browser only: subscribe to every student's stream from the position their row is current to.
#[cfg(feature = "hydrate")]
fn follow_rows(
    loaded: Resource<Result<Vec<StudentRow>, studyhall::AppError>>,
    rows: RwSignal<Option<Vec<StudentRow>>>,
) {
    use crate::realtime::{use_realtime, Delivery, Subscription};
    let realtime = use_realtime();
    let subs = StoredValue::new_local(Vec::<Subscription>::new());
    Effect::new(move |_| {
        let Some(Ok(list)) = loaded.get() else {
            return;
        };
        rows.set(Some(list.clone()));
        let mut kept = Vec::new();
        for row in list {
            let id = row.user_id;
            kept.push(
                realtime.subscribe(Topic::User(id), Some(row.position.clone()), move |d| {
                    let Delivery::Event { event, .. } = d else {
                        if let Delivery::Reset { .. } = d {
                            loaded.refetch();
                        }
                        return;
                    };
                    let Some(event) = event else { return };
                    rows.update(|rows| {
                        if let Some(row) = rows
                            .as_mut()
                            .and_then(|r| r.iter_mut().find(|r| r.user_id == id))
                        {
                            row.apply(&event);
                        }
                    });
                }),
            );
        }
        subs.set_value(kept);
    });
    on_cleanup(move || subs.set_value(Vec::new()));
}

/// Admin's live figures from `kpi:system`.
#[component]
fn AdminFigures() -> impl IntoView {
    let figures = use_live_snapshot(Topic::Kpi(KpiModule::System), || async {
        api::learning::load_system_figures().await
    });
    let get =
        move |f: fn(&SystemFigures) -> String| Signal::derive(move || figures.map_or_default(f));
    view! {
        <section aria-labelledby="system-heading">
            <h2 id="system-heading" class="mb-3 text-lg font-semibold">"Right now"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || figures.status().map(|r| match r {
                    Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                    Ok(()) => view! {
                        <dl class="grid grid-cols-2 gap-3 lg:grid-cols-5">
                            <Tile label="Users online" testid="kpi-online" value=get(|f| f.users_online.to_string()) />
                            <Tile label="Sessions today" testid="kpi-sessions-today" value=get(|f| f.sessions_logged_today.to_string()) />
                            <Tile label="Learned today" testid="kpi-minutes-today" value=get(|f| format_minutes(f.minutes_logged_today)) />
                            <Tile label="Notifications today" testid="kpi-notifications-today" value=get(|f| f.notifications_sent_today.to_string()) />
                            <Tile label="Active students (7 days)" testid="kpi-active" value=get(|f| f.active_students_this_week.to_string()) />
                        </dl>
                        <p class="mt-2 text-xs text-slate-500 dark:text-slate-400">"Updated " {move || { let at = figures.map_or_default(|f| f.computed_at); view! { <LocalTime at /> } }} " · days here are UTC days"</p>
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn People(title: &'static str, empty: &'static str, people: Vec<PersonRef>) -> impl IntoView {
    view! {
        <section class="card">
            <h2 class="card-title">{title}</h2>
            {if people.is_empty() {
                view! { <p class="text-slate-600 dark:text-slate-400">{empty}</p> }.into_any()
            } else {
                view! {
                    <ul class="divide-y divide-slate-200 dark:divide-slate-800">
                        {people.into_iter().map(|p| view! {
                            <li class="py-2">
                                <p class="font-medium">{p.display_name}</p>
                                <p class="text-sm text-slate-600 dark:text-slate-400">
                                    <a class="link" href=format!("mailto:{}", p.email)>{p.email.clone()}</a>
                                    " · last seen "
                                    {match p.last_seen_at { Some(at) => view! { <LocalTime at /> }.into_any(), None => "never".into_any() }}
                                </p>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}
