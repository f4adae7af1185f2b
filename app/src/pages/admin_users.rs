//! User administration: find users, change role, cohort, mentors and access, revoke sessions, create
//! users and cohorts. Admins only (the server checks every call; the page only hides itself).
//! Access and role changes ask first (`components::confirm`); every change says when it is done. A row
//! keeps its own state after a change rather than reloading the table, so focus stays where it was.

use crate::api::{self, AdminChange, AdminQuery};
use crate::components::confirm::{use_confirm, use_status, Ask, ConfirmButton, Status};
use crate::components::form::{field_error, focus_first_error, Field, FormAlert, Notice};
use crate::components::time::LocalTime;
use crate::session::use_current_user;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use studyhall::accounts::AdminUserRow;
use studyhall::model::{Cohort, Role, User};
use studyhall::AppError;

/// Cohorts and mentors, for the pickers.
type AdminOptions = (Vec<Cohort>, Vec<User>);

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let me = use_current_user();
    if me.role != Role::Admin {
        return view! {
            <Title text="Users" />
            <h1 class="text-2xl font-bold">"Users"</h1>
            <p role="alert" class="mt-4">"Only administrators can manage users."</p>
        }
        .into_any();
    }
    let search = RwSignal::new(String::new());
    let role = RwSignal::new(None::<Role>);
    let page = RwSignal::new(1i64);
    let change_error = RwSignal::new(None::<AppError>);
    let create = ServerAction::<api::AdminCreateUser>::new();
    let create_cohort = ServerAction::<api::AdminCreateCohort>::new();
    let users = api::request_resource(
        "admin users",
        move || {
            (
                AdminQuery {
                    search: search.get(),
                    role: role.get(),
                    page: page.get(),
                },
                create.version().get(),
            )
        },
        |(query, _)| api::admin_users(query),
    );
    let options = api::request_resource(
        "admin options",
        move || create_cohort.version().get(),
        |_| api::admin_options(),
    );
    view! {
        <Title text="Users" />
        <h1 class="text-2xl font-bold">"Users"</h1>
        <div class="mt-4 flex flex-wrap items-end gap-3" role="search">
            <div>
                <label for="user-search" class="block text-sm font-medium">"Search"</label>
                <input id="user-search" type="search" class="input" placeholder="Name or email"
                    on:input=move |ev| { search.set(event_target_value(&ev)); page.set(1); } />
            </div>
            <div>
                <label for="role-filter" class="block text-sm font-medium">"Role"</label>
                <select id="role-filter" class="input"
                    on:change=move |ev| { role.set(Role::parse(&event_target_value(&ev))); page.set(1); }>
                    <option value="">"All roles"</option>
                    {Role::ALL.iter().map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
                </select>
            </div>
        </div>
        <FormAlert error=change_error />
        <Transition fallback=|| view! { <p class="mt-4">"Loading users…"</p> }>
            {move || Suspend::new(async move {
                let (cohorts, mentors) = options.await.unwrap_or_default();
                match users.await {
                    Err(e) => view! { <p role="alert" class="mt-4">{e.to_string()}</p> }.into_any(),
                    Ok(p) => {
                        let pages = ((p.total + p.per_page - 1) / p.per_page).max(1);
                        // Outside `view!`: a `<` or `>` in an attribute there ends the tag.
                        let first = move || page.get() <= 1;
                        let last = move || page.get() >= pages;
                        view! {
                            <p class="mt-4 text-sm text-slate-600 dark:text-slate-400" role="status">
                                {format!("{} user{}", p.total, if p.total == 1 { "" } else { "s" })}
                            </p>
                            <div class="mt-2 overflow-x-auto">
                                <table class="admin-table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"User"</th>
                                            <th scope="col">"Role"</th>
                                            <th scope="col">"Cohort"</th>
                                            <th scope="col">"Mentors"</th>
                                            <th scope="col">"Access"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {p.items.into_iter().map(|row| view! {
                                            <UserRow row cohorts=cohorts.clone() mentors=mentors.clone() error=change_error />
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <nav aria-label="Pages" class="mt-3 flex flex-wrap items-center gap-3">
                                <button type="button" class="button-secondary" disabled=first
                                    on:click=move |_| page.update(|n| *n = (*n - 1).max(1))>"Previous"</button>
                                <span class="text-sm" data-testid="page-indicator">{format!("Page {} of {pages}", p.page)}</span>
                                <button type="button" class="button-secondary" disabled=last
                                    on:click=move |_| page.update(|n| *n = (*n + 1).min(pages))>"Next"</button>
                            </nav>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
        <div class="mt-8 grid gap-6 lg:grid-cols-2">
            <CreateUserForm action=create options />
            <CreateCohortForm action=create_cohort />
        </div>
    }
    .into_any()
}

/// Sends one change; on success runs `done` and says `message`, else shows the error above the table.
fn send(
    id: i64,
    change: AdminChange,
    message: String,
    (status, error): (Status, RwSignal<Option<AppError>>),
    done: impl FnOnce() + 'static,
    failed: impl FnOnce() + 'static,
) {
    spawn_local(async move {
        match api::admin_change_user(id, change).await {
            Ok(()) => {
                error.set(None);
                done();
                status.say(message);
            }
            Err(e) => {
                error.set(Some(e));
                failed();
            }
        }
    });
}

#[component]
fn UserRow(
    row: AdminUserRow,
    cohorts: Vec<Cohort>,
    mentors: Vec<User>,
    error: RwSignal<Option<AppError>>,
) -> impl IntoView {
    let me = use_current_user();
    let confirm = use_confirm();
    let out = (use_status(), error);
    let user = row.user.clone();
    let id = user.id;
    let name = user.display_name.clone();
    let is_me = me.id == id;
    let role = RwSignal::new(user.role);
    let disabled = RwSignal::new(user.disabled);
    let sessions = RwSignal::new(row.active_sessions);
    let assigned = RwSignal::new(row.mentor_ids.clone());
    let change_role = {
        let name = name.clone();
        move |to: Role| {
            let was = role.get_untracked();
            if to == was {
                return;
            }
            let message = format!("Role changed to {}", to.label().to_lowercase());
            let yes = Callback::new(move |_| {
                send(
                    id,
                    AdminChange::Role(to),
                    message.clone(),
                    out,
                    move || role.set(to),
                    move || role.set(was),
                )
            });
            // Puts the select back (set notifies even when the value is the same).
            let no = Callback::new(move |_| role.set(was));
            confirm.ask(
                Ask::new(
                    format!(
                        "Make {name} {} {}?",
                        if to == Role::Admin { "an" } else { "a" },
                        to.label().to_lowercase()
                    ),
                    format!(
                        "{name} gets the {} pages and permissions from their next page load.",
                        to.label().to_lowercase()
                    ),
                    "Change role",
                    yes,
                )
                .on_cancel(no),
            );
        }
    };
    let access = {
        let name = name.clone();
        Callback::new(move |_| {
            let to = !disabled.get_untracked();
            let message = if to {
                format!("{name}'s account disabled")
            } else {
                format!("{name}'s account enabled")
            };
            send(
                id,
                AdminChange::Disabled(to),
                message,
                out,
                move || {
                    disabled.set(to);
                    if to {
                        sessions.set(0)
                    }
                },
                || (),
            );
        })
    };
    let revoke = {
        let name = name.clone();
        Callback::new(move |_| {
            send(
                id,
                AdminChange::RevokeSessions,
                format!("{name} signed out everywhere"),
                out,
                move || sessions.set(0),
                || (),
            )
        })
    };
    let n1 = name.clone();
    let n2 = name.clone();
    let cohort_names = cohorts.clone();
    view! {
        <tr data-testid=format!("user-row-{}", user.email)>
            <td data-label="User" class="min-w-0 break-words">
                <p class="font-medium">{user.display_name.clone()}</p>
                <p class="text-sm text-slate-600 dark:text-slate-400">{user.email.clone()}</p>
                <p class="text-xs text-slate-500">
                    "joined " <LocalTime at=user.created_at />
                    {move || { let n = sessions.get(); format!(" · {n} active session{}", if n == 1 { "" } else { "s" }) }}
                </p>
            </td>
            <td data-label="Role">
                <label class="sr-only" for=format!("role-{id}")>{format!("Role of {}", user.display_name)}</label>
                <select id=format!("role-{id}") class="input" disabled=is_me
                    prop:value=move || role.get().as_str()
                    on:change=move |ev| { if let Some(r) = Role::parse(&event_target_value(&ev)) { change_role(r) } }>
                    {Role::ALL.iter().map(|r| {
                        let r = *r;
                        view! { <option value=r.as_str() selected=move || role.get() == r>{r.label()}</option> }
                    }).collect_view()}
                </select>
            </td>
            <td data-label="Cohort">
                <label class="sr-only" for=format!("cohort-{id}")>{format!("Cohort of {}", user.display_name)}</label>
                <select id=format!("cohort-{id}") class="input"
                    on:change=move |ev| {
                        let to: Option<i64> = event_target_value(&ev).parse().ok();
                        let label = to.and_then(|c| cohort_names.iter().find(|x| x.id == c)).map_or("none".to_string(), |c| c.name.clone());
                        send(id, AdminChange::Cohort(to), format!("Cohort changed to {label}"), out, || (), || ());
                    }>
                    <option value="" selected=user.cohort_id.is_none()>"None"</option>
                    {cohorts.iter().map(|c| view! {
                        <option value=c.id.to_string() selected=Some(c.id) == user.cohort_id>{c.name.clone()}</option>
                    }).collect_view()}
                </select>
            </td>
            <td data-label="Mentors">
                {move || if role.get() == Role::Student {
                    view! {
                        <fieldset>
                            <legend class="sr-only">{format!("Mentors of {}", n1)}</legend>
                            {mentors.iter().map(|m| {
                                let mid = m.id;
                                view! {
                                    <label class="flex items-center gap-2 text-sm">
                                        <input type="checkbox" checked=assigned.with_untracked(|a| a.contains(&mid))
                                            prop:checked=move || assigned.with(|a| a.contains(&mid)) on:change=move |ev| {
                                            let mut ids: Vec<i64> = assigned.get_untracked().into_iter().filter(|x| *x != mid).collect();
                                            if event_target_checked(&ev) { ids.push(mid); }
                                            let keep = ids.clone();
                                            send(id, AdminChange::Mentors(ids), "Mentors updated".into(), out, move || assigned.set(keep), || ());
                                        } />
                                        {m.display_name.clone()}
                                    </label>
                                }
                            }).collect_view()}
                        </fieldset>
                    }.into_any()
                } else {
                    view! { <span class="text-sm text-slate-500">"—"</span> }.into_any()
                }}
            </td>
            <td data-label="Access" class="space-y-1">
                {move || if disabled.get() {
                    view! { <span class="badge badge-red">"Disabled"</span> }.into_any()
                } else {
                    view! { <span class="badge">"Active"</span> }.into_any()
                }}
                {(!is_me).then(|| {
                    let n = n2.clone();
                    let (n_title, n_msg, n_revoke) = (n.clone(), n.clone(), n.clone());
                    view! {
                        <div class="flex flex-wrap gap-1">
                            <ConfirmButton
                                label=Signal::derive(move || if disabled.get() { "Enable".to_string() } else { "Disable".to_string() })
                                title=Signal::derive(move || if disabled.get() { format!("Enable {n_title}'s account?") } else { format!("Disable {n_title}'s account?") })
                                message=Signal::derive(move || if disabled.get() {
                                    format!("{n_msg} can sign in again with their password.")
                                } else {
                                    format!("{n_msg} is signed out everywhere and cannot sign in until an admin enables the account.")
                                })
                                confirm_label=Signal::derive(move || if disabled.get() { "Enable account".to_string() } else { "Disable account".to_string() })
                                danger=Signal::derive(move || !disabled.get())
                                on_confirm=access />
                            <ConfirmButton
                                label="Sign out everywhere"
                                title=format!("Sign {n_revoke} out everywhere?")
                                message="Every session of theirs ends now, on every device; they can sign in again."
                                confirm_label="Sign out everywhere"
                                on_confirm=revoke />
                        </div>
                    }
                })}
            </td>
        </tr>
    }
}

#[component]
fn CreateUserForm(
    action: ServerAction<api::AdminCreateUser>,
    options: Resource<Result<AdminOptions, studyhall::AppError>>,
) -> impl IntoView {
    let server_error = move || action.value().get().and_then(Result::err);
    let form = NodeRef::<leptos::html::Form>::new();
    focus_first_error(form, server_error);
    let created = Signal::derive(move || match action.value().get() {
        Some(Ok(u)) => Some(format!("Created {} ({}).", u.display_name, u.role.label())),
        _ => None,
    });
    let none = RwSignal::new(None);
    view! {
        <section class="card" aria-labelledby="create-user-heading">
            <h2 id="create-user-heading" class="card-title">"Add a user"</h2>
            <ActionForm action=action node_ref=form attr:class="space-y-3" attr:novalidate="true">
                <Field label="Name" name="display_name" error=field_error(server_error, none, "display_name") />
                <Field label="Email" name="email" kind="email" error=field_error(server_error, none, "email") />
                <Field label="Initial password" name="password" kind="password" autocomplete="new-password"
                    error=field_error(server_error, none, "password") />
                <div>
                    <label for="new-role" class="block text-sm font-medium">"Role"</label>
                    <select id="new-role" name="role" class="input">
                        <option value="student">"Student"</option>
                        <option value="mentor">"Mentor"</option>
                        <option value="admin">"Admin"</option>
                    </select>
                </div>
                <div>
                    <label for="new-cohort" class="block text-sm font-medium">"Cohort"</label>
                    <select id="new-cohort" name="cohort_id" class="input">
                        <option value="">"None"</option>
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                options.await.map(|(c, _)| c).unwrap_or_default().into_iter().map(|c| view! {
                                    <option value=c.id.to_string()>{c.name}</option>
                                }).collect_view()
                            })}
                        </Transition>
                    </select>
                </div>
                <FormAlert error=Signal::derive(server_error) />
                <Notice message=created />
                <button type="submit" class="button-primary" disabled=move || action.pending().get()>"Add user"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn CreateCohortForm(action: ServerAction<api::AdminCreateCohort>) -> impl IntoView {
    let server_error = move || action.value().get().and_then(Result::err);
    let form = NodeRef::<leptos::html::Form>::new();
    focus_first_error(form, server_error);
    let created = Signal::derive(move || match action.value().get() {
        Some(Ok(c)) => Some(format!("Created cohort {}.", c.name)),
        _ => None,
    });
    view! {
        <section class="card" aria-labelledby="create-cohort-heading">
            <h2 id="create-cohort-heading" class="card-title">"Add a cohort"</h2>
            <ActionForm action=action node_ref=form attr:class="space-y-3" attr:novalidate="true">
                <Field label="Cohort name" name="name" error=field_error(server_error, RwSignal::new(None), "name") />
                <FormAlert error=Signal::derive(server_error) />
                <Notice message=created />
                <button type="submit" class="button-primary" disabled=move || action.pending().get()>"Add cohort"</button>
            </ActionForm>
        </section>
    }
}
