//! User administration: find users, change role, cohort, mentors and access, revoke sessions, create
//! users and cohorts. Admins only (the server checks every call; the page only hides itself).

use crate::api::{self, AdminChange, AdminQuery};
use crate::components::form::{field_error, Field, FormAlert, Notice};
use crate::components::time::LocalTime;
use crate::session::use_current_user;
use leptos::prelude::*;
use leptos_meta::Title;
use studyhall::model::{AdminUserRow, Cohort, Role, User};

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
    let change = ServerAction::<api::AdminChangeUser>::new();
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
                change.version().get(),
                create.version().get(),
            )
        },
        |(query, _, _)| api::admin_users(query),
    );
    let options = api::request_resource(
        "admin options",
        move || create_cohort.version().get(),
        |_| api::admin_options(),
    );
    let change_error = Signal::derive(move || change.value().get().and_then(Result::err));
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
                                            <UserRow row cohorts=cohorts.clone() mentors=mentors.clone() change />
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <nav aria-label="Pages" class="mt-3 flex items-center gap-3">
                                <button type="button" class="button-secondary" disabled=move || page.get() <= 1
                                    on:click=move |_| page.update(|n| *n -= 1)>"Previous"</button>
                                <span class="text-sm">{format!("Page {} of {pages}", p.page)}</span>
                                <button type="button" class="button-secondary" disabled=move || page.get() >= pages
                                    on:click=move |_| page.update(|n| *n += 1)>"Next"</button>
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

#[component]
fn UserRow(
    row: AdminUserRow,
    cohorts: Vec<Cohort>,
    mentors: Vec<User>,
    change: ServerAction<api::AdminChangeUser>,
) -> impl IntoView {
    let me = use_current_user();
    let user = row.user.clone();
    let id = user.id;
    let is_me = me.id == id;
    let send = move |c: AdminChange| {
        change.dispatch(api::AdminChangeUser {
            user_id: id,
            change: c,
        });
    };
    let assigned = row.mentor_ids.clone();
    view! {
        <tr data-testid=format!("user-row-{}", user.email)>
            <td>
                <p class="font-medium">{user.display_name.clone()}</p>
                <p class="text-sm text-slate-600 dark:text-slate-400">{user.email.clone()}</p>
                <p class="text-xs text-slate-500">
                    "joined " <LocalTime at=user.created_at />
                    {format!(" · {} active session{}", row.active_sessions,
                        if row.active_sessions == 1 { "" } else { "s" })}
                </p>
            </td>
            <td>
                <label class="sr-only" for=format!("role-{id}")>{format!("Role of {}", user.display_name)}</label>
                <select id=format!("role-{id}") class="input" disabled=is_me
                    on:change=move |ev| { if let Some(r) = Role::parse(&event_target_value(&ev)) { send(AdminChange::Role(r)) } }>
                    {Role::ALL.iter().map(|r| view! {
                        <option value=r.as_str() selected=*r == user.role>{r.label()}</option>
                    }).collect_view()}
                </select>
            </td>
            <td>
                <label class="sr-only" for=format!("cohort-{id}")>{format!("Cohort of {}", user.display_name)}</label>
                <select id=format!("cohort-{id}") class="input"
                    on:change=move |ev| send(AdminChange::Cohort(event_target_value(&ev).parse().ok()))>
                    <option value="" selected=user.cohort_id.is_none()>"None"</option>
                    {cohorts.iter().map(|c| view! {
                        <option value=c.id.to_string() selected=Some(c.id) == user.cohort_id>{c.name.clone()}</option>
                    }).collect_view()}
                </select>
            </td>
            <td>
                {if user.role == Role::Student {
                    let assigned = assigned.clone();
                    view! {
                        <fieldset>
                            <legend class="sr-only">{format!("Mentors of {}", user.display_name)}</legend>
                            {mentors.iter().map(|m| {
                                let mid = m.id;
                                let checked = assigned.contains(&mid);
                                let assigned = assigned.clone();
                                view! {
                                    <label class="flex items-center gap-2 text-sm">
                                        <input type="checkbox" checked=checked on:change=move |ev| {
                                            let mut ids: Vec<i64> = assigned.iter().copied().filter(|x| *x != mid).collect();
                                            if event_target_checked(&ev) { ids.push(mid); }
                                            send(AdminChange::Mentors(ids));
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
            <td class="space-y-1">
                {if user.disabled {
                    view! { <span class="badge badge-red">"Disabled"</span> }.into_any()
                } else {
                    view! { <span class="badge">"Active"</span> }.into_any()
                }}
                {(!is_me).then(|| {
                    let disabled = user.disabled;
                    view! {
                        <div class="flex flex-wrap gap-1">
                            <button type="button" class="button-secondary" on:click=move |_| send(AdminChange::Disabled(!disabled))>
                                {if disabled { "Enable" } else { "Disable" }}
                            </button>
                            <button type="button" class="button-secondary" on:click=move |_| send(AdminChange::RevokeSessions)>
                                "Sign out everywhere"
                            </button>
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
    let created = Signal::derive(move || match action.value().get() {
        Some(Ok(u)) => Some(format!("Created {} ({}).", u.display_name, u.role.label())),
        _ => None,
    });
    let none = RwSignal::new(None);
    view! {
        <section class="card" aria-labelledby="create-user-heading">
            <h2 id="create-user-heading" class="card-title">"Add a user"</h2>
            <ActionForm action=action attr:class="space-y-3" attr:novalidate="true">
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
    let created = Signal::derive(move || match action.value().get() {
        Some(Ok(c)) => Some(format!("Created cohort {}.", c.name)),
        _ => None,
    });
    view! {
        <section class="card" aria-labelledby="create-cohort-heading">
            <h2 id="create-cohort-heading" class="card-title">"Add a cohort"</h2>
            <ActionForm action=action attr:class="space-y-3" attr:novalidate="true">
                <Field label="Cohort name" name="name" error=field_error(server_error, RwSignal::new(None), "name") />
                <FormAlert error=Signal::derive(server_error) />
                <Notice message=created />
                <button type="submit" class="button-primary" disabled=move || action.pending().get()>"Add cohort"</button>
            </ActionForm>
        </section>
    }
}
