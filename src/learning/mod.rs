//! What students log (learning sessions, goals, skills) and the analytics computed from it, as the
//! server sends them and the browser shows them.

use crate::model::{Millis, UserId};
use crate::protocol::Position;
use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
pub mod analytics;
#[cfg(feature = "server")]
pub mod milestones;
#[cfg(feature = "server")]
pub mod service;

pub const TOPIC_MAX: usize = 80;
pub const NOTE_MAX: usize = 1000;
pub const GOAL_TITLE_MAX: usize = 120;
pub const SKILL_NAME_MAX: usize = 60;
/// A session is at most a day long.
pub const MINUTES_MAX: i64 = 24 * 60;

/// One logged learning session. `day` is the student's local date (`YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearningSession {
    pub id: i64,
    pub user_id: UserId,
    pub day: String,
    pub minutes: i64,
    pub topic: String,
    pub note: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// Where a page of sessions continues: after the session `id` on `day` (sessions are listed newest
/// day first, then newest id first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionCursor {
    pub day: String,
    pub id: i64,
}

/// One page of a student's sessions; `next` is `None` on the last page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionPage {
    pub items: Vec<LearningSession>,
    pub next: Option<SessionCursor>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInput {
    pub day: String,
    pub minutes: i64,
    pub topic: String,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goal {
    pub id: i64,
    pub user_id: UserId,
    pub title: String,
    pub target_day: Option<String>,
    pub completed_at: Option<Millis>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalInput {
    pub title: String,
    #[serde(default)]
    pub target_day: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skill {
    pub id: i64,
    pub user_id: UserId,
    pub name: String,
    pub created_at: Millis,
}

/// Minutes learned in one period (a week starting Monday, or a calendar month).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodTotal {
    /// The first day of the period, `YYYY-MM-DD`.
    pub start: String,
    /// A short label: `Mar 3` for a week, `Mar 2026` for a month.
    pub label: String,
    pub minutes: i64,
}

/// A student's figures, always computed from the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Analytics {
    pub user_id: UserId,
    pub total_minutes: i64,
    /// Consecutive days with a session, ending today or yesterday (in the student's time zone).
    pub current_streak: i64,
    pub longest_streak: i64,
    pub sessions: i64,
    pub goals_set: i64,
    pub goals_completed: i64,
    pub skills: i64,
    /// Oldest first; the last is the current week.
    pub weekly: Vec<PeriodTotal>,
    /// Oldest first; the last is the current month.
    pub monthly: Vec<PeriodTotal>,
    /// Minutes in the current week.
    pub this_week_minutes: i64,
    /// The day of the latest session, if any.
    pub last_session_day: Option<String>,
    /// When these figures were computed.
    pub computed_at: Millis,
    /// The student's local date the figures were computed for.
    pub today: String,
}

impl Analytics {
    pub fn total_hours(&self) -> f64 {
        self.total_minutes as f64 / 60.0
    }
}

/// Everything the learning page shows, with the position of the student's stream it is current to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearningSnapshot {
    /// The newest page of sessions; older ones page on from `more_sessions`.
    pub sessions: Vec<LearningSession>,
    #[serde(default)]
    pub more_sessions: Option<SessionCursor>,
    pub goals: Vec<Goal>,
    pub skills: Vec<Skill>,
    pub analytics: Analytics,
    pub position: Position,
}

impl LearningSnapshot {
    /// Newest day first, then newest first within a day (the order the server pages in).
    pub fn sort_sessions(&mut self) {
        self.sessions
            .sort_by(|a, b| b.day.cmp(&a.day).then(b.id.cmp(&a.id)));
    }
}

/// One row of a mentor's dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudentRow {
    pub user_id: UserId,
    pub display_name: String,
    pub this_week_minutes: i64,
    pub current_streak: i64,
    pub total_minutes: i64,
    /// When the student last did anything that shows in the feed.
    pub last_activity_at: Option<Millis>,
    /// The position of the student's stream these figures are current to.
    pub position: Position,
}

/// Admin's live figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SystemFigures {
    pub users_online: i64,
    pub sessions_logged_today: i64,
    pub minutes_logged_today: i64,
    pub notifications_sent_today: i64,
    pub active_students_this_week: i64,
    pub computed_at: Millis,
}

/// Event data on `user:{id}` when the student's log changes: what changed and the new figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearningChanged {
    pub change: LearningChange,
    pub analytics: Analytics,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum LearningChange {
    SessionSaved { session: LearningSession },
    SessionDeleted { id: i64 },
    GoalSaved { goal: Goal },
    GoalDeleted { id: i64 },
    SkillAdded { skill: Skill },
    SkillDeleted { id: i64 },
}

/// Minutes as `1 h 30 min`, `45 min`, `2 h`.
pub fn format_minutes(minutes: i64) -> String {
    let (h, m) = (minutes / 60, minutes % 60);
    match (h, m) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// A count with its noun: `1 day`, `2 days`, `0 sessions`.
pub fn format_count(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_take_the_singular_only_for_one() {
        assert_eq!(format_count(1, "day", "days"), "1 day");
        assert_eq!(format_count(0, "day", "days"), "0 days");
        assert_eq!(format_count(2, "session", "sessions"), "2 sessions");
        assert_eq!(format_count(-1, "day", "days"), "-1 days");
    }

    #[test]
    fn minutes_read_as_hours_and_minutes() {
        assert_eq!(format_minutes(45), "45 min");
        assert_eq!(format_minutes(120), "2 h");
        assert_eq!(format_minutes(90), "1 h 30 min");
        assert_eq!(format_minutes(0), "0 min");
    }
}
