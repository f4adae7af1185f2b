//! The hydrate entry point: the browser runs this once the server-rendered page has loaded.

#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // A marker for end-to-end tests (and curious developers): event handlers are attached from here on.
    if let Some(window) = web_sys::window() {
        let _ = js_sys::Reflect::set(&window, &"__studyhall_hydrated".into(), &true.into());
    }
}
