//! Form pieces with accessible labels, hints and inline errors.

use leptos::prelude::*;
use studyhall::AppError;

/// A labelled input. `error` shows under the field and marks it invalid for screen readers.
#[component]
pub fn Field(
    #[prop(into)] label: String,
    #[prop(into)] name: String,
    #[prop(into, default = "text".to_string())] kind: String,
    #[prop(into, optional)] autocomplete: Option<String>,
    #[prop(into, optional)] hint: Option<String>,
    #[prop(into, optional)] value: Option<Signal<String>>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional)] on_blur: Option<Callback<String>>,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = {
        let (error_id, hint_id, has_hint) = (error_id.clone(), hint_id.clone(), hint.is_some());
        move || {
            let mut ids = Vec::new();
            if has_hint {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="space-y-1">
            <label for=id.clone() class="block text-sm font-medium">{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required=required
                prop:value=move || value.map(|v| v.get()).unwrap_or_default()
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=described
                on:blur=move |ev| {
                    if let Some(cb) = on_blur {
                        cb.run(event_target_value(&ev));
                    }
                }
                class="input"
            />
            {hint.map(|h| view! { <p id=hint_id class="text-xs text-slate-500 dark:text-slate-400">{h}</p> })}
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
