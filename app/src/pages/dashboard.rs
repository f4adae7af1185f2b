//! The signed-in home: who you are, your cohort, and the people you work with.

use super::announcements::AnnouncementsPanel;
use crate::api;
use crate::format;
use crate::session::use_current_user;
use leptos::prelude::*;
use leptos_meta::Title;
use studyhall::model::{PersonRef, Role};

#[component]
pub fn DashboardPage() -> impl IntoView {
    let user = use_current_user();
    let overview = Resource::new(|| (), |_| api::load_overview());
    view! {
        <Title text="Dashboard" />
        <h1 class="text-2xl font-bold">"Welcome, " {user.display_name.clone()}</h1>
        <p class="mt-1 text-slate-600 dark:text-slate-400">{user.role.label()} " · " {user.time_zone.clone()}</p>
        <div class="mt-6">
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
                                    {p.last_seen_at.map(format::utc).unwrap_or_else(|| "never".into())}
                                </p>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}
