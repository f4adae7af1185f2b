//! API tokens for integrations: create one (its secret is shown once), see when each was last used,
//! revoke. Admins only.

use crate::api::inbox as api;
use crate::components::form::{field_error, FormAlert};
use crate::components::time::LocalTime;
use crate::session::use_current_user;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use studyhall::accounts::ApiScope;
use studyhall::model::Role;
use studyhall::AppError;

#[component]
pub fn ApiTokensPage() -> impl IntoView {
    let user = use_current_user();
    if user.role != Role::Admin {
        return view! {
            <Title text="API tokens" />
            <p role="alert">"Only administrators manage API tokens."</p>
        }
        .into_any();
    }
    let reload = RwSignal::new(0u32);
    let tokens =
        crate::api::request_resource("admin tokens", move || reload.get(), |_| api::api_tokens());
    let name = RwSignal::new(String::new());
    let scopes = RwSignal::new(Vec::<ApiScope>::new());
    let create = Action::new(move |(n, s): &(String, Vec<ApiScope>)| {
        let (n, s) = (n.clone(), s.clone());
        async move { api::create_api_token(n, s).await }
    });
    let created = move || create.value().get().and_then(Result::ok);
    let server_error = move || create.value().get().and_then(Result::err);
    let none = RwSignal::new(None);
    let error = RwSignal::new(None::<AppError>);
    Effect::new(move |_| {
        if created().is_some() {
            name.set(String::new());
            scopes.set(Vec::new());
            reload.update(|n| *n += 1);
        }
    });
    let revoke = move |id: i64| {
        spawn_local(async move {
            error.set(api::revoke_api_token(id).await.err());
            reload.update(|n| *n += 1);
        })
    };
    view! {
        <Title text="API tokens" />
        <h1 class="text-2xl font-bold">"API tokens"</h1>
        <p class="mt-1 max-w-3xl text-slate-600 dark:text-slate-400">
            "Integrations call the REST API under /api/v1 with "
            <code>"Authorization: Bearer <token>"</code>
            ". A token acts for the admin who created it, only within its scopes. See docs/API.md."
        </p>
        <section class="card mt-6 max-w-2xl" aria-labelledby="new-token-heading">
            <h2 id="new-token-heading" class="card-title">"New token"</h2>
            <form class="space-y-3" novalidate data-testid="token-form" on:submit=move |ev| {
                ev.prevent_default();
                create.dispatch((name.get_untracked(), scopes.get_untracked()));
            }>
                <div>
                    <label class="block text-sm font-medium" for="token-name">"Name"</label>
                    <input id="token-name" class="input" placeholder="e.g. LMS sync" prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev)) />
                    <p class="text-sm text-red-700 dark:text-red-400" role="alert">{field_error(server_error, none, "name")}</p>
                </div>
                <fieldset>
                    <legend class="text-sm font-medium">"Scopes"</legend>
                    {ApiScope::ALL.into_iter().map(|s| view! {
                        <label class="mt-1 flex items-start gap-2 text-sm">
                            <input type="checkbox" class="mt-1" prop:checked=move || scopes.get().contains(&s)
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    scopes.update(|list| { list.retain(|x| *x != s); if on { list.push(s) } });
                                } />
                            <span><code>{s.as_str()}</code> " — " {s.describe()}</span>
                        </label>
                    }).collect_view()}
                    <p class="text-sm text-red-700 dark:text-red-400" role="alert">{field_error(server_error, none, "scopes")}</p>
                </fieldset>
                <FormAlert error=Signal::derive(server_error) />
                <button type="submit" class="button-primary" disabled=move || create.pending().get()>"Create token"</button>
            </form>
            {move || created().map(|c| view! {
                <div class="mt-4 rounded-md border border-amber-300 bg-amber-50 p-3 dark:border-amber-700 dark:bg-amber-950" role="status">
                    <p class="text-sm font-semibold">"Copy this token now. It will not be shown again."</p>
                    <code class="mt-2 block break-all rounded bg-white p-2 text-sm dark:bg-slate-900" data-testid="new-token">{c.token.clone()}</code>
                    <CopyButton text=c.token />
                </div>
            })}
        </section>
        <section class="card mt-6 overflow-x-auto" aria-labelledby="tokens-heading">
            <h2 id="tokens-heading" class="card-title">"Tokens"</h2>
            <FormAlert error=error />
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || tokens.get().map(|r| match r {
                    Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="text-slate-600 dark:text-slate-400">"No tokens yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="admin-table" data-testid="tokens">
                            <thead><tr>
                                <th scope="col">"Name"</th><th scope="col">"Token"</th><th scope="col">"Scopes"</th>
                                <th scope="col">"Created"</th><th scope="col">"Last used"</th><th scope="col">"Status"</th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|t| {
                                    let id = t.id;
                                    view! {
                                        <tr>
                                            <td>{t.name}</td>
                                            <td><code>{t.prefix} "…"</code></td>
                                            <td>{t.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")}</td>
                                            <td><LocalTime at=t.created_at /> <br /> <span class="text-xs">{t.owner_name}</span></td>
                                            <td>{match t.last_used_at { Some(at) => view! { <LocalTime at /> }.into_any(), None => "Never".into_any() }}</td>
                                            <td>{match t.revoked_at {
                                                Some(at) => view! { <span class="badge badge-red">"Revoked " <LocalTime at /></span> }.into_any(),
                                                None => view! { <button type="button" class="button-secondary" on:click=move |_| revoke(id)>"Revoke"</button> }.into_any(),
                                            }}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
    .into_any()
}

/// Copies the new token and says so beside the button (a live region), or asks to copy by hand.
#[component]
fn CopyButton(text: String) -> impl IntoView {
    let said = RwSignal::new(None::<&'static str>);
    let text = StoredValue::new(text);
    let copy = move |_| {
        leptos::task::spawn_local(async move {
            let ok = crate::browser::copy_text(&text.get_value()).await;
            said.try_set(Some(if ok {
                "Copied."
            } else {
                "Could not copy: select the token and copy it yourself."
            }));
        });
    };
    view! {
        <div class="mt-2 flex flex-wrap items-center gap-3">
            <button type="button" class="button-secondary" on:click=copy data-testid="copy-token">"Copy token"</button>
            // Inside the panel's status region, so the change is announced.
            <span class="text-sm" data-testid="copy-result">{move || said.get()}</span>
        </div>
    }
}
