//! The hydrate entry point: the browser runs this once the server-rendered page has loaded.

#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Hydration is asynchronous because a page may be a lazy route: its WASM chunk is fetched before
    // its server-rendered HTML can be hydrated.
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document()
            .body()
            .expect("the page has a body");
        let app = leptos::mount::hydrate_from_async(body, app::App).await;
        app.forget();
        // A marker for end-to-end tests (and curious developers): event handlers are attached from
        // here on.
        if let Some(window) = web_sys::window() {
            let _ = js_sys::Reflect::set(&window, &"__studyhall_hydrated".into(), &true.into());
        }
    });
}
