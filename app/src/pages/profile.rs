//! Your profile: name and time zone, password, the places you are signed in and your recent sign-ins.

use crate::api;
use crate::components::form::{field_error, focus_first_error, Field, FormAlert, Notice};
use crate::components::time::{use_clock, LocalTime};
use crate::session::use_current_user;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ProfilePage() -> impl IntoView {
    view! {
        <Title text="Profile" />
        <h1 class="text-2xl font-bold">"Profile"</h1>
        <div class="mt-6 grid gap-6 lg:grid-cols-2">
            <ProfileForm />
            <PasswordForm />
        </div>
        <Sessions />
        <SignIns />
    }
}

#[component]
fn ProfileForm() -> impl IntoView {
    let user = use_current_user();
    let action = ServerAction::<api::UpdateProfile>::new();
    let zones = api::request_resource("profile time zones", || (), |_| api::time_zones());
    let server_error = move || action.value().get().and_then(Result::err);
    let form = NodeRef::<leptos::html::Form>::new();
    focus_first_error(form, server_error);
    let saved = Signal::derive(move || {
        matches!(action.value().get(), Some(Ok(_))).then(|| "Saved.".to_string())
    });
    let name = RwSignal::new(user.display_name.clone());
    let current_zone = user.time_zone.clone();
    let name_value: Signal<String> = name.into();
    // A new zone applies to every time on the page at once, without a reload.
    let clock = use_clock();
    Effect::new(move |_| {
        if let Some(Ok(saved)) = action.value().get() {
            clock.set_zone(saved.time_zone);
        }
    });
    view! {
        <section class="card" aria-labelledby="profile-heading">
            <h2 id="profile-heading" class="card-title">"Your details"</h2>
            <ActionForm action=action node_ref=form attr:class="space-y-4" attr:novalidate="true">
                <Field
                    label="Name"
                    name="display_name"
                    autocomplete="name"
                    value=name_value
                    error=field_error(server_error, RwSignal::new(None), "display_name")
                    on_blur=Callback::new(move |v| name.set(v))
                />
                <div class="space-y-1">
                    <label for="field-time_zone" class="block text-sm font-medium">"Time zone"</label>
                    <p id="tz-hint" class="text-xs text-slate-500 dark:text-slate-400">
                        "Streaks and daily totals follow this time zone."
                    </p>
                    <select id="field-time_zone" name="time_zone" class="input" aria-describedby="tz-hint">
                        <Suspense fallback={
                            let z = current_zone.clone();
                            move || view! { <option value=z.clone() selected=true>{z.clone()}</option> }
                        }>
                            {
                                let current_zone = current_zone.clone();
                                move || {
                                    let current_zone = current_zone.clone();
                                    Suspend::new(async move {
                                        zones.await.unwrap_or_default().into_iter().map(|z| {
                                            let selected = z == current_zone;
                                            let label = z.clone(); view! { <option value=z selected=selected>{label}</option> }
                                        }).collect_view()
                                    })
                                }
                            }
                        </Suspense>
                    </select>
                    <p class="text-sm text-red-700 dark:text-red-400" role="alert">
                        {move || server_error().and_then(|e| e.field_message("time_zone"))}
                    </p>
                </div>
                <FormAlert error=Signal::derive(server_error) />
                <Notice message=saved />
                <button type="submit" class="button-primary" disabled=move || action.pending().get()>"Save"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let action = ServerAction::<api::ChangePassword>::new();
    let server_error = move || action.value().get().and_then(Result::err);
    let form = NodeRef::<leptos::html::Form>::new();
    focus_first_error(form, server_error);
    let done = Signal::derive(move || match action.value().get() {
        Some(Ok(0)) => Some("Password changed.".to_string()),
        Some(Ok(n)) => Some(format!(
            "Password changed. {n} other session{} signed out.",
            if n == 1 { " was" } else { "s were" }
        )),
        _ => None,
    });
    let new_local = RwSignal::new(None);
    view! {
        <section class="card" aria-labelledby="password-heading">
            <h2 id="password-heading" class="card-title">"Change password"</h2>
            <ActionForm action=action node_ref=form attr:class="space-y-4" attr:novalidate="true">
                <Field
                    label="Current password"
                    name="current_password"
                    kind="password"
                    autocomplete="current-password"
                    error=field_error(server_error, RwSignal::new(None), "current_password")
                />
                <Field
                    label="New password"
                    name="new_password"
                    kind="password"
                    autocomplete="new-password"
                    hint="Changing it signs you out everywhere else."
                    error=field_error(server_error, new_local, "new_password")
                    on_blur=Callback::new(move |v: String| {
                        new_local.set(studyhall::validate::password("new_password", &v).err().map(|e| e.message))
                    })
                />
                <FormAlert error=Signal::derive(server_error) />
                <Notice message=done />
                <button type="submit" class="button-primary" disabled=move || action.pending().get()>
                    "Change password"
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
fn Sessions() -> impl IntoView {
    let revoke = ServerAction::<api::RevokeSession>::new();
    let sessions = api::request_resource(
        "profile sessions",
        move || revoke.version().get(),
        |_| api::my_sessions(),
    );
    view! {
        <section class="card mt-6" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading" class="card-title">"Where you are signed in"</h2>
            <FormAlert error=Signal::derive(move || revoke.value().get().and_then(Result::err)) />
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="divide-y divide-slate-200 dark:divide-slate-800">
                                {list.into_iter().map(|s| {
                                    let handle = s.handle.clone();
                                    view! {
                                        <li class="flex flex-wrap items-center justify-between gap-2 py-2">
                                            <div>
                                                <p class="font-medium">
                                                    // The server names the device ("Chrome on Linux"); the raw agent is on hover.
                                                    <span title=s.user_agent.clone()>
                                                        {s.device.clone().unwrap_or_else(|| "Unknown device".into())}
                                                    </span>
                                                    {s.current.then(|| view! { <span class="badge ml-2">"This browser"</span> })}
                                                </p>
                                                <p class="text-sm text-slate-600 dark:text-slate-400">
                                                    {format!("{} · {} · last active ",
                                                        if s.kind == studyhall::accounts::SessionKind::Api { "API token" } else { "Browser" },
                                                        s.ip.clone().unwrap_or_else(|| "unknown address".into()))}
                                                    <LocalTime at=s.last_seen_at />
                                                </p>
                                            </div>
                                            {(!s.current).then(|| view! {
                                                <button type="button" class="button-secondary"
                                                    on:click=move |_| { revoke.dispatch(api::RevokeSession { handle: handle.clone() }); }>
                                                    "Sign out"
                                                </button>
                                            })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The security log: the caller's own recent sign-ins (newest first).
#[component]
fn SignIns() -> impl IntoView {
    let log = api::request_resource("profile sign-ins", || (), |_| api::recent_sign_ins());
    view! {
        <section class="card mt-6" aria-labelledby="sign-ins-heading">
            <h2 id="sign-ins-heading" class="card-title">"Recent sign-ins"</h2>
            <p class="text-sm text-slate-600 dark:text-slate-400">
                "If you do not recognise one, change your password: that signs out every other session."
            </p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match log.await {
                        Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p class="mt-2">"No sign-ins recorded yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="mt-2 divide-y divide-slate-200 dark:divide-slate-800" data-testid="sign-ins">
                                {list.into_iter().map(|s| view! {
                                    <li class="flex flex-wrap items-baseline justify-between gap-x-3 py-2">
                                        <span class="font-medium break-words">{s.device}</span>
                                        <span class="text-sm text-slate-600 dark:text-slate-400">
                                            {if s.kind == studyhall::accounts::SessionKind::Api { "API" } else { "Browser" }}
                                            " · "
                                            <span class="break-all">{s.ip.unwrap_or_else(|| "unknown address".into())}</span>
                                            " · "
                                            <LocalTime at=s.at />
                                        </span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
