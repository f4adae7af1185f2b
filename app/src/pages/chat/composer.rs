//! The composer of the open room: Enter sends, Shift+Enter adds a line, typing is announced to the
//! room (throttled, see `presence`), and the unsent text is kept per room while the page is open.

use super::presence::RoomPresence;
use leptos::prelude::*;
use studyhall::chat::RoomId;

/// The message box: Enter sends, Shift+Enter adds a line; the draft is kept per room while the page
/// is open (switching rooms and back finds it again).
#[component]
pub(super) fn Composer(
    room: RoomId,
    presence: RoomPresence,
    on_send: impl Fn(String) + Copy + 'static,
) -> impl IntoView {
    let drafts = expect_context::<Drafts>();
    let text = RwSignal::new(
        drafts
            .0
            .with_untracked(|d| d.get(&room).cloned().unwrap_or_default()),
    );
    Effect::new(move |_| {
        let now = text.get();
        drafts.0.update_untracked(|d| {
            d.insert(room, now);
        });
    });
    let submit = move || {
        let body = text.get_untracked();
        if body.trim().is_empty() {
            return;
        }
        on_send(body);
        presence.sent();
        text.set(String::new());
    };
    view! {
        <form class="flex items-end gap-2 border-t border-slate-200 p-3 dark:border-slate-800" on:submit=move |ev| { ev.prevent_default(); submit(); }>
            <label for=format!("composer-{room}") class="sr-only">"Message"</label>
            <textarea id=format!("composer-{room}") class="input min-h-[2.75rem] flex-1 resize-y" rows="1" maxlength="4000"
                placeholder="Write a message…" aria-describedby=format!("composer-{room}-hint") data-testid="composer"
                prop:value=move || text.get()
                on:input=move |ev| {
                    text.set(event_target_value(&ev));
                    presence.typed();
                }
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        submit();
                    }
                }></textarea>
            <button type="submit" class="button-primary">"Send"</button>
            <p id=format!("composer-{room}-hint") class="sr-only">"Enter sends; Shift+Enter starts a new line."</p>
        </form>
    }
}

/// Unsent text per room, for as long as the chat page is open (provided by the page).
#[derive(Clone, Copy)]
pub(super) struct Drafts(RwSignal<std::collections::HashMap<RoomId, String>>);

impl Drafts {
    pub(super) fn provide() {
        provide_context(Drafts(RwSignal::new(Default::default())));
    }
}
