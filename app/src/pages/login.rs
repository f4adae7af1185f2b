//! Sign in.

use crate::api;
use crate::browser;
use crate::components::form::{field_error, focus_first_error, Field, FormAlert};
use crate::session::use_session;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let session = use_session().0;
    let action = ServerAction::<api::Login>::new();
    let query = use_query_map();
    let next = Signal::derive(move || query.read().get("next").unwrap_or_default());
    Effect::new(move |_| {
        if let Some(Ok(path)) = action.value().get() {
            browser::go_to(&path);
        }
    });
    let server_error = move || action.value().get().and_then(Result::err);
    let form = NodeRef::<leptos::html::Form>::new();
    focus_first_error(form, server_error);
    let email_local = RwSignal::new(None);
    let password_local = RwSignal::new(None);
    let signed_in = move || matches!(session.get(), Some(Ok(Some(_))));
    view! {
        <Title text="Sign in" />
        <Suspense fallback=|| ()>
            <Show when=signed_in>
                <Redirect path="/" />
            </Show>
        </Suspense>
        <main id="main" class="auth-page">
            <div class="auth-card">
                <h1 class="text-2xl font-bold">"Sign in to Studyhall"</h1>
                <ActionForm action=action node_ref=form attr:class="mt-6 space-y-4" attr:novalidate="true">
                    <input type="hidden" name="next" prop:value=next />
                    <Field
                        label="Email"
                        name="email"
                        kind="email"
                        autocomplete="username"
                        required=true
                        error=field_error(server_error, email_local, "email")
                        on_blur=Callback::new(move |v: String| {
                            email_local.set(v.trim().is_empty().then(|| "Enter your email address.".to_string()))
                        })
                    />
                    <Field
                        label="Password"
                        name="password"
                        kind="password"
                        autocomplete="current-password"
                        required=true
                        error=field_error(server_error, password_local, "password")
                    />
                    <FormAlert error=Signal::derive(server_error) />
                    <button type="submit" class="button-primary w-full" disabled=move || action.pending().get()>
                        {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
                <p class="mt-6 text-sm text-slate-600 dark:text-slate-400">
                    "New to Studyhall? " <a href="/register" class="link">"Create an account"</a>
                </p>
            </div>
        </main>
    }
}
