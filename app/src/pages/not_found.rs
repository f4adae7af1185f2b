//! The 404 page: in the signed-in frame (header and navigation) for a signed-in user, bare for anyone
//! else, always with a real 404 status.

use crate::components::layout::SignedInIfAny;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <SignedInIfAny>
            <div class="mx-auto max-w-xl py-16 text-center" data-testid="not-found">
                <p class="text-sm font-semibold text-indigo-600 dark:text-indigo-400">"404"</p>
                <h1 class="mt-2 text-3xl font-bold">"This page does not exist"</h1>
                <p class="mt-4 text-slate-600 dark:text-slate-400">
                    "The link may be old, or the address mistyped."
                </p>
                <a href="/" class="button-primary mt-8 inline-block">"Go to your dashboard"</a>
            </div>
        </SignedInIfAny>
    }
}
