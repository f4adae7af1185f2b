//! The dark-mode toggle. The choice is remembered in a cookie; with none, the system's preference rules.

use crate::browser;
use leptos::prelude::*;

#[component]
pub fn ThemeToggle() -> impl IntoView {
    // Unknown until hydrated: the server cannot see the system preference.
    let dark = RwSignal::new(None::<bool>);
    Effect::new(move |_| dark.set(Some(browser::is_dark())));
    let label = move || match dark.get() {
        Some(true) => "Switch to light mode",
        Some(false) => "Switch to dark mode",
        None => "Toggle dark mode",
    };
    view! {
        <button
            type="button"
            class="icon-button"
            data-testid="theme-toggle"
            aria-label=label
            title=label
            aria-pressed=move || dark.get().map(|d| if d { "true" } else { "false" })
            on:click=move |_| {
                let next = !browser::is_dark();
                browser::set_dark(next);
                dark.set(Some(next));
            }
        >
            <span aria-hidden="true" class="hidden dark:inline">"☀"</span>
            <span aria-hidden="true" class="inline dark:hidden">"☾"</span>
        </button>
    }
}
