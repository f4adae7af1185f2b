//! The composer of the open room: Enter sends, Shift+Enter adds a line, typing is announced to the
//! room (throttled, see `presence`), `@` offers the room's members to mention (arrows choose,
//! Enter or Tab takes, Escape closes), files are attached (`attach`), and the unsent text is kept
//! per room while the page is open.

use super::attach::{AttachButton, PickedFiles, PickedList};
use super::presence::RoomPresence;
use leptos::prelude::*;
use studyhall::chat::attachments::Attachment;
use studyhall::chat::mentions::{suggestions, typing_mention};
use studyhall::chat::{Author, RoomId};

/// The message box: Enter sends, Shift+Enter adds a line; the draft is kept per room while the page
/// is open (switching rooms and back finds it again).
#[component]
pub(super) fn Composer(
    room: RoomId,
    presence: RoomPresence,
    /// Whom `@` offers (the room's members but the viewer).
    #[prop(into)]
    members: Signal<Vec<Author>>,
    /// The text and the uploaded files.
    on_send: impl Fn(String, Vec<Attachment>) + Copy + 'static,
) -> impl IntoView {
    let files = PickedFiles::new();
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
    // The mention being typed at the end of the text, and the names it offers.
    let offered = Memo::new(move |_| {
        let t = text.get();
        match typing_mention(&t) {
            Some((_, query)) => members.with(|m| {
                suggestions(query, m)
                    .into_iter()
                    .cloned()
                    .collect::<Vec<_>>()
            }),
            None => Vec::new(),
        }
    });
    let active = RwSignal::new(0usize);
    let dismissed = RwSignal::new(false);
    let open = move || !offered.with(Vec::is_empty) && !dismissed.get();
    let take = move |who: Author| {
        text.update(|t| {
            if let Some((at, _)) = typing_mention(t) {
                t.truncate(at);
                t.push('@');
                t.push_str(&who.display_name);
                t.push(' ');
            }
        });
        active.set(0);
    };
    let list_id = format!("composer-{room}-mentions");
    let items = move || {
        offered
            .get()
            .into_iter()
            .enumerate()
            .collect::<Vec<(usize, Author)>>()
    };
    let option_id = move |i: usize| format!("composer-{room}-mention-{i}");
    let submit = move || {
        let body = text.get_untracked();
        // A file still uploading holds the message back (Send says so).
        if untrack(|| files.busy()) {
            return;
        }
        let attached = files.ready();
        if body.trim().is_empty() && attached.is_empty() {
            return;
        }
        on_send(body, attached);
        presence.sent();
        text.set(String::new());
        files.clear();
    };
    view! {
        <div class="border-t border-slate-200 dark:border-slate-800">
        <PickedList files />
        <form class="relative flex items-end gap-2 p-3" on:submit=move |ev| { ev.prevent_default(); submit(); }>
            <ul id=list_id.clone() role="listbox" aria-label="People to mention" data-testid="mention-list"
                class="absolute bottom-full left-3 z-10 mb-1 w-64 max-w-[calc(100%-1.5rem)] rounded-md border border-slate-200 bg-white py-1 shadow dark:border-slate-700 dark:bg-slate-900"
                class:hidden=move || !open()>
                <For each=items key=|(i, a)| (*i, a.id) let:item>
                    {
                        let (i, who) = item;
                        let name = who.display_name.clone();
                        view! {
                            <li id=option_id(i) role="option" aria-selected=move || (active.get() == i).to_string()
                                class="cursor-pointer truncate px-3 py-1 text-sm aria-selected:bg-indigo-50 dark:aria-selected:bg-indigo-950"
                                on:mousedown=move |ev| { ev.prevent_default(); take(who.clone()); }>
                                {name}
                            </li>
                        }
                    }
                </For>
            </ul>
            <AttachButton room files />
            <label for=format!("composer-{room}") class="sr-only">"Message"</label>
            <textarea id=format!("composer-{room}") class="input min-h-[2.75rem] flex-1 resize-y" rows="1" maxlength="4000"
                placeholder="Write a message…" aria-describedby=format!("composer-{room}-hint") data-testid="composer"
                prop:value=move || text.get()
                role="combobox" aria-autocomplete="list" aria-controls=list_id.clone()
                aria-expanded=move || open().to_string()
                aria-activedescendant=move || open().then(|| option_id(active.get()))
                on:input=move |ev| {
                    text.set(event_target_value(&ev));
                    dismissed.set(false);
                    active.set(0);
                    presence.typed();
                }
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    let key = ev.key();
                    if open() {
                        let n = offered.with(Vec::len);
                        match key.as_str() {
                            "ArrowDown" => {
                                ev.prevent_default();
                                active.update(|a| *a = (*a + 1) % n);
                                return;
                            }
                            "ArrowUp" => {
                                ev.prevent_default();
                                active.update(|a| *a = (*a + n - 1) % n);
                                return;
                            }
                            "Enter" | "Tab" if !ev.shift_key() => {
                                ev.prevent_default();
                                if let Some(who) = offered.with(|o| o.get(active.get_untracked()).cloned()) {
                                    take(who);
                                }
                                return;
                            }
                            "Escape" => {
                                ev.prevent_default();
                                dismissed.set(true);
                                return;
                            }
                            _ => {}
                        }
                    }
                    if key == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        submit();
                    }
                }></textarea>
            <button type="submit" class="button-primary" data-testid="send" disabled=move || files.busy()>
                {move || if files.busy() { "Uploading…" } else { "Send" }}
            </button>
            <p id=format!("composer-{room}-hint") class="sr-only">"Enter sends; Shift+Enter starts a new line."</p>
        </form>
        </div>
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
