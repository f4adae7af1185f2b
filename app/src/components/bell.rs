//! The notification bell on every signed-in page, and the inbox state behind it: a snapshot of the
//! newest notifications kept current from `inbox:{me}`, shared through context with the notifications
//! page and the document title. High and urgent arrivals also show as toasts; sound and desktop
//! notifications follow the user's preferences.

use super::time::LocalTime;
use crate::api::inbox::{self as api, Which};
use crate::browser;
use crate::realtime::live::{use_live_snapshot_with, LiveSnapshot};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use serde::{Deserialize, Serialize};
use studyhall::events::{DurableEvent, Follow};
use studyhall::model::{Millis, UserId};
use studyhall::notifications::{
    InboxChange, InboxCounts, InboxEvent, Kind, Notification, Preferences, Priority, BELL_SIZE,
};
use studyhall::protocol::Topic;
use studyhall::AppError;

/// The bell's view of the inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxState {
    pub items: Vec<Notification>,
    pub counts: InboxCounts,
    pub preferences: Preferences,
}

/// A toast for a high or urgent arrival, or for one of your own achievements (`celebrate`).
#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    /// The notification's id; celebrations of other events use negative ids (see `celebrate`).
    pub id: i64,
    pub title: String,
    pub message: String,
    pub priority: Priority,
    pub link: Option<String>,
    pub celebrate: bool,
}

/// The inbox in context.
#[derive(Clone, Copy)]
pub struct Inbox {
    pub state: LiveSnapshot<InboxState>,
    /// Bumps on every live change, for views that refetch (the notifications page).
    pub version: RwSignal<u64>,
    /// The browser's clock, ticking once a second (0 on the server), for expiry.
    pub now: RwSignal<Millis>,
    pub toasts: RwSignal<Vec<Toast>>,
}

impl Inbox {
    /// Unexpired items as of the ticking clock.
    pub fn visible(&self) -> Vec<Notification> {
        let now = self.now.get();
        self.state.map_or_default(|s| {
            s.items
                .iter()
                .filter(|n| now == 0 || !n.is_expired(now))
                .cloned()
                .collect()
        })
    }

    /// Counts, less anything that expired here before the server's purge says so.
    pub fn counts(&self) -> InboxCounts {
        let now = self.now.get();
        self.state.map_or_default(|s| Self::counts_of(s, now))
    }

    fn counts_of(s: &InboxState, now: Millis) -> InboxCounts {
        let expired: Vec<&Notification> = s
            .items
            .iter()
            .filter(|n| now > 0 && n.is_expired(now))
            .collect();
        let less = |n: i64, pred: &dyn Fn(&Notification) -> bool| {
            (n - expired.iter().filter(|x| pred(x)).count() as i64).max(0)
        };
        InboxCounts {
            unseen: less(s.counts.unseen, &|n| n.seen_at.is_none()),
            unread: less(s.counts.unread, &|n| n.read_at.is_none()),
            total: less(s.counts.total, &|_| true),
        }
    }

    /// The one number both the bell's badge and the tab's title show: notifications not yet seen
    /// (opening the bell sees them all).
    pub fn badge(&self) -> i64 {
        self.counts().unseen
    }

    pub fn preferences(&self) -> Preferences {
        self.state.map_or_default(|s| s.preferences.clone())
    }
}

pub fn use_inbox() -> Option<Inbox> {
    use_context::<Inbox>()
}

/// Loads the inbox for `user` and keeps it live; provides [`Inbox`] and the title's count (the badge).
pub fn provide_inbox(user: UserId) -> Inbox {
    let version = RwSignal::new(0u64);
    let now = RwSignal::new(0 as Millis);
    let toasts = RwSignal::new(Vec::<Toast>::new());
    let state = use_live_snapshot_with(
        Topic::Inbox(user),
        || async {
            api::load_inbox().await.map(|s| {
                (
                    InboxState {
                        items: s.items,
                        counts: s.counts,
                        preferences: s.preferences,
                    },
                    s.position,
                )
            })
        },
        move |state: &InboxState, event| {
            if let Some(InboxEvent {
                change: InboxChange::Created { notification },
                ..
            }) = event.as_inbox()
            {
                // Only news: not a duplicate, and not a pile of old ones replayed after a long sleep.
                let fresh = browser::now_ms() - notification.created_at < 5 * 60 * 1000;
                if fresh && !state.items.iter().any(|n| n.id == notification.id) {
                    announce(notification, &state.preferences, toasts);
                }
            }
            version.update(|v| *v += 1);
        },
    );
    browser::every(1000, move || now.set(browser::now_ms()));
    let inbox = Inbox {
        state,
        version,
        now,
        toasts,
    };
    provide_context(inbox);
    if let Some(unread) = use_context::<UnreadTitle>() {
        Effect::new(move |_| unread.0.set(inbox.badge()));
    }
    inbox
}

/// The count shown in the document title, always [`Inbox::badge`]; provided by the app shell.
#[derive(Clone, Copy)]
pub struct UnreadTitle(pub RwSignal<i64>);

/// The bell follows `inbox:{me}`; counts always come from the event.
impl Follow for InboxState {
    fn apply(&mut self, event: &DurableEvent) {
        use DurableEvent::*;
        match event {
            NotificationCreated(e)
            | NotificationsMarked(e)
            | NotificationsDeleted(e)
            | NotificationsCleared(e)
            | NotificationsExpired(e)
            | PreferencesChanged(e) => fold(self, e.clone()),
            AnnouncementCreated(_) | AnnouncementUpdated(_) | AnnouncementDeleted(_) => {}
            LearningChanged(_) | ActivityCreated(_) | FiguresUpdated(_) => {}
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

/// Folds one inbox event into the state. Counts always come from the event.
fn fold(state: &mut InboxState, event: InboxEvent) {
    let matches = |all: bool, ids: &[i64], id: i64| all || ids.contains(&id);
    match event.change {
        InboxChange::Created { notification } => {
            if !state.items.iter().any(|n| n.id == notification.id) {
                state.items.insert(0, notification);
                state.items.truncate(BELL_SIZE);
            }
        }
        InboxChange::Marked {
            ids,
            all,
            seen_at,
            read,
            at,
        } => {
            for n in state.items.iter_mut().filter(|n| matches(all, &ids, n.id)) {
                if let Some(seen) = seen_at {
                    n.seen_at.get_or_insert(seen);
                }
                match read {
                    Some(true) => {
                        n.read_at.get_or_insert(at);
                    }
                    Some(false) => n.read_at = None,
                    None => {}
                }
            }
        }
        InboxChange::Deleted { ids } | InboxChange::Expired { ids } => {
            state.items.retain(|n| !ids.contains(&n.id))
        }
        InboxChange::Cleared => state.items.clear(),
        InboxChange::Preferences { preferences } => state.preferences = preferences,
    }
    state.counts = event.counts;
}

/// Shows a toast for eight seconds (once per id; at most three at a time).
pub fn show_toast(toasts: RwSignal<Vec<Toast>>, toast: Toast) {
    let id = toast.id;
    if toasts.with_untracked(|t| t.iter().any(|x| x.id == id)) {
        return;
    }
    toasts.update(|t| {
        t.push(toast);
        // Never a wall of toasts: the bell has the rest.
        let excess = t.len().saturating_sub(3);
        t.drain(..excess);
    });
    set_timeout(
        move || {
            toasts.try_update(|t| t.retain(|x| x.id != id));
        },
        std::time::Duration::from_secs(8),
    );
}

fn announce(n: &Notification, prefs: &Preferences, toasts: RwSignal<Vec<Toast>>) {
    // The student's own streaks and milestones (sent by no one) are worth a celebration too.
    let own_achievement =
        matches!(n.kind, Kind::Achievement | Kind::Milestone) && n.sender_name.is_none();
    if n.priority.toasts() || own_achievement {
        let toast = Toast {
            id: n.id,
            title: n.title.clone(),
            message: n.message.clone(),
            priority: n.priority,
            link: n.link.clone(),
            celebrate: own_achievement,
        };
        show_toast(toasts, toast);
    }
    if prefs.sound {
        browser::chime();
    }
    if prefs.desktop {
        browser::desktop_notify(&n.title, &n.message);
    }
}

/// Runs an inbox action in the background; failures are logged (the badge stays as the server has it).
pub fn run(action: impl std::future::Future<Output = Result<InboxCounts, AppError>> + 'static) {
    spawn_local(async move {
        if let Err(e) = action.await {
            leptos::logging::warn!("notification action failed: {e}");
        }
    });
}

/// Marks a notification read and follows its link.
pub fn open_notification(
    n: &Notification,
    navigate: impl Fn(&str, leptos_router::NavigateOptions),
) {
    if n.read_at.is_none() {
        run(api::mark_read(Which::Ids(vec![n.id]), true));
    }
    if let Some(link) = &n.link {
        navigate(link, Default::default());
    }
}

/// Where to move focus in the bell's menu.
#[derive(Clone, Copy)]
enum Focus {
    First,
    Last,
    Next,
    Prev,
}

/// The bell is a WAI-ARIA menu button: Enter, Space or Down opens it on the first item, Up on the
/// last; Up, Down, Home and End move through the items (roving focus, items are out of the tab order);
/// Escape closes it and returns focus to the bell; Tab or a click anywhere outside closes it.
#[component]
pub fn NotificationBell() -> impl IntoView {
    let Some(inbox) = use_inbox() else {
        return ().into_any();
    };
    let open = RwSignal::new(false);
    let wrapper = NodeRef::<leptos::html::Div>::new();
    let button = NodeRef::<leptos::html::Button>::new();
    let panel = NodeRef::<leptos::html::Div>::new();
    let badge = move || inbox.badge();
    let show = move |at: Focus| {
        open.set(true);
        if inbox.badge() > 0 {
            run(api::mark_seen());
        }
        // The panel becomes visible on the next render; focus it then.
        request_animation_frame(move || move_focus(panel, at));
    };
    let hide = move |refocus: bool| {
        open.set(false);
        if refocus {
            if let Some(b) = button.get_untracked() {
                let _ = b.focus();
            }
        }
    };
    let outside = window_event_listener(leptos::ev::pointerdown, move |ev| {
        if !open.get_untracked() {
            return;
        }
        use wasm_bindgen::JsCast;
        let target = ev.target().and_then(|t| t.dyn_into::<web_sys::Node>().ok());
        let inside = wrapper
            .get_untracked()
            .is_some_and(|w| w.contains(target.as_ref()));
        if !inside {
            hide(false);
        }
    });
    on_cleanup(move || outside.remove());
    view! {
        <Transition fallback=|| ()>
        // Phones: positioned against the header row (the panel spans it); wider screens: under the bell.
        <div
            node_ref=wrapper
            class="sm:relative"
            on:keydown=move |ev| {
                if ev.key() == "Escape" && open.get_untracked() {
                    ev.prevent_default();
                    hide(true);
                }
            }
        >
            <button
                type="button"
                node_ref=button
                class="icon-button relative"
                data-testid="bell"
                aria-haspopup="menu"
                aria-controls="bell-panel"
                aria-expanded=move || if open.get() { "true" } else { "false" }
                aria-label=move || match badge() {
                    0 => "Notifications".to_string(),
                    1 => "Notifications, 1 new".to_string(),
                    n => format!("Notifications, {n} new"),
                }
                on:click=move |_| if open.get_untracked() { hide(false) } else { show(Focus::First) }
                on:keydown=move |ev| match ev.key().as_str() {
                    "ArrowDown" => {
                        ev.prevent_default();
                        show(Focus::First);
                    }
                    "ArrowUp" => {
                        ev.prevent_default();
                        show(Focus::Last);
                    }
                    _ => {}
                }
            >
                <svg aria-hidden="true" viewBox="0 0 24 24" class="h-5 w-5" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">
                    <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
                    <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
                </svg>
                <span
                    data-testid="bell-count"
                    class="absolute -right-1 -top-1 min-w-[1.25rem] rounded-full bg-red-600 px-1 text-center text-xs font-bold leading-5 text-white"
                    hidden=move || badge() == 0
                >
                    {move || {
                        let n = badge();
                        if n > 99 { "99+".to_string() } else { n.to_string() }
                    }}
                </span>
            </button>
            <div
                id="bell-panel"
                node_ref=panel
                role="menu"
                aria-label="Notifications"
                data-testid="bell-panel"
                class="absolute inset-x-2 top-full z-30 mt-1 rounded-lg border border-slate-200 bg-white shadow-xl sm:inset-x-auto sm:right-0 sm:top-auto sm:mt-2 sm:w-[22rem] dark:border-slate-700 dark:bg-slate-900"
                hidden=move || !open.get()
                on:keydown=move |ev| {
                    let to = match ev.key().as_str() {
                        "ArrowDown" => Focus::Next,
                        "ArrowUp" => Focus::Prev,
                        "Home" => Focus::First,
                        "End" => Focus::Last,
                        // Tab moves on as usual (items are out of the tab order) and closes the menu.
                        "Tab" => return hide(false),
                        _ => return,
                    };
                    ev.prevent_default();
                    move_focus(panel, to);
                }
            >
                <BellPanel inbox panel close=Callback::new(move |_| hide(false)) />
            </div>
        </div>
        <Toasts inbox />
        </Transition>
    }
    .into_any()
}

/// The menu's items in document order, less disabled ones.
fn menu_items(panel: NodeRef<leptos::html::Div>) -> Vec<web_sys::HtmlElement> {
    use wasm_bindgen::JsCast;
    let Some(panel) = panel.get_untracked() else {
        return Vec::new();
    };
    let list = panel.get_elements_by_class_name("bell-mi");
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter(|e| !e.has_attribute("disabled"))
        .filter_map(|e| e.dyn_into().ok())
        .collect()
}

fn move_focus(panel: NodeRef<leptos::html::Div>, to: Focus) {
    let items = menu_items(panel);
    let n = items.len();
    if n == 0 {
        return;
    }
    let active = document().active_element();
    let at = items
        .iter()
        .position(|i| active.as_ref().is_some_and(|a| i.is_same_node(Some(a))));
    let next = match (to, at) {
        (Focus::First, _) | (Focus::Next, None) => 0,
        (Focus::Last, _) | (Focus::Prev, None) => n - 1,
        (Focus::Next, Some(i)) => (i + 1) % n,
        (Focus::Prev, Some(i)) => (i + n - 1) % n,
    };
    let _ = items[next].focus();
}

/// Before an item's row goes away, focus the next row's first item (or the previous row's), so focus
/// stays in the menu instead of dropping to the page.
fn focus_beside(panel: NodeRef<leptos::html::Div>, row: &web_sys::Element) {
    let items = menu_items(panel);
    let inside = |i: &web_sys::HtmlElement| row.contains(Some(i));
    let after = items.iter().skip_while(|i| !inside(i)).find(|i| !inside(i));
    let before = items.iter().take_while(|i| !inside(i)).last();
    if let Some(i) = after.or(before) {
        let _ = i.focus();
    }
}

#[component]
fn BellPanel(
    inbox: Inbox,
    panel: NodeRef<leptos::html::Div>,
    close: Callback<()>,
) -> impl IntoView {
    let navigate = use_navigate();
    view! {
        <div class="flex items-center justify-between border-b border-slate-200 px-3 py-2 dark:border-slate-700">
            // The menu is labelled already; a heading inside a menu would only be noise.
            <h2 class="text-sm font-semibold" aria-hidden="true">"Notifications"</h2>
            <div class="flex gap-2 text-xs">
                <button type="button" role="menuitem" tabindex="-1" class="bell-mi link" data-testid="bell-read-all"
                    disabled=move || inbox.counts().unread == 0
                    on:click=move |_| run(api::mark_read(Which::All, true))>"Mark all read"</button>
                <button type="button" role="menuitem" tabindex="-1" class="bell-mi link" data-testid="bell-clear-all"
                    disabled=move || inbox.counts().total == 0
                    on:click=move |_| run(api::delete_notifications(Which::All))>"Clear all"</button>
            </div>
        </div>
        <ul role="none" class="max-h-[28rem] divide-y divide-slate-100 overflow-y-auto dark:divide-slate-800" data-testid="bell-items">
            {move || {
                let items = inbox.visible();
                if items.is_empty() {
                    return view! {
                        <li role="none" class="px-3 py-6 text-center text-sm text-slate-500 dark:text-slate-400">
                            <span role="menuitem" tabindex="-1" aria-disabled="true" class="bell-mi">"You're all caught up."</span>
                        </li>
                    }.into_any();
                }
                let navigate = navigate.clone();
                items.into_iter().map(move |n| {
                    let navigate = navigate.clone();
                    view! { <BellItem n panel close navigate=Callback::new(move |link: String| navigate(&link, Default::default())) /> }
                }).collect_view().into_any()
            }}
        </ul>
        <div class="border-t border-slate-200 px-3 py-2 text-center text-sm dark:border-slate-700">
            <a href="/notifications" role="menuitem" tabindex="-1" class="bell-mi link" on:click=move |_| close.run(())>"See all notifications"</a>
        </div>
    }
}

#[component]
fn BellItem(
    n: Notification,
    panel: NodeRef<leptos::html::Div>,
    close: Callback<()>,
    navigate: Callback<String>,
) -> impl IntoView {
    let unread = n.read_at.is_none();
    let id = n.id;
    let open_it = {
        let n = n.clone();
        move |_| {
            close.run(());
            open_notification(&n, |link, _| navigate.run(link.to_string()));
        }
    };
    let row = NodeRef::<leptos::html::Li>::new();
    let mark_label = format!(
        "{}: {}",
        if unread { "Mark read" } else { "Mark unread" },
        n.title
    );
    let delete_label = format!("Delete: {}", n.title);
    view! {
        <li role="none" node_ref=row class=if unread { "bg-indigo-50/60 dark:bg-indigo-950/40" } else { "" } data-testid="bell-item" data-unread=unread.to_string()>
            <div class="flex gap-2 px-3 py-2">
                <button type="button" role="menuitem" tabindex="-1" class="bell-mi min-w-0 flex-1 text-left" on:click=open_it>
                    <p class="flex min-w-0 items-center gap-1 text-sm font-medium">
                        {unread.then(|| view! { <span class="h-2 w-2 shrink-0 rounded-full bg-indigo-600" aria-label="Unread"></span> })}
                        <span class="truncate">{n.title.clone()}</span>
                        <PriorityTag priority=n.priority />
                    </p>
                    <p class="line-clamp-2 break-words text-sm text-slate-600 dark:text-slate-300">{n.message.clone()}</p>
                    <p class="text-xs text-slate-500 dark:text-slate-400">
                        {n.kind.label()} " · " <LocalTime at=n.created_at />
                        {n.sender_name.clone().map(|s| format!(" · from {s}"))}
                    </p>
                </button>
                <div class="flex shrink-0 flex-col gap-1 text-xs">
                    <button type="button" role="menuitem" tabindex="-1" class="bell-mi link" aria-label=mark_label
                        on:click=move |_| run(api::mark_read(Which::Ids(vec![id]), unread))>
                        {if unread { "Mark read" } else { "Mark unread" }}
                    </button>
                    <button type="button" role="menuitem" tabindex="-1" class="bell-mi link text-red-700 dark:text-red-400" aria-label=delete_label
                        on:click=move |_| {
                            if let Some(li) = row.get_untracked() {
                                focus_beside(panel, &li);
                            }
                            run(api::delete_notifications(Which::Ids(vec![id])))
                        }>"Delete"</button>
                </div>
            </div>
        </li>
    }
}

/// A notification's priority as a word on a colour that matches it (low grey, normal slate-blue, high
/// amber, urgent red); the word is always there, so colour is never the only signal. The bell's rows
/// and toasts show only high and urgent (`all` shows every priority, as the notifications page does).
#[component]
pub fn PriorityTag(priority: Priority, #[prop(optional)] all: bool) -> impl IntoView {
    let class = match priority {
        Priority::Low => "badge badge-grey",
        Priority::Normal => "badge badge-blue",
        Priority::High => "badge badge-amber",
        Priority::Urgent => "badge badge-red",
    };
    (all || priority.toasts()).then(|| {
        view! {
            <span class=class data-priority=priority.as_str()>
                <span class="sr-only">"Priority: "</span>
                {priority.label()}
            </span>
        }
    })
}

#[component]
fn Toasts(inbox: Inbox) -> impl IntoView {
    let navigate = use_navigate();
    view! {
        <div class="pointer-events-none fixed bottom-4 right-4 z-50 flex w-80 max-w-[90vw] flex-col gap-2" aria-live="polite" data-testid="toasts">
            <For each=move || inbox.toasts.get() key=|t| t.id let:toast>
                {
                    let navigate = navigate.clone();
                    let id = toast.id;
                    let link = toast.link.clone();
                    view! {
                        <div role=if toast.priority == Priority::Urgent { "alert" } else { "status" }
                            data-testid="toast"
                            class="pointer-events-auto rounded-lg border border-slate-200 bg-white p-3 shadow-lg dark:border-slate-700 dark:bg-slate-800">
                            <div class="flex items-start gap-2">
                                <div class="min-w-0 flex-1">
                                    <p class="text-sm font-semibold">
                                        {toast.celebrate.then(|| view! { <span aria-hidden="true">"🎉 "</span> })}
                                        {toast.title.clone()} " " <PriorityTag priority=toast.priority />
                                    </p>
                                    <p class="text-sm text-slate-600 dark:text-slate-300">{toast.message.clone()}</p>
                                    {link.map(|link| view! {
                                        <button type="button" class="link text-sm" on:click=move |_| {
                                            inbox.toasts.update(|t| t.retain(|x| x.id != id));
                                            run(api::mark_read(Which::Ids(vec![id]), true));
                                            navigate(&link, Default::default());
                                        }>"Open"</button>
                                    })}
                                </div>
                                <button type="button" class="icon-button h-6 w-6 text-sm" aria-label="Dismiss"
                                    on:click=move |_| inbox.toasts.update(|t| t.retain(|x| x.id != id))>"✕"</button>
                            </div>
                        </div>
                    }
                }
            </For>
        </div>
    }
}
