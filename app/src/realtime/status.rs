//! The connection status indicator: silent while connected, a short notice with a retry button when
//! reconnecting or offline, announced politely to screen readers.

use super::{use_realtime, ConnectionState};
use leptos::prelude::*;

#[component]
pub fn ConnectionStatus() -> impl IntoView {
    let realtime = use_realtime();
    let state = realtime.state;
    let message = move || match state.get() {
        ConnectionState::Idle | ConnectionState::Open => None,
        ConnectionState::Reconnecting { .. } => Some(("Reconnecting…", true)),
        ConnectionState::Offline => Some(("You are offline", true)),
        ConnectionState::SignedOut => Some(("Signed out", false)),
        ConnectionState::Outdated => Some(("Studyhall was updated", false)),
    };
    let link = move || match state.get() {
        ConnectionState::Outdated => ("/", "Reload"),
        _ => ("/login", "Sign in"),
    };
    view! {
        <div role="status" aria-live="polite" data-testid="connection-status"
            data-state=move || format!("{:?}", state.get()).to_lowercase()>
            {move || message().map(|(text, retry)| view! {
                <span class="inline-flex items-center gap-2 rounded-full bg-amber-100 px-3 py-1 text-xs font-medium text-amber-900 dark:bg-amber-900 dark:text-amber-100">
                    {text}
                    {retry.then(|| view! {
                        <button type="button" class="underline" on:click=move |_| realtime.retry()>"Retry"</button>
                    })}
                    {(!retry).then(|| view! { <a class="underline" href=link().0 rel="external">{link().1}</a> })}
                </span>
            })}
        </div>
    }
}
