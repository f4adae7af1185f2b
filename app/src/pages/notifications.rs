//! All of the user's notifications with filters and paging, their notification settings, and (for
//! mentors and admins) a form to send one. Follows the bell's live inbox: any change refetches.

use crate::api::inbox::{self as api, Which};
use crate::browser;
use crate::components::bell::{open_notification, run, use_inbox, PriorityTag};
use crate::components::form::{field_error, focus_first_error, FormAlert, Notice, RequestKey};
use crate::components::person_picker::PersonPicker;
use crate::components::time::LocalTime;
use crate::session::use_current_user;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;
use studyhall::model::Role;
use studyhall::notifications::{
    Audience, Kind, NewNotification, NotificationFilter, Preferences, Priority,
};
use studyhall::AppError;

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let user = use_current_user();
    let inbox = use_inbox();
    let version = move || inbox.map(|i| i.version.get()).unwrap_or(0);
    let filter = RwSignal::new(NotificationFilter::default());
    // How many are shown; "Load more" raises it, and a live change refetches that many.
    let shown = RwSignal::new(20i64);
    let page = crate::api::request_resource(
        "notifications page",
        move || (filter.get(), shown.get(), version()),
        |(f, n, _)| {
            api::notifications_page(NotificationFilter {
                limit: Some(n),
                ..f
            })
        },
    );
    let navigate = use_navigate();
    let now = move || inbox.map(|i| i.now.get()).unwrap_or(0);
    view! {
        <Title text="Notifications" />
        <div class="flex flex-wrap items-baseline justify-between gap-2">
            <h1 class="text-2xl font-bold">"Notifications"</h1>
            <div class="flex gap-2">
                <button type="button" class="button-secondary" on:click=move |_| run(api::mark_read(Which::All, true))>"Mark all read"</button>
                <button type="button" class="button-secondary" on:click=move |_| run(api::delete_notifications(Which::All))>"Clear all"</button>
            </div>
        </div>
        <form class="mt-4 flex flex-wrap items-end gap-3" on:submit=|ev| ev.prevent_default()>
            <label class="flex items-center gap-2 text-sm">
                <input type="checkbox" data-testid="filter-unread" on:change=move |ev| filter.update(|f| f.unread = event_target_checked(&ev)) />
                "Unread only"
            </label>
            <div>
                <label class="block text-sm font-medium" for="filter-kind">"Kind"</label>
                <select id="filter-kind" class="input" on:change=move |ev| filter.update(|f| f.kind = Kind::parse(&event_target_value(&ev)))>
                    <option value="">"Any"</option>
                    {Kind::ALL.into_iter().map(|k| view! { <option value=k.as_str()>{k.label()}</option> }).collect_view()}
                </select>
            </div>
            <div>
                <label class="block text-sm font-medium" for="filter-priority">"Priority"</label>
                <select id="filter-priority" class="input" on:change=move |ev| filter.update(|f| f.priority = Priority::parse(&event_target_value(&ev)))>
                    <option value="">"Any"</option>
                    {Priority::ALL.into_iter().map(|p| view! { <option value=p.as_str()>{p.label()}</option> }).collect_view()}
                </select>
            </div>
        </form>
        <Transition fallback=|| view! { <p class="mt-4">"Loading…"</p> }>
            {move || page.get().map(|r| match r {
                Err(e) => view! { <p role="alert" class="mt-4">{e.to_string()}</p> }.into_any(),
                Ok(p) => {
                    let more = p.next.is_some();
                    let items: Vec<_> = p.items.into_iter().filter(|n| now() == 0 || !n.is_expired(now())).collect();
                    let navigate = navigate.clone();
                    view! {
                        <ul class="mt-4 space-y-2" data-testid="notifications">
                            {if items.is_empty() {
                                view! { <li class="card text-slate-600 dark:text-slate-400">"No notifications match."</li> }.into_any()
                            } else {
                                items.into_iter().map(|n| {
                                    let unread = n.read_at.is_none();
                                    let id = n.id;
                                    let navigate = navigate.clone();
                                    let opened = n.clone();
                                    view! {
                                        <li class=if unread { "card border-l-4 border-l-indigo-500 p-3" } else { "card p-3" } data-testid="notification" data-unread=unread.to_string()>
                                            <div class="flex flex-wrap items-baseline gap-2">
                                                <button type="button" class="flex-1 text-left font-medium" on:click=move |_| open_notification(&opened, &navigate)>
                                                    {n.title.clone()}
                                                </button>
                                                <PriorityTag priority=n.priority all=true />
                                                <span class="text-xs text-slate-500 dark:text-slate-400">{n.kind.label()} " · " <LocalTime at=n.created_at /></span>
                                            </div>
                                            <p class="text-sm text-slate-700 dark:text-slate-300">{n.message.clone()}</p>
                                            <p class="mt-1 flex flex-wrap gap-3 text-xs text-slate-500 dark:text-slate-400">
                                                {n.sender_name.clone().map(|s| format!("From {s}"))}
                                                {n.expires_at.map(|e| view! { <span>"Expires " <LocalTime at=e /></span> })}
                                                <button type="button" class="link" on:click=move |_| run(api::mark_read(Which::Ids(vec![id]), unread))>
                                                    {if unread { "Mark read" } else { "Mark unread" }}
                                                </button>
                                                <button type="button" class="link text-red-700 dark:text-red-400" on:click=move |_| run(api::delete_notifications(Which::Ids(vec![id])))>"Delete"</button>
                                            </p>
                                        </li>
                                    }
                                }).collect_view().into_any()
                            }}
                        </ul>
                        <div class="mt-4 text-center">
                            {more.then(|| view! { <button type="button" class="button-secondary" on:click=move |_| shown.update(|n| *n = (*n + 20).min(100))>"Load more"</button> })}
                        </div>
                    }.into_any()
                }
            })}
        </Transition>
        <div class="mt-8 grid gap-6 lg:grid-cols-2">
            <Settings />
            {(user.role != Role::Student).then(|| view! { <Compose role=user.role /> })}
        </div>
    }
}

/// Mutes, sound and desktop notifications.
#[component]
fn Settings() -> impl IntoView {
    let inbox = use_inbox();
    let prefs = move || inbox.map(|i| i.preferences()).unwrap_or_default();
    let error = RwSignal::new(None::<AppError>);
    let save = move |change: Box<dyn FnOnce(&mut Preferences)>| {
        let mut next = prefs();
        change(&mut next);
        spawn_local(async move {
            error.set(api::save_preferences(next).await.err());
        });
    };
    view! {
        <section class="card" aria-labelledby="settings-heading">
            <h2 id="settings-heading" class="card-title">"Settings"</h2>
            <fieldset>
                <legend class="text-sm font-medium">"Notify me about"</legend>
                {Kind::ALL.into_iter().map(|k| view! {
                    <label class="mt-1 flex items-center gap-2 text-sm">
                        <input type="checkbox" data-testid=format!("mute-{}", k.as_str())
                            prop:checked=move || !prefs().muted.contains(&k)
                            disabled=!k.can_mute()
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                save(Box::new(move |p| {
                                    p.muted.retain(|m| *m != k);
                                    if !on { p.muted.push(k) }
                                }))
                            } />
                        {k.label()}
                        {(!k.can_mute()).then(|| view! { <span class="text-xs text-slate-500 dark:text-slate-400">"(always on)"</span> })}
                    </label>
                }).collect_view()}
            </fieldset>
            <label class="mt-3 flex items-center gap-2 text-sm">
                <input type="checkbox" prop:checked=move || prefs().sound
                    on:change=move |ev| { let on = event_target_checked(&ev); save(Box::new(move |p| p.sound = on)) } />
                "Play a sound for new notifications"
            </label>
            <label class="mt-1 flex items-center gap-2 text-sm">
                <input type="checkbox" prop:checked=move || prefs().desktop
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        if on { browser::request_desktop_permission(); }
                        save(Box::new(move |p| p.desktop = on))
                    } />
                "Show desktop notifications (your browser will ask)"
            </label>
            <FormAlert error=error />
        </section>
    }
}

/// Send a notification: admins to everyone, a role, a cohort or one user; mentors to their students.
#[component]
fn Compose(role: Role) -> impl IntoView {
    // One key per send attempt: a double click or a retry sends once (renewed after a success).
    let key = RequestKey::new();
    let action = Action::new(|(n, k): &(NewNotification, Option<String>)| {
        api::send_notification(n.clone(), k.clone())
    });
    let server_error = move || action.value().get().and_then(Result::err);
    let form = NodeRef::<leptos::html::Form>::new();
    focus_first_error(form, server_error);
    let none = RwSignal::new(None);
    let (audience, target) = (
        RwSignal::new(String::from("default")),
        RwSignal::new(String::new()),
    );
    let (kind, priority) = (RwSignal::new(Kind::Social), RwSignal::new(Priority::Normal));
    let (title, message, link, ttl) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let local = RwSignal::new(None::<String>);
    // After a send, the text clears (the audience, kind and priority stay for the next one).
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            [title, message, link, ttl]
                .iter()
                .for_each(|s| s.set(String::new()));
            key.renew();
        }
    });
    let options =
        crate::api::request_resource("send form cohorts", || (), |_| api::addressable_cohorts());
    let sent = move || {
        action
            .value()
            .get()
            .and_then(Result::ok)
            .map(|s| match s.recipients {
                0 => "Nobody matched that audience.".to_string(),
                n if n == s.delivered => {
                    format!("Sent to {n} {}.", if n == 1 { "person" } else { "people" })
                }
                n => format!(
                    "Sent to {} of {n} (the others muted this kind).",
                    s.delivered
                ),
            })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        local.set(None);
        let t = target.get_untracked();
        let id = t.parse::<i64>().ok();
        let aud = match (role, audience.get_untracked().as_str()) {
            (Role::Admin, "everyone") | (Role::Admin, "default") => Some(Audience::Everyone),
            (Role::Admin, "role") => {
                studyhall::model::Role::parse(&t).map(|role| Audience::Role { role })
            }
            (_, "cohort") => id.map(|id| Audience::Cohort { id }),
            (_, "user") => id.map(|id| Audience::User { id }),
            _ => Some(Audience::MyStudents),
        };
        let Some(aud) = aud else {
            local.set(Some("Choose who should receive it.".into()));
            return;
        };
        let ttl_secs = match ttl.get_untracked().trim() {
            "" => None,
            m => match m.parse::<i64>() {
                Ok(m) if (1..=525_600).contains(&m) => Some(m * 60),
                _ => {
                    local.set(Some(
                        "Enter the expiry in whole minutes, up to a year.".into(),
                    ));
                    return;
                }
            },
        };
        let note = NewNotification {
            audience: aud,
            kind: kind.get_untracked(),
            priority: priority.get_untracked(),
            title: title.get_untracked(),
            message: message.get_untracked(),
            link: Some(link.get_untracked()).filter(|l| !l.trim().is_empty()),
            ttl_secs,
        };
        action.dispatch((note, key.get()));
    };
    let kinds: Vec<Kind> = Kind::ALL
        .into_iter()
        .filter(|k| role == Role::Admin || *k != Kind::System)
        .collect();
    view! {
        <section class="card" aria-labelledby="compose-heading">
            <h2 id="compose-heading" class="card-title">"Send a notification"</h2>
            <form class="space-y-3" novalidate on:submit=submit data-testid="compose" node_ref=form>
                <div>
                    <label class="block text-sm font-medium" for="compose-audience">"To"</label>
                    <select id="compose-audience" class="input" on:change=move |ev| { audience.set(event_target_value(&ev)); target.set(String::new()) }>
                        {if role == Role::Admin {
                            view! {
                                <option value="everyone">"Everyone"</option>
                                <option value="role">"Everyone with a role"</option>
                                <option value="cohort">"A cohort"</option>
                                <option value="user">"One person"</option>
                            }.into_any()
                        } else {
                            view! {
                                <option value="default">"All my students"</option>
                                <option value="cohort">"A cohort"</option>
                                <option value="user">"One of my students"</option>
                            }.into_any()
                        }}
                    </select>
                </div>
                {move || match (role, audience.get().as_str()) {
                    (Role::Admin, "role") => view! {
                        <label class="block text-sm font-medium" for="compose-target">"Role"</label>
                        <select id="compose-target" class="input" on:change=move |ev| target.set(event_target_value(&ev))>
                            <option value="">"Choose…"</option>
                            {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
                        </select>
                    }.into_any(),
                    (_, "cohort") => view! {
                        <label class="block text-sm font-medium" for="compose-target">"Cohort"</label>
                        <select id="compose-target" class="input" on:change=move |ev| target.set(event_target_value(&ev))>
                            <option value="">"Choose…"</option>
                            <Transition fallback=|| ()>
                                {move || options.get().and_then(Result::ok).map(|cs| cs.into_iter().map(|c| view! { <option value=c.id>{c.name}</option> }).collect_view())}
                            </Transition>
                        </select>
                    }.into_any(),
                    // One picker for admins and mentors; the server lists only whom the caller may address.
                    (_, "user") => view! {
                        <PersonPicker id="compose-target" label=if role == Role::Admin { "Person" } else { "Student" }
                            on_choose=Callback::new(move |id: Option<i64>| target.set(id.map(|i| i.to_string()).unwrap_or_default())) />
                    }.into_any(),
                    _ => ().into_any(),
                }}
                <p class="text-sm text-red-700 dark:text-red-400" role="alert">{field_error(server_error, none, "audience")}</p>
                <div class="grid grid-cols-2 gap-3">
                    <div>
                        <label class="block text-sm font-medium" for="compose-kind">"Kind"</label>
                        <select id="compose-kind" class="input" on:change=move |ev| if let Some(k) = Kind::parse(&event_target_value(&ev)) { kind.set(k) }>
                            {kinds.into_iter().map(|k| view! { <option value=k.as_str() selected=k == Kind::Social>{k.label()}</option> }).collect_view()}
                        </select>
                        <p class="text-sm text-red-700 dark:text-red-400" role="alert">{field_error(server_error, none, "kind")}</p>
                    </div>
                    <div>
                        <label class="block text-sm font-medium" for="compose-priority">"Priority"</label>
                        <select id="compose-priority" class="input" on:change=move |ev| if let Some(p) = Priority::parse(&event_target_value(&ev)) { priority.set(p) }>
                            {Priority::ALL.into_iter().map(|p| view! { <option value=p.as_str() selected=p == Priority::Normal>{p.label()}</option> }).collect_view()}
                        </select>
                    </div>
                </div>
                <Text label="Title" name="title" value=title error=field_error(server_error, none, "title") />
                <Text label="Message" name="message" value=message error=field_error(server_error, none, "message") />
                <Text label="Link (optional, e.g. /learning)" name="link" value=link error=field_error(server_error, none, "link") />
                <Text label="Expires after minutes (optional)" name="ttl" value=ttl error=field_error(server_error, none, "ttl_secs") />
                <p class="text-sm text-red-700 dark:text-red-400" role="alert">{move || local.get()}</p>
                <FormAlert error=Signal::derive(server_error) />
                <Notice message=Signal::derive(sent) />
                <button type="submit" class="button-primary" disabled=move || action.pending().get()>"Send"</button>
            </form>
        </section>
    }
}

#[component]
fn Text(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("compose-{name}");
    view! {
        <div>
            <label class="block text-sm font-medium" for=id.clone()>{label}</label>
            <input class="input" id=id name=name prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))
                aria-invalid=move || error.get().is_some().then_some("true") />
            <p class="text-sm text-red-700 dark:text-red-400" role="alert">{move || error.get()}</p>
        </div>
    }
}
