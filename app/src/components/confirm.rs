//! The one pattern for destructive actions, and for saying that an action worked.
//!
//! **Ask first, in a dialog.** Anything that takes away data or access (delete a goal or a session,
//! disable or enable an account, sign someone out everywhere, change a role) asks in a modal confirm
//! dialog before it is sent. Undo toasts were the alternative; they are not used because these changes
//! take effect on the server at once and some cannot be taken back (a revoked session stays revoked).
//!
//! The dialog is a native `<dialog>` opened with `showModal()`: the rest of the page is inert, so focus
//! stays inside it; it opens with focus on **Cancel** (the safe choice); Escape or Cancel cancels; on
//! close, focus returns to whatever had it before (the button that asked), or to `#main` if that element
//! is gone (after a delete). One dialog lives in the signed-in layout ([`provide_confirm`]); pages ask
//! through [`use_confirm`] or use [`ConfirmButton`]:
//!
//! ```ignore
//! <ConfirmButton class="link text-red-700" label="Delete"
//!     title="Delete this session?" message="It leaves your totals and cannot be undone."
//!     confirm_label="Delete session" on_confirm=Callback::new(move |_| remove(id)) />
//! // or, for a trigger that is not a button (a select):
//! use_confirm().ask(Ask::new("Make Ana a mentor?", "…", "Change role", on_yes).on_cancel(on_no));
//! ```
//!
//! **Then say it worked.** After the server answers, call [`use_status`]`().say("Role changed to
//! Mentor")`: a short message in one polite live region (screen readers announce it), gone after a few
//! seconds. Errors stay in the page's `FormAlert`, where they can be read at leisure.

use leptos::prelude::*;
use studyhall::AppError;

/// One question for the dialog.
#[derive(Clone)]
pub struct Ask {
    pub title: String,
    pub message: String,
    /// The confirming button's label: the action itself ("Disable account"), never "OK".
    pub confirm_label: String,
    /// Styles the confirming button as dangerous (red). On by default.
    pub danger: bool,
    pub on_confirm: Callback<()>,
    pub on_cancel: Option<Callback<()>>,
}

impl Ask {
    pub fn new(
        title: impl Into<String>,
        message: impl Into<String>,
        confirm_label: impl Into<String>,
        on_confirm: Callback<()>,
    ) -> Self {
        Ask {
            title: title.into(),
            message: message.into(),
            confirm_label: confirm_label.into(),
            danger: true,
            on_confirm,
            on_cancel: None,
        }
    }

    /// Runs `f` when the user cancels (to put a select back, say).
    pub fn on_cancel(mut self, f: Callback<()>) -> Self {
        self.on_cancel = Some(f);
        self
    }
}

/// The page-wide confirm dialog's handle.
#[derive(Clone, Copy)]
pub struct Confirm(RwSignal<Option<Ask>>);

impl Confirm {
    /// Opens the dialog with this question (replacing any open one, which counts as cancelled).
    pub fn ask(&self, ask: Ask) {
        if let Some(old) = self.0.get_untracked().and_then(|a| a.on_cancel) {
            old.run(());
        }
        self.0.set(Some(ask));
    }

    fn finish(&self, confirmed: bool) {
        let Some(ask) = self.0.get_untracked() else {
            return;
        };
        self.0.set(None);
        if confirmed {
            ask.on_confirm.run(());
        } else if let Some(cancel) = ask.on_cancel {
            cancel.run(());
        }
    }
}

/// The short success message's handle.
#[derive(Clone, Copy)]
pub struct Status(RwSignal<Option<(u64, String)>>);

impl Status {
    /// Shows `message` for five seconds (a newer message replaces it).
    pub fn say(&self, message: impl Into<String>) {
        let serial = self
            .0
            .with_untracked(|m| m.as_ref().map_or(0, |(n, _)| n + 1));
        self.0.set(Some((serial, message.into())));
        let status = self.0;
        set_timeout(
            move || {
                if status.with_untracked(|m| m.as_ref().map(|(n, _)| *n)) == Some(serial) {
                    status.set(None);
                }
            },
            std::time::Duration::from_secs(5),
        );
    }

    /// Sends `request` in the background: on success says `done` and clears `error`, on failure
    /// keeps the error in `error` (the row that asked may be gone by then: the live change that
    /// the request caused can remove it, so both writes tolerate a disposed signal).
    pub fn after(
        self,
        request: impl std::future::Future<Output = Result<(), AppError>> + 'static,
        error: RwSignal<Option<AppError>>,
        done: &'static str,
    ) {
        leptos::task::spawn_local(async move {
            match request.await {
                Ok(()) => {
                    error.try_set(None);
                    self.say(done);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    }
}

/// Provides [`Confirm`] and [`Status`] for the pages below; render [`ConfirmHost`] once beside them.
pub fn provide_confirm() {
    provide_context(Confirm(RwSignal::new(None)));
    provide_context(Status(RwSignal::new(None)));
}

/// The dialog handle. Every signed-in page has one (the layout provides it).
pub fn use_confirm() -> Confirm {
    use_context::<Confirm>().expect("use_confirm outside the signed-in layout")
}

/// The status handle. Every signed-in page has one (the layout provides it).
pub fn use_status() -> Status {
    use_context::<Status>().expect("use_status outside the signed-in layout")
}

/// A button that asks before it runs `on_confirm`.
#[component]
pub fn ConfirmButton(
    /// The button's own text.
    #[prop(into)]
    label: Signal<String>,
    #[prop(into)] title: Signal<String>,
    #[prop(into)] message: Signal<String>,
    #[prop(into)] confirm_label: Signal<String>,
    on_confirm: Callback<()>,
    #[prop(into, default = "button-secondary".to_string())] class: String,
    /// A screen-reader name when the visible label is ambiguous ("Delete" in a list).
    #[prop(into, optional)]
    aria_label: Option<Signal<String>>,
    /// False for a confirming button in the primary colour (re-enabling an account, say).
    #[prop(into, default = Signal::from(true))]
    danger: Signal<bool>,
) -> impl IntoView {
    let confirm = use_confirm();
    view! {
        <button
            type="button"
            class=class
            aria-haspopup="dialog"
            aria-label=move || aria_label.map(|l| l.get())
            on:click=move |_| {
                let mut ask = Ask::new(title.get_untracked(), message.get_untracked(),
                    confirm_label.get_untracked(), on_confirm);
                ask.danger = danger.get_untracked();
                confirm.ask(ask);
            }
        >
            {move || label.get()}
        </button>
    }
}

/// A list row's two actions: Edit (opens the row's form through `editing`) and Delete (asks first,
/// then runs `on_delete`). `kind` and `name` say which row to a screen reader and in the question:
/// "Edit goal Ship it", "Delete the goal “Ship it”?".
#[component]
pub fn EditDelete(
    kind: &'static str,
    #[prop(into)] name: String,
    /// What deleting costs, in the question's body.
    #[prop(into)]
    message: String,
    editing: RwSignal<bool>,
    on_delete: Callback<()>,
    /// Extra classes for both links (`text-sm` where the row's text is larger).
    #[prop(optional)]
    size: &'static str,
) -> impl IntoView {
    view! {
        <button type="button" class=format!("link {size}") aria-label=format!("Edit {kind} {name}")
            on:click=move |_| editing.set(true)>"Edit"</button>
        <ConfirmButton class=format!("link {size} text-red-700 dark:text-red-400") label="Delete"
            aria_label=format!("Delete {kind} {name}")
            title=format!("Delete the {kind} “{name}”?")
            message=message
            confirm_label=format!("Delete {kind}")
            on_confirm=on_delete />
    }
}

/// The dialog itself and the status region; the signed-in layout renders them once.
#[component]
pub fn ConfirmHost() -> impl IntoView {
    let confirm = use_confirm();
    let status = use_status();
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let cancel = NodeRef::<leptos::html::Button>::new();
    // The element to give focus back to is marked in the DOM, not held here: a DOM node is not
    // Send, and a thread-bound value in the server's reactive owner panics when another thread drops
    // the owner after rendering.
    Effect::new(move |_| {
        let asking = confirm.0.with(Option::is_some);
        let Some(d) = dialog.get() else { return };
        if asking && !d.open() {
            if let Some(el) = active_element() {
                let _ = el.set_attribute(RETURN_MARK, "");
            }
            if d.show_modal().is_ok() {
                if let Some(c) = cancel.get() {
                    let _ = c.focus();
                }
            }
        } else if !asking && d.open() {
            d.close();
        }
    });
    let current = move |f: fn(&Ask) -> String| move || confirm.0.with(|a| a.as_ref().map(f));
    let danger = move || confirm.0.with(|a| a.as_ref().is_none_or(|a| a.danger));
    view! {
        <dialog
            node_ref=dialog
            class="confirm-dialog"
            aria-labelledby="confirm-title"
            aria-describedby="confirm-message"
            data-testid="confirm-dialog"
            // Every way out ends here: Cancel, Confirm, and Escape (the browser closes the dialog).
            on:close=move |_| {
                confirm.finish(false);
                restore_focus();
            }
        >
            <h2 id="confirm-title" class="text-lg font-semibold">{current(|a| a.title.clone())}</h2>
            <p id="confirm-message" class="mt-2 text-sm text-slate-600 dark:text-slate-300">
                {current(|a| a.message.clone())}
            </p>
            <div class="mt-5 flex flex-wrap justify-end gap-2">
                <button type="button" node_ref=cancel class="button-secondary"
                    on:click=move |_| confirm.finish(false)>"Cancel"</button>
                <button type="button" data-testid="confirm-yes"
                    class=move || if danger() { "button-danger" } else { "button-primary" }
                    on:click=move |_| confirm.finish(true)>
                    {current(|a| a.confirm_label.clone())}
                </button>
            </div>
        </dialog>
        <div class="pointer-events-none fixed inset-x-0 bottom-4 z-40 flex justify-center px-4">
            <p role="status" data-testid="status-message"
                class=move || if status.0.with(Option::is_some) { "status-message" } else { "sr-only" }>
                {move || status.0.with(|m| m.as_ref().map(|(_, s)| s.clone()))}
            </p>
        </div>
    }
}

fn active_element() -> Option<web_sys::HtmlElement> {
    use wasm_bindgen::JsCast;
    web_sys::window()?
        .document()?
        .active_element()?
        .dyn_into()
        .ok()
}

/// Marks the element that had focus when the dialog opened.
const RETURN_MARK: &str = "data-confirm-return";

/// Focus back to the marked element if it is still on the page, else to the main region, never to
/// nothing.
fn restore_focus() {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let marked = document
        .query_selector(&format!("[{RETURN_MARK}]"))
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(el) = &marked {
        let _ = el.remove_attribute(RETURN_MARK);
    }
    let target = marked
        .filter(|e| e.is_connected())
        .or_else(|| document.get_element_by_id("main")?.dyn_into().ok());
    if let Some(el) = target {
        let _ = el.focus();
    }
}
