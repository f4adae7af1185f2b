//! The few browser calls the app makes directly. On the server they do nothing.

/// A full page load of a local path: after sign-in and sign-out every piece of state starts fresh.
pub fn go_to(path: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// The browser's IANA time zone, if it says.
pub fn time_zone() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let options =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
                .resolved_options();
        js_sys::Reflect::get(&options, &"timeZone".into())
            .ok()
            .and_then(|v| v.as_string())
    }
    #[cfg(not(feature = "hydrate"))]
    None
}

pub fn is_dark() -> bool {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
            .is_some_and(|e| e.class_list().contains("dark"))
    }
    #[cfg(not(feature = "hydrate"))]
    false
}

/// Switches the theme now and remembers the choice for a year (a plain cookie, so the server could
/// read it too; nothing secret).
pub fn set_dark(dark: bool) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        if let Some(root) = doc.document_element() {
            let _ = root.class_list().toggle_with_force("dark", dark);
        }
        if let Ok(html) = doc.dyn_into::<web_sys::HtmlDocument>() {
            let value = if dark { "dark" } else { "light" };
            let _ = html.set_cookie(&format!(
                "theme={value}; Path=/; Max-Age=31536000; SameSite=Lax"
            ));
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = dark;
}
