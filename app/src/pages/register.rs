//! Self-registration (students).

use crate::api;
use crate::browser;
use crate::components::form::{field_error, focus_first_error, Field, FormAlert};
use leptos::prelude::*;
use leptos_meta::Title;
use studyhall::validate;

#[component]
pub fn RegisterPage() -> impl IntoView {
    let action = ServerAction::<api::Register>::new();
    let time_zone = RwSignal::new("UTC".to_string());
    Effect::new(move |_| {
        if let Some(tz) = browser::time_zone() {
            time_zone.set(tz);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(path)) = action.value().get() {
            browser::go_to(&path);
        }
    });
    let server_error = move || action.value().get().and_then(Result::err);
    let form = NodeRef::<leptos::html::Form>::new();
    focus_first_error(form, server_error);
    let email_local = RwSignal::new(None);
    let name_local = RwSignal::new(None);
    let password_local = RwSignal::new(None);
    // Local checks run as each field is left; the server checks everything again.
    let check = |local: RwSignal<Option<String>>, f: fn(&str) -> Option<String>| {
        Callback::new(move |v: String| local.set(f(&v)))
    };
    view! {
        <Title text="Create an account" />
        <main id="main" class="auth-page">
            <div class="auth-card">
                <h1 class="text-2xl font-bold">"Create your Studyhall account"</h1>
                <p class="mt-2 text-sm text-slate-600 dark:text-slate-400">
                    "Log your learning, keep your streak, and work with your mentor."
                </p>
                <ActionForm action=action node_ref=form attr:class="mt-6 space-y-4" attr:novalidate="true">
                    <Field
                        label="Your name"
                        name="display_name"
                        autocomplete="name"
                        required=true
                        error=field_error(server_error, name_local, "display_name")
                        on_blur=check(name_local, |v| validate::display_name(v).err().map(|e| e.message))
                    />
                    <Field
                        label="Email"
                        name="email"
                        kind="email"
                        autocomplete="email"
                        required=true
                        error=field_error(server_error, email_local, "email")
                        on_blur=check(email_local, |v| validate::email(v).err().map(|e| e.message))
                    />
                    <Field
                        label="Password"
                        name="password"
                        kind="password"
                        autocomplete="new-password"
                        required=true
                        hint=format!("At least {} characters.", validate::PASSWORD_MIN)
                        error=field_error(server_error, password_local, "password")
                        on_blur=check(password_local, |v| validate::password("password", v).err().map(|e| e.message))
                    />
                    <input type="hidden" name="time_zone" prop:value=move || time_zone.get() />
                    <p class="text-xs text-slate-500 dark:text-slate-400">
                        "Time zone: " {move || time_zone.get()} " (you can change it in your profile)"
                    </p>
                    <FormAlert error=Signal::derive(server_error) />
                    <button type="submit" class="button-primary w-full" disabled=move || action.pending().get()>
                        {move || if action.pending().get() { "Creating your account…" } else { "Create account" }}
                    </button>
                </ActionForm>
                <p class="mt-6 text-sm text-slate-600 dark:text-slate-400">
                    "Already have an account? " <a href="/login" class="link">"Sign in"</a>
                </p>
            </div>
        </main>
    }
}
