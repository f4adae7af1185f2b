//! Form pieces with accessible labels, hints and inline errors.

use leptos::prelude::*;
use studyhall::AppError;

/// A labelled input. `error` shows under the field and marks it invalid for screen readers.
#[component]
pub fn Field(
    #[prop(into)] label: String,
    #[prop(into)] name: String,
    /// The control's id; `field-{name}` unless the page holds two forms with the same names.
    #[prop(into, optional)]
    id: Option<String>,
    #[prop(into, default = "text".to_string())] kind: String,
    #[prop(into, optional)] autocomplete: Option<String>,
    #[prop(into, optional)] hint: Option<String>,
    #[prop(into, optional)] value: Option<Signal<String>>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional)] on_blur: Option<Callback<String>>,
    #[prop(optional)] required: bool,
    /// A multi-line `<textarea>` of this many rows instead of a one-line input.
    #[prop(optional)]
    rows: Option<u32>,
    #[prop(optional)] maxlength: Option<usize>,
) -> impl IntoView {
    let id = id.unwrap_or_else(|| format!("field-{name}"));
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    // While an error shows, the hint steps aside: the error says what to do ("Use at least 12
    // characters"), and reading both repeated it.
    let described = {
        let (error_id, hint_id, has_hint) = (error_id.clone(), hint_id.clone(), hint.is_some());
        move || match error.get() {
            Some(_) => Some(error_id.clone()),
            None => has_hint.then(|| hint_id.clone()),
        }
    };
    let blur = move |ev: leptos::ev::FocusEvent| {
        if let Some(cb) = on_blur {
            cb.run(event_target_value(&ev));
        }
    };
    let current = move || value.map(|v| v.get()).unwrap_or_default();
    let invalid = move || error.get().is_some().then_some("true");
    let control = match rows {
        Some(rows) => view! {
            <textarea id=id.clone() name=name rows=rows required=required maxlength=maxlength
                prop:value=current aria-invalid=invalid aria-describedby=described on:blur=blur
                class="input"></textarea>
        }
        .into_any(),
        None => view! {
            <input id=id.clone() name=name type=kind autocomplete=autocomplete required=required
                maxlength=maxlength prop:value=current aria-invalid=invalid
                aria-describedby=described on:blur=blur class="input" />
        }
        .into_any(),
    };
    view! {
        <div class="space-y-1">
            <label for=id class="block text-sm font-medium">{label}</label>
            {control}
            {hint.map(|h| view! {
                <p id=hint_id class="text-xs text-slate-500 dark:text-slate-400" class:hidden=move || error.get().is_some()>{h}</p>
            })}
            <p id=error_id class="text-sm text-red-700 dark:text-red-400" role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}

/// The message for one field: the server's answer if it named the field, else the local check.
pub fn field_error(
    server: impl Fn() -> Option<AppError> + Send + Sync + 'static,
    local: RwSignal<Option<String>>,
    field: &'static str,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        local
            .get()
            .or_else(|| server().and_then(|e| e.field_message(field)))
    })
}

/// A form-level error (anything that is not about one field), announced to screen readers.
#[component]
pub fn FormAlert(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().filter(|e| !matches!(e, AppError::Validation { .. })).map(|e| {
            view! {
                <div role="alert" class="rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200">
                    {e.to_string()}
                </div>
            }
        })
    }
}

/// A short confirmation, announced politely.
#[component]
pub fn Notice(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <p role="status" class="text-sm text-emerald-700 dark:text-emerald-400">{move || message.get()}</p>
    }
}

/// Moves focus to the first field a failed submit named (or else the first field marked invalid), so
/// keyboard and screen-reader users land on what to fix. Call it once per form with the form's node
/// and its latest error.
pub fn focus_first_error(
    form: NodeRef<leptos::html::Form>,
    error: impl Fn() -> Option<AppError> + Send + Sync + 'static,
) {
    Effect::new(move |_| {
        let Some(AppError::Validation { fields }) = error() else {
            return;
        };
        let Some(form) = form.get_untracked() else {
            return;
        };
        let named = fields.iter().find_map(|f| {
            form.query_selector(&format!("[name='{}']", f.field))
                .ok()
                .flatten()
        });
        let target = named.or_else(|| form.query_selector("[aria-invalid='true']").ok().flatten());
        if let Some(el) = target.and_then(|e| {
            use wasm_bindgen::JsCast;
            e.dyn_into::<web_sys::HtmlElement>().ok()
        }) {
            let _ = el.focus();
        }
    });
}

/// A key for one attempt at a create, sent as the form field `request_key`, so a double click or a
/// retried submit makes one row: the server answers a repeated key with the row it already made
/// (`studyhall::server::idempotency`). Made in the browser once the page is live (a plain form post
/// before that has no key); call [`RequestKey::renew`] after a success, so the next create is new.
///
/// In an `ActionForm`, put `{key.input()}` inside the form; elsewhere pass `key.get()` with the call.
#[derive(Clone, Copy)]
pub struct RequestKey(RwSignal<String>);

impl RequestKey {
    pub fn new() -> Self {
        let key = RwSignal::new(String::new());
        // Effects run only in the browser, so the server never renders a key it would not see again.
        Effect::new(move |_| {
            if key.get_untracked().is_empty() {
                key.set(fresh_key());
            }
        });
        RequestKey(key)
    }

    pub fn renew(&self) {
        self.0.set(fresh_key());
    }

    pub fn get(&self) -> Option<String> {
        Some(self.0.get_untracked()).filter(|k| !k.is_empty())
    }

    pub fn input(&self) -> impl IntoView {
        let key = self.0;
        view! { <input type="hidden" name="request_key" prop:value=move || key.get() /> }
    }
}

impl Default for RequestKey {
    fn default() -> Self {
        Self::new()
    }
}

/// A random UUID-shaped key from the browser's `crypto.getRandomValues` (available without a secure
/// context, unlike `randomUUID`), with `Math.random` as a last resort.
fn fresh_key() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok())
        .unwrap_or(false);
    if !filled {
        bytes
            .iter_mut()
            .for_each(|b| *b = (js_sys::Math::random() * 256.0) as u8);
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
