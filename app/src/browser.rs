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

/// A short, quiet two-note chime (Web Audio), for users who turned sound on.
pub fn chime() {
    #[cfg(feature = "hydrate")]
    {
        let Ok(ctx) = web_sys::AudioContext::new() else {
            return;
        };
        let now = ctx.current_time();
        for (i, freq) in [880.0_f32, 1320.0].into_iter().enumerate() {
            let (Ok(osc), Ok(gain)) = (ctx.create_oscillator(), ctx.create_gain()) else {
                return;
            };
            let start = now + i as f64 * 0.12;
            osc.frequency().set_value(freq);
            let _ = gain.gain().set_value_at_time(0.06, start);
            let _ = gain
                .gain()
                .exponential_ramp_to_value_at_time(0.0001, start + 0.25);
            let _ = osc.connect_with_audio_node(&gain);
            let _ = gain.connect_with_audio_node(&ctx.destination());
            let _ = osc.start_with_when(start);
            let _ = osc.stop_with_when(start + 0.3);
        }
    }
}

/// Whether the browser's Notification API may show notifications now.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn desktop_permission_granted() -> bool {
    #[cfg(feature = "hydrate")]
    {
        web_sys::Notification::permission() == web_sys::NotificationPermission::Granted
    }
    #[cfg(not(feature = "hydrate"))]
    false
}

/// Asks for permission to show desktop notifications (must follow a click).
pub fn request_desktop_permission() {
    #[cfg(feature = "hydrate")]
    {
        let _ = web_sys::Notification::request_permission();
    }
}

/// Shows a desktop notification if permission was granted.
pub fn desktop_notify(title: &str, body: &str) {
    #[cfg(feature = "hydrate")]
    if desktop_permission_granted() {
        let options = web_sys::NotificationOptions::new();
        options.set_body(body);
        options.set_tag("studyhall");
        let _ = web_sys::Notification::new_with_options(title, &options);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (title, body);
}

/// Whether the page is on screen (its tab shown, the window not minimised); `false` on the server.
pub fn page_visible() -> bool {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| w.document())
            .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
    }
    #[cfg(not(feature = "hydrate"))]
    false
}

/// Scrolls the element with `id` into the middle of the view once it is rendered (next frame).
pub fn scroll_into_view(id: &str) {
    #[cfg(feature = "hydrate")]
    {
        let id = id.to_string();
        leptos::prelude::request_animation_frame(move || {
            if let Some(el) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id(&id))
            {
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_block(web_sys::ScrollLogicalPosition::Center);
                el.scroll_into_view_with_scroll_into_view_options(&options);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

/// Whether the browser believes it is online (true on the server and when it cannot tell).
pub fn online() -> bool {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window().is_none_or(|w| w.navigator().on_line())
    }
    #[cfg(not(feature = "hydrate"))]
    true
}

/// Milliseconds since the epoch by the browser's clock (0 on the server).
pub fn now_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    0
}

/// Calls `tick` every `ms` milliseconds while the current reactive owner lives (browser only).
pub fn every(ms: u64, tick: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    {
        if let Ok(handle) =
            leptos::prelude::set_interval_with_handle(tick, std::time::Duration::from_millis(ms))
        {
            leptos::prelude::on_cleanup(move || handle.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ms, tick);
}

/// Scrolls the window to the top.
pub fn scroll_to_top() {
    #[cfg(feature = "hydrate")]
    if let Some(w) = web_sys::window() {
        w.scroll_to_with_x_and_y(0.0, 0.0);
    }
}

/// How far the window is scrolled down, in pixels (0 on the server).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn scroll_y() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| w.scroll_y().ok())
            .unwrap_or(0.0)
    }
    #[cfg(not(feature = "hydrate"))]
    0.0
}

/// Copies `text` to the clipboard; `false` when the browser refused (no permission, not a secure
/// context) or on the server.
pub async fn copy_text(text: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        let Some(window) = web_sys::window() else {
            return false;
        };
        let promise = window.navigator().clipboard().write_text(text);
        wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = text;
        false
    }
}

/// Calls `f` once after `ms` milliseconds (browser only).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn after(ms: u64, f: impl FnOnce() + 'static) {
    #[cfg(feature = "hydrate")]
    leptos::prelude::set_timeout(f, std::time::Duration::from_millis(ms));
    #[cfg(not(feature = "hydrate"))]
    let _ = (ms, f);
}

/// Whether the viewer asked their system for less motion.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn prefers_reduced_motion() -> bool {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| {
                w.match_media("(prefers-reduced-motion: reduce)")
                    .ok()
                    .flatten()
            })
            .is_some_and(|m| m.matches())
    }
    #[cfg(not(feature = "hydrate"))]
    true
}

/// Where each element matching `selector` is now (its `data-row-key` and its top), for [`glide`].
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn row_tops(selector: &str) -> Vec<(String, f64)> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(list) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector_all(selector).ok())
        else {
            return Vec::new();
        };
        (0..list.length())
            .filter_map(|i| list.item(i)?.dyn_into::<web_sys::Element>().ok())
            .filter_map(|e| {
                Some((
                    e.get_attribute("data-row-key")?,
                    e.get_bounding_client_rect().top(),
                ))
            })
            .collect()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = selector;
        Vec::new()
    }
}

/// Moves every element matching `selector` that moved since `before` (see [`row_tops`]) back to
/// where it was, then lets it glide to its new place (FLIP), once the page has re-rendered; nothing
/// when the viewer prefers reduced motion.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn glide(selector: &'static str, before: Vec<(String, f64)>) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if prefers_reduced_motion() || before.is_empty() {
            return;
        }
        // After the re-render (the reactive system updates the page in a microtask).
        leptos::prelude::request_animation_frame(move || {
            let Some(list) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.query_selector_all(selector).ok())
            else {
                return;
            };
            let mut moved = Vec::new();
            for i in 0..list.length() {
                let Some(el) = list
                    .item(i)
                    .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
                else {
                    continue;
                };
                let Some(key) = el.get_attribute("data-row-key") else {
                    continue;
                };
                let Some((_, was)) = before.iter().find(|(k, _)| *k == key) else {
                    continue;
                };
                let shift = was - el.get_bounding_client_rect().top();
                if shift.abs() > 0.5 {
                    let style = el.style();
                    let _ = style.set_property("transition", "none");
                    let _ = style.set_property("transform", &format!("translateY({shift}px)"));
                    moved.push(el);
                }
            }
            leptos::prelude::request_animation_frame(move || {
                for el in moved {
                    let style = el.style();
                    let _ = style.set_property("transition", "transform 350ms ease-out");
                    let _ = style.set_property("transform", "");
                }
            });
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (selector, before);
}
