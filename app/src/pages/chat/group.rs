//! A study group's page (`/chat/groups/{room}`): what it is, its members with who is online (the
//! group room's presence, for members), and what the viewer may do: join or answer an invitation,
//! open the chat, leave; for moderators invite and remove; for the owner hand over and archive.

use super::presence::RoomPresence;
use crate::api::groups as api;
use crate::components::form::{FormAlert, Notice};
use crate::components::time::LocalTime;
use crate::session::use_current_user;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use studyhall::chat::groups::{GroupDetail, Standing};
use studyhall::chat::{MemberRole, RoomId};
use studyhall::AppError;

/// An action's request, run by the page (which reports how it went).
type Call = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), AppError>>>>;

#[component]
pub fn GroupPage() -> impl IntoView {
    let params = use_params_map();
    let room = move || {
        params
            .with(|p| p.get("room").and_then(|r| r.parse::<RoomId>().ok()))
            .unwrap_or(0)
    };
    let reloads = RwSignal::new(0u32);
    // Once per request on the server, which walks the page more than once (see `api::once_per_request`).
    let detail = crate::api::request_resource(
        "group page",
        move || (room(), reloads.get()),
        |(r, _)| api::chat_group(r),
    );
    view! {
        <Title text="Study group" />
        <a href="/chat/groups" class="link">"All study groups"</a>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || detail.get().map(|d| match d {
                Err(e) => view! {
                    <div class="card mt-4" role="alert">
                        <p>{e.to_string()}</p>
                        <p class="mt-1 text-sm">"A private group shows only to its members and the people they invite."</p>
                    </div>
                }.into_any(),
                Ok(d) => view! { <Group d reload=move || reloads.update(|n| *n += 1) /> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Group(d: GroupDetail, reload: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let me = use_current_user().id;
    let room = d.group.room.id;
    let g = d.group.clone();
    let role = match g.standing {
        Standing::Member(r) => Some(r),
        _ => None,
    };
    let (owner, moderates) = (
        role == Some(MemberRole::Owner),
        role.is_some_and(MemberRole::moderates),
    );
    let live = !g.room.archived;
    let error = RwSignal::new(None::<AppError>);
    let notice = RwSignal::new(None::<String>);
    // Who is online: the group room's presence, which only members may follow.
    let presence = role.map(|_| RoomPresence::follow(room, me, None));
    let run = move |what: &'static str, call: Call| {
        spawn_local(async move {
            match call.await {
                Ok(()) => {
                    error.set(None);
                    notice.set(Some(what.to_string()));
                    reload();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let join = move |_| {
        run(
            "You joined the group.",
            Box::pin(async move { api::join_group(room).await.map(|_| ()) }),
        )
    };
    let decline = move |_| run("Invitation declined.", Box::pin(api::decline_group(room)));
    let leave = move |_| run("You left the group.", Box::pin(api::leave_room(room)));
    let confirm = crate::components::confirm::use_confirm();
    let group_name = g.room.name.clone();
    let archive = move |_| {
        let really = Callback::new(move |_| {
            run(
                "The group is archived.",
                Box::pin(async move { api::archive_group(room).await.map(|_| ()) }),
            )
        });
        confirm.ask(crate::components::confirm::Ask::new(
            format!("Archive {group_name}?"),
            "Its history stays readable to its members, but nobody can write in it or join it again. This cannot be undone.",
            "Archive the group",
            really,
        ));
    };
    let members = d.members.clone();
    let others: Vec<(i64, String)> = d
        .members
        .iter()
        .filter(|m| m.person.id != me)
        .map(|m| (m.person.id, m.person.display_name.clone()))
        .collect();
    view! {
        <Title text=g.room.name.clone() />
        <header class="mt-2">
            <h1 class="break-words text-2xl font-bold" data-testid="group-name">{g.room.name.clone()}</h1>
            <p class="text-sm text-slate-600 dark:text-slate-400">
                {if g.public { "Public group" } else { "Private group" }} " · "
                <span data-testid="group-count">{format!("{} of {} members", g.member_count, g.member_limit)}</span>
                {g.room.archived.then_some(" · archived")}
            </p>
            {(!g.room.description.is_empty()).then(|| view! { <p class="mt-2 break-words">{g.room.description.clone()}</p> })}
        </header>
        <FormAlert error=error />
        <Notice message=notice />
        <div class="mt-4 flex flex-wrap gap-2">
            {match g.standing {
                Standing::Member(_) => view! {
                    <a class="button-primary" href=format!("/chat/{room}")>"Open the group's chat"</a>
                    {(!owner).then(|| view! { <button type="button" class="button-secondary" on:click=leave>"Leave"</button> })}
                    {(owner && live).then(|| view! { <button type="button" class="button-secondary" on:click=archive>"Archive the group"</button> })}
                }.into_any(),
                Standing::Invited => view! {
                    <button type="button" class="button-primary" on:click=join>"Accept the invitation"</button>
                    <button type="button" class="button-secondary" on:click=decline>"Decline"</button>
                }.into_any(),
                Standing::Outside => view! {
                    <button type="button" class="button-primary" disabled=g.is_full() || !live on:click=join>
                        {if g.is_full() { "This group is full" } else { "Join" }}
                    </button>
                }.into_any(),
            }}
        </div>
        <section class="card mt-6" aria-labelledby="members-heading">
            <h2 id="members-heading" class="text-lg font-semibold">"Members"</h2>
            <ul class="mt-2 divide-y divide-slate-200 dark:divide-slate-800" data-testid="group-members">
                {members.into_iter().map(|m| {
                    let id = m.person.id;
                    let name = m.person.display_name.clone();
                    let role_word = match m.role { MemberRole::Owner => "owner", MemberRole::Moderator => "moderator", MemberRole::Member => "" };
                    let here = move || presence.is_some_and(|p| p.is_here(id));
                    let remove_label = format!("Remove {name} from the group");
                    let removable = moderates && live && m.role != MemberRole::Owner && id != me;
                    view! {
                        <li class="flex flex-wrap items-center gap-2 py-2" data-testid="group-member">
                            {presence.is_some().then(|| view! {
                                <span class=move || if here() { "h-2 w-2 rounded-full bg-emerald-500" } else { "h-2 w-2 rounded-full bg-slate-400" } aria-hidden="true"></span>
                            })}
                            <span class="min-w-0 flex-1 break-words">
                                {name.clone()}
                                {(!role_word.is_empty()).then(|| view! { <span class="ml-1 text-xs text-slate-600 dark:text-slate-400">{format!("({role_word})")}</span> })}
                                {presence.is_some().then(|| view! { <span class="sr-only">{move || if here() { ", online" } else { ", offline" }}</span> })}
                            </span>
                            <span class="text-xs text-slate-500 dark:text-slate-400">"joined " <LocalTime at=m.joined_at /></span>
                            {removable.then(|| view! {
                                <button type="button" class="link text-sm" aria-label=remove_label
                                    on:click=move |_| run("Removed from the group.", Box::pin(api::remove_from_room(room, id)))>"Remove"</button>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
        {(moderates && live).then(|| view! { <Invite room invited=d.invited.iter().map(|a| a.display_name.clone()).collect() run=run /> })}
        {(owner && live && !others.is_empty()).then(|| view! { <HandOver room others run=run /> })}
    }
}

/// Inviting: people the viewer may talk to who are not in the group yet.
#[component]
fn Invite(
    room: RoomId,
    invited: Vec<String>,
    run: impl Fn(&'static str, Call) + Copy + 'static,
) -> impl IntoView {
    // Loaded in the browser once the page is up (an effect does not run on the server, so the page
    // renders the same on both sides and fills the list after hydrating).
    let people = RwSignal::new(Vec::<studyhall::chat::Author>::new());
    Effect::new(move |_| {
        spawn_local(async move {
            if let Ok(list) = api::invitable_to_group(room).await {
                people.try_set(list);
            }
        });
    });
    let chosen = RwSignal::new(String::new());
    let invite = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Ok(user) = chosen.get_untracked().parse::<i64>() {
            run(
                "Invitation sent.",
                Box::pin(api::invite_to_group(room, user)),
            );
        }
    };
    view! {
        <section class="card mt-6" aria-labelledby="invite-heading">
            <h2 id="invite-heading" class="text-lg font-semibold">"Invite someone"</h2>
            {(!invited.is_empty()).then(|| view! {
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-400" data-testid="group-invited">"Invited, not answered yet: " {invited.join(", ")}</p>
            })}
            <form class="mt-2 flex flex-wrap items-end gap-2" on:submit=invite>
                <div class="min-w-0 flex-1 space-y-1">
                    <label for="invite-person" class="block text-sm font-medium">"Person"</label>
                    <select id="invite-person" class="input" on:change=move |ev| chosen.set(event_target_value(&ev)) data-testid="invite-person">
                        <option value="">"Choose someone…"</option>
                        <For each=move || people.get() key=|p| p.id let:p>
                            <option value=p.id.to_string()>{p.display_name}</option>
                        </For>
                    </select>
                </div>
                <button type="submit" class="button-primary">"Invite"</button>
            </form>
            <p class="mt-1 text-xs text-slate-600 dark:text-slate-400">"You can invite people from your cohort, your mentors and your other groups. They get a notification."</p>
        </section>
    }
}

/// Handing the group over to another member (the owner becomes a moderator).
#[component]
fn HandOver(
    room: RoomId,
    others: Vec<(i64, String)>,
    run: impl Fn(&'static str, Call) + Copy + 'static,
) -> impl IntoView {
    let chosen = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Ok(user) = chosen.get_untracked().parse::<i64>() {
            run(
                "The group has a new owner.",
                Box::pin(async move { api::hand_over_group(room, user).await.map(|_| ()) }),
            );
        }
    };
    view! {
        <section class="card mt-6" aria-labelledby="handover-heading">
            <h2 id="handover-heading" class="text-lg font-semibold">"Hand the group over"</h2>
            <form class="mt-2 flex flex-wrap items-end gap-2" on:submit=submit>
                <div class="min-w-0 flex-1 space-y-1">
                    <label for="handover-person" class="block text-sm font-medium">"New owner"</label>
                    <select id="handover-person" class="input" on:change=move |ev| chosen.set(event_target_value(&ev))>
                        <option value="">"Choose a member…"</option>
                        {others.into_iter().map(|(id, name)| view! { <option value=id.to_string()>{name}</option> }).collect_view()}
                    </select>
                </div>
                <button type="submit" class="button-secondary">"Hand over"</button>
            </form>
        </section>
    }
}
