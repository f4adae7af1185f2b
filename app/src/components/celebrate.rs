//! Feedback for the student's own achievements: completing a goal shows a celebratory toast in the
//! bell's toast stack (streaks and milestones toast from the inbox, see `bell::announce`). Driven by the
//! student's live `learning.changed` events, so the tab that completed it and any other open tab show it.

use super::bell::{show_toast, Inbox, Toast};
use crate::browser;
use studyhall::events::DurableEvent;
use studyhall::learning::{LearningChange, LearningChanged};
use studyhall::notifications::Priority;

/// How old a completion may be and still be news (a replay after a long sleep is not).
const FRESH_MS: i64 = 2 * 60 * 1000;

/// Shows "Goal complete" when `event` on `user:{me}` completed one of the student's goals just now.
pub fn on_learning_event(inbox: Option<Inbox>, event: &DurableEvent) {
    let Some(inbox) = inbox else {
        return;
    };
    let DurableEvent::LearningChanged(LearningChanged {
        change: LearningChange::GoalSaved { goal },
        ..
    }) = event
    else {
        return;
    };
    let Some(done) = goal.completed_at else {
        return;
    };
    if browser::now_ms() - done > FRESH_MS {
        return;
    }
    show_toast(
        inbox.toasts,
        Toast {
            // Negative: never a notification's id.
            id: -goal.id,
            title: "Goal complete!".into(),
            message: format!("You finished “{}”. Well done.", goal.title),
            priority: Priority::Normal,
            link: None,
            celebrate: true,
        },
    );
}
