//! One person picker for everyone who sends notifications: a WAI-ARIA combobox (an editable input that
//! controls a listbox, <https://www.w3.org/WAI/ARIA/apg/patterns/combobox/>). Typing searches by name or
//! email on the server, which answers only people the caller may address (at most ten); Down and Up
//! move through the options (focus stays in the input, `aria-activedescendant` names the option), Enter
//! chooses, Escape closes the list (or, when closed, clears the input).

use crate::api::inbox::addressable_people;
use leptos::prelude::*;
use leptos::task::spawn_local;
use studyhall::model::UserId;
use studyhall::notifications::Recipient;

#[component]
pub fn PersonPicker(
    /// The input's id (the label's `for`).
    id: &'static str,
    #[prop(into)] label: String,
    /// Called with the chosen person's id, or `None` once the text no longer names the choice.
    on_choose: Callback<Option<UserId>>,
    #[prop(into, optional)] error: Option<Signal<Option<String>>>,
) -> impl IntoView {
    let listbox = format!("{id}-listbox");
    let status_id = format!("{id}-status");
    let query = RwSignal::new(String::new());
    let open = RwSignal::new(false);
    let results = RwSignal::new(Vec::<Recipient>::new());
    let active = RwSignal::new(None::<usize>);
    let failure = RwSignal::new(None::<String>);
    let searched = RwSignal::new(false);
    // Only the newest search may answer (a slow early one must not replace a later list).
    let seq = StoredValue::new(0u64);
    let search = move |q: String, delay_ms: u64| {
        let n = seq.get_value() + 1;
        seq.set_value(n);
        set_timeout(
            move || {
                if seq.get_value() != n {
                    return;
                }
                spawn_local(async move {
                    let found = addressable_people(q).await;
                    if seq.get_value() != n {
                        return;
                    }
                    match found {
                        Ok(list) => {
                            active.set(None);
                            results.set(list);
                            failure.set(None);
                        }
                        Err(e) => failure.set(Some(e.to_string())),
                    }
                    searched.set(true);
                });
            },
            std::time::Duration::from_millis(delay_ms),
        );
    };
    let choose = move |p: &Recipient| {
        query.set(p.display_name.clone());
        on_choose.run(Some(p.id));
        open.set(false);
        active.set(None);
    };
    let option_id = move |p: &Recipient| format!("{id}-option-{}", p.id);
    let keydown = move |ev: leptos::ev::KeyboardEvent| {
        let len = results.with_untracked(Vec::len);
        let step = |from: Option<usize>, down: bool| -> Option<usize> {
            if len == 0 {
                return None;
            }
            Some(match (from, down) {
                (None, true) => 0,
                (None, false) => len - 1,
                (Some(i), true) => (i + 1) % len,
                (Some(i), false) => (i + len - 1) % len,
            })
        };
        match ev.key().as_str() {
            k @ ("ArrowDown" | "ArrowUp") => {
                ev.prevent_default();
                if !open.get_untracked() {
                    open.set(true);
                    if !searched.get_untracked() {
                        search(query.get_untracked(), 0);
                    }
                }
                active.set(step(active.get_untracked(), k == "ArrowDown"));
            }
            "Enter" if open.get_untracked() => {
                // Choosing is not sending: the form submits only on an Enter with the list closed.
                ev.prevent_default();
                if let Some(p) = active
                    .get_untracked()
                    .and_then(|i| results.with_untracked(|r| r.get(i).cloned()))
                {
                    choose(&p);
                }
            }
            "Escape" => {
                if open.get_untracked() {
                    ev.prevent_default();
                    open.set(false);
                    active.set(None);
                } else if !query.get_untracked().is_empty() {
                    ev.prevent_default();
                    query.set(String::new());
                    on_choose.run(None);
                    search(String::new(), 0);
                }
            }
            _ => {}
        }
    };
    let active_descendant = move || {
        active
            .get()
            .and_then(|i| results.with(|r| r.get(i).map(option_id)))
    };
    let invalid = move || error.and_then(|e| e.get()).is_some().then_some("true");
    let status = move || {
        if let Some(f) = failure.get() {
            return f;
        }
        if !open.get() || !searched.get() {
            return String::new();
        }
        match results.with(Vec::len) {
            0 => "No one you can send to matches.".into(),
            1 => "1 person found. Use the arrow keys to choose.".into(),
            n => format!("{n} people found. Use the arrow keys to choose."),
        }
    };
    view! {
        <div class="relative" data-testid="person-picker">
            <label class="block text-sm font-medium" for=id>{label.clone()}</label>
            <input id=id class="input" type="text" role="combobox" autocomplete="off"
                aria-autocomplete="list" aria-haspopup="listbox" aria-controls=listbox.clone()
                aria-expanded=move || open.get().to_string()
                aria-activedescendant=active_descendant
                aria-describedby=status_id.clone()
                aria-invalid=invalid
                placeholder="Type a name or email"
                prop:value=move || query.get()
                on:input=move |ev| {
                    let q = event_target_value(&ev);
                    query.set(q.clone());
                    on_choose.run(None);
                    open.set(true);
                    search(q, 150);
                }
                on:focus=move |_| if !searched.get_untracked() { search(query.get_untracked(), 0) }
                on:click=move |_| open.update(|o| *o = !*o)
                on:blur=move |_| { open.set(false); active.set(None); }
                on:keydown=keydown />
            <ul id=listbox role="listbox" aria-label=label
                class="absolute z-30 mt-1 w-full overflow-hidden rounded-md border border-slate-200 bg-white shadow-lg dark:border-slate-700 dark:bg-slate-800"
                class:hidden=move || !open.get() || results.with(Vec::is_empty)>
                <For each=move || results.get().into_iter().enumerate() key=|(i, p)| (*i, p.id) let:item>
                    {
                        let (i, p) = item;
                        let chosen = p.clone();
                        view! {
                            <li id=option_id(&p) role="option"
                                aria-selected=move || (active.get() == Some(i)).to_string()
                                class="cursor-pointer px-3 py-2 text-sm aria-selected:bg-indigo-100 aria-selected:text-indigo-900 dark:aria-selected:bg-indigo-900 dark:aria-selected:text-indigo-100"
                                // Mousedown, not click: the input keeps focus (a blur would close the list first).
                                on:mousedown=move |ev| { ev.prevent_default(); choose(&chosen); }>
                                <span class="block font-medium break-words">{p.display_name.clone()}</span>
                                <span class="block break-all text-xs text-slate-600 dark:text-slate-300">
                                    {p.email.clone()} " · " {p.role.label()}
                                </span>
                            </li>
                        }
                    }
                </For>
            </ul>
            <p id=status_id class="text-xs text-slate-500 dark:text-slate-400" aria-live="polite">{status}</p>
        </div>
    }
}
