//! The study groups page (`/chat/groups`): invitations waiting for the viewer (accept or decline),
//! their groups, public groups to join in one click, and a form to start a group.

use crate::api::groups as api;
use crate::components::form::{FormAlert, Notice};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use studyhall::chat::groups::{
    GroupSummary, NewGroup, Standing, GROUP_LIMIT_DEFAULT, GROUP_LIMIT_MAX, GROUP_LIMIT_MIN,
};
use studyhall::chat::ROOM_NAME_MAX;
use studyhall::AppError;

#[component]
pub fn GroupsPage() -> impl IntoView {
    let reloads = RwSignal::new(0u32);
    // Once per request on the server, which walks the page more than once (see `api::once_per_request`).
    let directory =
        crate::api::request_resource("groups page", move || reloads.get(), |_| api::chat_groups());
    let error = RwSignal::new(None::<AppError>);
    let notice = RwSignal::new(None::<String>);
    let reload = move || reloads.update(|n| *n += 1);
    let act = move |room: i64, accept: bool| {
        spawn_local(async move {
            let done = if accept {
                api::join_group(room).await.map(|g| {
                    crate::browser::go_to(&format!("/chat/{}", g.room.id));
                })
            } else {
                api::decline_group(room).await
            };
            match done {
                Ok(()) => {
                    error.set(None);
                    if !accept {
                        notice.set(Some("Invitation declined.".into()));
                    }
                    reload();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <Title text="Study groups" />
        <div class="flex flex-wrap items-baseline justify-between gap-2">
            <h1 class="text-2xl font-bold">"Study groups"</h1>
            <a href="/chat" class="link">"Back to chat"</a>
        </div>
        <FormAlert error=error />
        <Notice message=notice />
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || directory.get().map(|d| match d {
                Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                Ok(d) => view! {
                    {(!d.invitations.is_empty()).then(|| view! {
                        <section class="mt-4" aria-labelledby="invitations-heading" data-testid="group-invitations">
                            <h2 id="invitations-heading" class="text-lg font-semibold">"Invitations"</h2>
                            <ul class="mt-2 space-y-2">
                                {d.invitations.into_iter().map(|g| {
                                    let room = g.room.id;
                                    view! {
                                        <li><GroupCard g>
                                            <button type="button" class="button-primary" on:click=move |_| act(room, true)>"Accept"</button>
                                            <button type="button" class="button-secondary" on:click=move |_| act(room, false)>"Decline"</button>
                                        </GroupCard></li>
                                    }
                                }).collect_view()}
                            </ul>
                        </section>
                    })}
                    <section class="mt-6" aria-labelledby="mine-heading" data-testid="my-groups">
                        <h2 id="mine-heading" class="text-lg font-semibold">"Your groups"</h2>
                        {if d.mine.is_empty() {
                            view! { <p class="mt-2 text-sm text-slate-600 dark:text-slate-400">"You are in no study group yet. Join one below, or start your own."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="mt-2 space-y-2">
                                    {d.mine.into_iter().map(|g| {
                                        let room = g.room.id;
                                        view! { <li><GroupCard g>
                                            <a class="button-secondary" href=format!("/chat/{room}")>"Open chat"</a>
                                        </GroupCard></li> }
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                    </section>
                    <section class="mt-6" aria-labelledby="open-heading" data-testid="open-groups">
                        <h2 id="open-heading" class="text-lg font-semibold">"Open groups"</h2>
                        {if d.open.is_empty() {
                            view! { <p class="mt-2 text-sm text-slate-600 dark:text-slate-400">"No public groups to join right now. Start one and others can find it here."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="mt-2 space-y-2">
                                    {d.open.into_iter().map(|g| {
                                        let (room, full) = (g.room.id, g.is_full());
                                        let label = format!("Join {}", g.room.name);
                                        view! { <li><GroupCard g>
                                            <button type="button" class="button-primary" disabled=full aria-label=label on:click=move |_| act(room, true)>
                                                {if full { "Full" } else { "Join" }}
                                            </button>
                                        </GroupCard></li> }
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                    </section>
                }.into_any(),
            })}
        </Transition>
        <NewGroupForm />
    }
}

/// One group in a list: its name (to its page), kind, size, owner and description, then `children`
/// (the actions).
#[component]
fn GroupCard(g: GroupSummary, children: Children) -> impl IntoView {
    let room = g.room.id;
    let visibility = if g.public { "Public" } else { "Private" };
    let owner = g
        .owner
        .as_ref()
        .map(|o| format!(" · led by {}", o.display_name));
    let invited = (g.standing == Standing::Invited).then_some(" · you are invited");
    view! {
        <article class="card flex flex-wrap items-center gap-3" data-testid="group-card" data-room=room>
            <div class="min-w-0 flex-1">
                <a href=format!("/chat/groups/{room}") class="link font-semibold break-words">{g.room.name.clone()}</a>
                <p class="text-xs text-slate-600 dark:text-slate-400">
                    {visibility} " · " {format!("{} of {} members", g.member_count, g.member_limit)} {owner} {invited}
                    {g.room.archived.then_some(" · archived")}
                </p>
                {(!g.room.description.is_empty()).then(|| view! {
                    <p class="mt-1 break-words text-sm">{g.room.description.clone()}</p>
                })}
            </div>
            <div class="flex gap-2">{children()}</div>
        </article>
    }
}

/// Starting a group: name, what it is for, public or private, and how many may join.
#[component]
fn NewGroupForm() -> impl IntoView {
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let public = RwSignal::new(true);
    let limit = RwSignal::new(GROUP_LIMIT_DEFAULT.to_string());
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let field = move |f: &'static str| move || error.get().and_then(|e| e.field_message(f));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let group = NewGroup {
            name: name.get_untracked(),
            description: description.get_untracked(),
            public: public.get_untracked(),
            // Not a number reads as 0, which the server refuses with the field's message.
            member_limit: limit.get_untracked().trim().parse().unwrap_or(0),
        };
        busy.set(true);
        spawn_local(async move {
            match api::create_group(group).await {
                Ok(made) => crate::browser::go_to(&format!("/chat/groups/{}", made.room.id)),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let form_error = Signal::derive(move || {
        error
            .get()
            .filter(|e| !matches!(e, AppError::Validation { .. }))
    });
    view! {
        <section class="card mt-8" aria-labelledby="new-group-heading">
            <h2 id="new-group-heading" class="text-lg font-semibold">"Start a group"</h2>
            <form class="mt-3 space-y-3" on:submit=submit novalidate=true data-testid="new-group">
                <div class="space-y-1">
                    <label for="group-name" class="block text-sm font-medium">"Name"</label>
                    <input id="group-name" class="input" maxlength=ROOM_NAME_MAX required=true
                        aria-invalid=move || field("name")().is_some().then_some("true") aria-describedby="group-name-error"
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                    <p id="group-name-error" class="text-sm text-red-700 dark:text-red-400" role="alert">{field("name")}</p>
                </div>
                <div class="space-y-1">
                    <label for="group-description" class="block text-sm font-medium">"What it is for (optional)"</label>
                    <textarea id="group-description" class="input" rows="2" maxlength="500"
                        prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev))></textarea>
                </div>
                <div class="flex items-start gap-2">
                    <input id="group-public" type="checkbox" class="mt-1" prop:checked=move || public.get()
                        on:change=move |ev| public.set(event_target_checked(&ev)) aria-describedby="group-public-hint" />
                    <div>
                        <label for="group-public" class="text-sm font-medium">"Public"</label>
                        <p id="group-public-hint" class="text-xs text-slate-600 dark:text-slate-400">"Anyone can find and join a public group. A private one is joined by invitation."</p>
                    </div>
                </div>
                <div class="space-y-1">
                    <label for="group-limit" class="block text-sm font-medium">"Member limit"</label>
                    <input id="group-limit" class="input w-28" type="number" min=GROUP_LIMIT_MIN max=GROUP_LIMIT_MAX
                        aria-invalid=move || field("member_limit")().is_some().then_some("true")
                        aria-describedby="group-limit-hint group-limit-error"
                        prop:value=move || limit.get() on:input=move |ev| limit.set(event_target_value(&ev)) />
                    <p id="group-limit-hint" class="text-xs text-slate-600 dark:text-slate-400">{format!("{GROUP_LIMIT_MIN} to {GROUP_LIMIT_MAX} people, you included.")}</p>
                    <p id="group-limit-error" class="text-sm text-red-700 dark:text-red-400" role="alert">{field("member_limit")}</p>
                </div>
                <FormAlert error=form_error />
                <button type="submit" class="button-primary" disabled=move || busy.get()>"Start the group"</button>
            </form>
        </section>
    }
}
