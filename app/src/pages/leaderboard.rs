//! The leaderboard (`/leaderboard`): the school's and the viewer's cohorts' boards by week, month and
//! all time (this period or the last), a podium for the top three, the top 50 with "Show more", the
//! viewer's own row highlighted and pinned when it is not on the page, the rows around it, when the
//! period ends, and how points work. Live: the board's `leaderboard.moved` frames move rows to their new
//! rank (gliding there unless the viewer prefers reduced motion), flash "+15" on a changed score, and
//! say what moved in one polite announcement per frame.

use crate::api;
use crate::api::leaderboard::{leaderboard_board, leaderboard_choices};
use crate::components::time::{use_clock, LocalTime};
use crate::session::use_current_user;
use leptos::prelude::*;
use leptos_meta::Title;
use studyhall::leaderboard::{
    Board, Period, Standing, Which, DEFAULT_LIMIT, HOW_POINTS_WORK, MAX_LIMIT,
};
use studyhall::model::{Millis, Role};

/// What a board request names.
#[derive(Debug, Clone, PartialEq)]
struct Ask {
    scope: String,
    period: Period,
    which: Which,
    limit: u32,
    /// Bumped to read the board again (after a reconnect, or a move the page cannot place).
    again: u32,
}

fn period_noun(p: Period) -> &'static str {
    match p {
        Period::Week => "week",
        Period::Month => "month",
        Period::AllTime => "all time",
    }
}

fn tab_label(p: Period, which: Which) -> &'static str {
    match (p, which) {
        (Period::Week, Which::Current) => "This week",
        (Period::Week, Which::Previous) => "Last week",
        (Period::Month, Which::Current) => "This month",
        (Period::Month, Which::Previous) => "Last month",
        (Period::AllTime, _) => "All time",
    }
}

/// "2 d 4 h", "3 h 20 min", "12 min": how long until `end`.
fn remaining(now: Millis, end: Millis) -> String {
    let minutes = ((end - now).max(0) + 59_999) / 60_000;
    let (d, h, m) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    match (d, h) {
        (0, 0) => format!("{m} min"),
        (0, _) => format!("{h} h {m} min"),
        _ => format!("{d} d {h} h"),
    }
}

/// The board a viewer starts on: a student's cohort's, or the school's.
fn default_scope(role: Role, choices: &studyhall::leaderboard::BoardChoices) -> String {
    let first = match role {
        Role::Student => choices.scopes.get(1).or(choices.scopes.first()),
        _ => choices.scopes.first(),
    };
    first
        .map(|s| s.scope.to_string())
        .unwrap_or_else(|| "school".into())
}

#[component]
pub fn LeaderboardPage() -> impl IntoView {
    let user = use_current_user();
    let choices = api::request_resource("leaderboard choices", || (), |_| leaderboard_choices());
    let ask = RwSignal::new(Ask {
        scope: String::new(),
        period: Period::Week,
        which: Which::Current,
        limit: DEFAULT_LIMIT as u32,
        again: 0,
    });
    // A student starts on their cohort's board, everyone else on the school's (on the server too, so
    // the page hydrates on the board it was rendered with).
    let role = user.role;
    Effect::new(move |_| {
        if let Some(Ok(c)) = choices.get() {
            if ask.with_untracked(|a| a.scope.is_empty()) {
                ask.update(|a| a.scope = default_scope(role, &c));
            }
        }
    });
    let board = api::request_resource(
        "leaderboard board",
        move || ask.get(),
        move |a| async move {
            let scope = if a.scope.is_empty() {
                default_scope(role, &leaderboard_choices().await?)
            } else {
                a.scope
            };
            leaderboard_board(scope, a.period.as_str().into(), a.which, 0, a.limit).await
        },
    );
    // The rows shown: the loaded board, then moved by live frames.
    let shown = RwSignal::new(None::<Board>);
    let flashes = RwSignal::new(Vec::<(Option<i64>, i64)>::new());
    let said = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(b)) = board.get() {
            shown.set(Some(b));
        }
    });
    #[cfg(feature = "hydrate")]
    live::follow(ask, shown, flashes, said);
    // When the period ends, the board starts over: read the new one.
    let clock = use_clock();
    Effect::new(move |_| {
        let now = clock.now();
        let ended = shown.with(|b| {
            b.as_ref()
                .filter(|b| b.which == Which::Current)
                .and_then(|b| b.ends_at)
                .is_some_and(|end| now >= end)
        });
        if ended {
            ask.update(|a| a.again += 1);
        }
    });
    let pick_scope = move |ev: leptos::ev::Event| {
        let scope = event_target_value(&ev);
        ask.update(|a| {
            a.scope = scope;
            a.limit = DEFAULT_LIMIT as u32;
        });
    };
    let tabs = [
        (Period::Week, Which::Current),
        (Period::Week, Which::Previous),
        (Period::Month, Which::Current),
        (Period::Month, Which::Previous),
        (Period::AllTime, Which::Current),
    ];
    view! {
        <Title text="Leaderboard" />
        <div class="flex flex-wrap items-baseline justify-between gap-3">
            <h1 class="text-2xl font-bold">"Leaderboard"</h1>
            <Transition fallback=|| ()>
                {move || choices.get().and_then(Result::ok).map(|c| view! {
                    <label class="flex items-center gap-2 text-sm">
                        <span class="font-medium">"Board"</span>
                        <select class="input" data-testid="board-scope" on:change=pick_scope>
                            {c.scopes.into_iter().map(|s| {
                                let value = s.scope.to_string();
                                let shown_value = value.clone();
                                let selected = move || shown.with(|b| b.as_ref().is_some_and(|b| b.scope.to_string() == shown_value));
                                view! { <option value=value selected=selected>{s.name}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                })}
            </Transition>
        </div>
        <div class="mt-3 flex flex-wrap gap-1" role="group" aria-label="Period">
            {tabs.into_iter().map(|(period, which)| {
                let active = move || ask.with(|a| a.period == period && a.which == which);
                view! {
                    <button type="button" aria-pressed=move || active().to_string()
                        class=move || if active() { "button-primary text-sm" } else { "button-secondary text-sm" }
                        on:click=move |_| ask.update(|a| { a.period = period; a.which = which; a.limit = DEFAULT_LIMIT as u32; })>
                        {tab_label(period, which)}
                    </button>
                }
            }).collect_view()}
        </div>
        <p class="sr-only" aria-live="polite" data-testid="board-said">{move || said.get()}</p>
        <Transition fallback=|| view! { <p class="mt-4">"Loading…"</p> }>
            {move || board.get().map(|r| match r {
                Err(e) => view! { <p role="alert" class="mt-4">{e.to_string()}</p> }.into_any(),
                Ok(_) => view! { <BoardView shown flashes ask /> }.into_any(),
            })}
        </Transition>
        {(user.role == Role::Student).then(|| view! { <HideMyName /> })}
        <details class="card mt-6 text-sm">
            <summary class="cursor-pointer font-medium">"How points work"</summary>
            <p class="mt-2 text-slate-700 dark:text-slate-300">{HOW_POINTS_WORK}</p>
        </details>
    }
}

/// "Show my name only to my mentors": a student's choice, saved at once.
#[component]
fn HideMyName() -> impl IntoView {
    use crate::api::leaderboard::{hide_on_leaderboard, leaderboard_hidden};
    let hidden = api::request_resource("leaderboard hidden", || (), |_| leaderboard_hidden());
    let saved = RwSignal::new(None::<bool>);
    let error = RwSignal::new(None::<studyhall::AppError>);
    let toggle = move |ev: leptos::ev::Event| {
        let hide = event_target_checked(&ev);
        leptos::task::spawn_local(async move {
            match hide_on_leaderboard(hide).await {
                Ok(h) => saved.set(Some(h)),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <Transition fallback=|| ()>
            {move || hidden.get().and_then(Result::ok).map(|h| view! {
                <label class="mt-6 flex items-start gap-2 text-sm">
                    <input type="checkbox" class="mt-1" checked=h data-testid="hide-my-name" on:change=toggle />
                    <span>
                        "Hide my name from other students (they see “A student”; your mentors and admins still see your name)."
                        <span class="sr-only" aria-live="polite">{move || saved.get().map(|h| if h { "Your name is hidden." } else { "Your name is shown." })}</span>
                    </span>
                </label>
            })}
        </Transition>
        <crate::components::form::FormAlert error=error />
    }
}

#[component]
fn BoardView(
    shown: RwSignal<Option<Board>>,
    flashes: RwSignal<Vec<(Option<i64>, i64)>>,
    ask: RwSignal<Ask>,
) -> impl IntoView {
    let user = use_current_user();
    let clock = use_clock();
    let board = move || shown.get();
    let flash_of = move |id: Option<i64>| {
        flashes.with(|f| {
            f.iter()
                .rev()
                .find(|(u, _)| *u == id && id.is_some())
                .map(|(_, d)| *d)
        })
    };
    let row = move |s: Standing| {
        let id = s.user_id;
        let key = id.map_or_else(|| format!("hidden-{}", s.rank), |u| u.to_string());
        let me = s.me;
        view! {
            <li data-row-key=key data-testid="board-row" data-me=me.to_string()
                // The viewer's own row stays in sight (sticky) while the rest scrolls past.
                class=if me { "sticky bottom-2 top-16 z-10 flex items-center gap-3 rounded-lg bg-indigo-50 px-3 py-2 shadow ring-1 ring-indigo-300 dark:bg-indigo-950 dark:ring-indigo-700" } else { "flex items-center gap-3 rounded-lg px-3 py-2" }>
                <span class="w-10 shrink-0 text-right font-mono text-sm tabular-nums" aria-label=format!("Rank {}", s.rank)>{format!("#{}", s.rank)}</span>
                <span class="min-w-0 flex-1 truncate">{s.name.clone()}{me.then_some(" (you)")}</span>
                {move || flash_of(id).map(|d| view! {
                    <span class="rounded bg-emerald-100 px-1.5 text-xs font-semibold text-emerald-800 dark:bg-emerald-900 dark:text-emerald-200" aria-hidden="true">
                        {if d >= 0 { format!("+{d}") } else { d.to_string() }}
                    </span>
                })}
                <span class="shrink-0 font-semibold tabular-nums" data-testid="board-points">{s.points}" pts"</span>
            </li>
        }
    };
    view! {
        {move || board().map(|b| {
            let scope_name = b.scope_name.clone();
            let noun = period_noun(b.period);
            let ends = b.ends_at;
            let ranked = b.ranked;
            let shows = b.rows.len();
            let me_on_page = b.rows.iter().any(|r| r.me);
            let podium: Vec<Standing> = b.rows.iter().take(3).cloned().collect();
            let rest: Vec<Standing> = b.rows.iter().skip(3).cloned().collect();
            let me = b.me.clone();
            let around = b.around_me.clone();
            let empty = b.rows.is_empty();
            let current = b.which == Which::Current;
            view! {
                <p class="mt-3 text-sm text-slate-600 dark:text-slate-400" data-testid="board-period">
                    {format!("{scope_name} · {ranked} ranked")}
                    {ends.map(|end| view! {
                        " · " {if current { "ends " } else { "ended " }} <LocalTime at=end />
                        {current.then(|| view! { <span>{move || format!(" (in {})", remaining(clock.now(), end))}</span> })}
                    })}
                </p>
                {empty.then(|| view! {
                    <div class="card mt-4 text-center" data-testid="board-empty">
                        <p>{if current { format!("No one has logged time this {noun} yet — be first.") } else { "No one logged time then.".to_string() }}</p>
                        {(user.role == Role::Student && current).then(|| view! {
                            <a class="link mt-2 inline-block" href="/learning">"Log learning"</a>
                        })}
                    </div>
                })}
                {(!podium.is_empty()).then(|| view! {
                    <ol class="mt-4 grid grid-cols-3 gap-2" aria-label="Top three" data-testid="podium">
                        {podium.into_iter().enumerate().map(|(i, s)| {
                            let place = ["bg-amber-300 text-amber-950", "bg-slate-300 text-slate-900", "bg-orange-300 text-orange-950"][i];
                            let me = s.me;
                            view! {
                                <li data-row-key=s.user_id.map_or_else(|| format!("hidden-{}", s.rank), |u| u.to_string())
                                    class=if me { "card flex flex-col items-center gap-1 p-3 text-center ring-2 ring-indigo-400" } else { "card flex flex-col items-center gap-1 p-3 text-center" }>
                                    <span class=format!("flex h-9 w-9 items-center justify-center rounded-full text-base font-bold {place}")
                                        aria-label=format!("Rank {}", s.rank)>{s.rank}</span>
                                    <span class="w-full truncate text-sm font-medium">{s.name}{me.then_some(" (you)")}</span>
                                    <span class="text-sm font-semibold tabular-nums">{s.points}" pts"</span>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                })}
                {(!rest.is_empty()).then(|| view! {
                    <ol class="card mt-3 divide-y divide-slate-100 p-1 dark:divide-slate-800" data-testid="board-rows" aria-label="Ranks">
                        {rest.into_iter().map(row).collect_view()}
                    </ol>
                })}
                {(shows < ranked as usize && (shows as u32) < MAX_LIMIT as u32).then(|| view! {
                    <div class="mt-3 text-center">
                        <button type="button" class="button-secondary" on:click=move |_| ask.update(|a| a.limit = MAX_LIMIT as u32)>"Show more"</button>
                    </div>
                })}
                {(!me_on_page && !around.is_empty()).then(|| view! {
                    <h2 class="mt-6 text-lg font-semibold">"Around you"</h2>
                    <ol class="card mt-2 divide-y divide-slate-100 p-1 dark:divide-slate-800" data-testid="around-me">
                        {around.into_iter().map(row).collect_view()}
                    </ol>
                })}
                {me.filter(|_| !me_on_page).map(|m| view! {
                    <div class="sticky bottom-2 z-10 mt-4" data-testid="me-pinned">
                        <p class="flex items-center gap-3 rounded-lg bg-indigo-600 px-4 py-2 text-white shadow-lg">
                            <span class="font-mono">{format!("#{}", m.rank)}</span>
                            <span class="flex-1">"You"</span>
                            <span class="font-semibold tabular-nums">{m.points}" pts"</span>
                        </p>
                    </div>
                })}
            }
        })}
    }
}

/// Browser only: follow the board's moves.
#[cfg(feature = "hydrate")]
mod live {
    use super::Ask;
    use crate::realtime::{use_realtime, ConnectionState, Delivery, Subscription};
    use leptos::prelude::*;
    use studyhall::leaderboard::{Board, Moves, Which, MOVED_EVENT};
    use studyhall::protocol::Topic;

    pub fn follow(
        ask: RwSignal<Ask>,
        shown: RwSignal<Option<Board>>,
        flashes: RwSignal<Vec<(Option<i64>, i64)>>,
        said: RwSignal<String>,
    ) {
        let realtime = use_realtime();
        let me_id = crate::session::use_current_user().id;
        let sub = StoredValue::new_local(None::<Subscription>);
        let watched = Memo::new(move |_| {
            shown.with(|b| {
                b.as_ref()
                    .filter(|b| b.which == Which::Current)
                    .map(|b| (b.period, b.scope))
            })
        });
        Effect::new(move |_| {
            let Some((period, scope)) = watched.get() else {
                sub.set_value(None);
                return;
            };
            sub.set_value(Some(realtime.subscribe(
                Topic::Leaderboard(period, scope),
                None,
                move |d| {
                    let Delivery::Ephemeral { event, data, .. } = d else {
                        return;
                    };
                    if event != MOVED_EVENT {
                        return;
                    }
                    let Ok(moves) = serde_json::from_value::<Moves>(data) else {
                        return;
                    };
                    apply(ask, shown, flashes, said, moves, me_id);
                },
            )));
        });
        // Frames are not stored: after a reconnect, read the board again.
        let was_open = StoredValue::new(true);
        Effect::new(move |_| {
            let open = matches!(realtime.state.get(), ConnectionState::Open);
            if open && !was_open.get_value() {
                ask.update(|a| a.again += 1);
            }
            was_open.set_value(open);
        });
        on_cleanup(move || sub.set_value(None));
    }

    fn apply(
        ask: RwSignal<Ask>,
        shown: RwSignal<Option<Board>>,
        flashes: RwSignal<Vec<(Option<i64>, i64)>>,
        said: RwSignal<String>,
        moves: Moves,
        me_id: i64,
    ) {
        let Some(mut board) = shown.get_untracked() else {
            return;
        };
        let cap = ask.with_untracked(|a| a.limit) as usize;
        let again = studyhall::leaderboard::apply_moves(&mut board, &moves, me_id, cap);
        let before = crate::browser::row_tops("[data-row-key]");
        shown.set(Some(board));
        crate::browser::glide("[data-row-key]", before);
        flashes.update(|f| {
            f.extend(moves.moved.iter().map(|m| (m.user_id, m.delta)));
            let n = f.len();
            if n > 20 {
                f.drain(0..n - 20);
            }
        });
        crate::browser::after(1500, move || flashes.set(Vec::new()));
        said.set(match moves.moved.as_slice() {
            [one] => match (&one.name, one.to) {
                (Some(name), Some(to)) => {
                    format!("{name} is now number {to}, with {} points.", one.points)
                }
                _ => "The board changed.".to_string(),
            },
            many => format!("{} students moved.", many.len()),
        });
        if again {
            ask.update(|a| a.again += 1);
        }
    }
}
