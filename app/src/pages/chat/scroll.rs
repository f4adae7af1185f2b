//! The conversation's scrolling: it opens at the newest message, stays at the bottom as new ones
//! arrive while the reader is there (and leaves them be when they are reading older ones), asks for
//! older pages when the reader reaches the top, and keeps what the reader sees in place when older
//! messages are put above it. Browser only; on the server every call does nothing.

use leptos::html::Div;
use leptos::prelude::*;

/// How near the top (px) the reader must scroll for older messages to load.
const NEAR_TOP_PX: i32 = 120;
/// How near the bottom (px) still counts as "at the newest".
const NEAR_BOTTOM_PX: i32 = 80;

#[derive(Clone, Copy)]
pub(super) struct ScrollKeeper {
    pub el: NodeRef<Div>,
    /// The reader is at the bottom: new messages keep them there.
    stick: StoredValue<bool>,
}

/// Where the list stood before older messages were put above.
pub(super) struct Saved {
    height: i32,
    top: i32,
}

impl ScrollKeeper {
    pub fn new() -> Self {
        ScrollKeeper {
            el: NodeRef::new(),
            stick: StoredValue::new(true),
        }
    }

    /// For `on:scroll`: notes whether the reader is at the bottom; whether they reached the top.
    pub fn scrolled(&self) -> bool {
        let Some(el) = self.el.get_untracked() else {
            return false;
        };
        let bottom = el.scroll_height() - el.scroll_top() - el.client_height();
        self.stick.set_value(bottom < NEAR_BOTTOM_PX);
        el.scroll_top() < NEAR_TOP_PX && el.scroll_height() > el.client_height()
    }

    /// Call before older messages go in above.
    pub fn before_prepend(&self) -> Option<Saved> {
        self.el.get_untracked().map(|el| Saved {
            height: el.scroll_height(),
            top: el.scroll_top(),
        })
    }

    /// Call once they are in: the same messages stay where the reader had them.
    pub fn after_prepend(&self, saved: Option<Saved>) {
        let (Some(saved), el) = (saved, self.el) else {
            return;
        };
        request_animation_frame(move || {
            if let Some(el) = el.get_untracked() {
                el.set_scroll_top(saved.top + el.scroll_height() - saved.height);
            }
        });
    }

    /// Call when a message arrives or is sent: to the bottom if the reader was there.
    pub fn follow_newest(&self) {
        if !self.stick.get_value() {
            return;
        }
        let el = self.el;
        request_animation_frame(move || {
            if let Some(el) = el.get_untracked() {
                el.set_scroll_top(el.scroll_height());
            }
        });
    }
}
