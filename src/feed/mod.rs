//! The activity feed: what people did, who may see it, and how runs of the same thing are grouped.

use crate::model::{Millis, UserId};
use crate::FieldError;
use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
pub mod service;

/// Kinds the app records itself. Integrations may record their own (a lower-case slug).
pub mod kinds {
    /// Sign-ins are no longer feed activities (they are in the profile's security log); the kind stays
    /// reserved so an integration cannot record fake ones.
    pub const LOGIN: &str = "login";
    pub const SESSION_LOGGED: &str = "session_logged";
    pub const GOAL_SET: &str = "goal_set";
    pub const GOAL_COMPLETED: &str = "goal_completed";
    pub const SKILL_ADDED: &str = "skill_added";
    /// The kinds the feed shows (and filters by).
    pub const ALL: [&str; 4] = [SESSION_LOGGED, GOAL_SET, GOAL_COMPLETED, SKILL_ADDED];
    /// The kinds only the app records.
    pub const RESERVED: [&str; 5] = [LOGIN, SESSION_LOGGED, GOAL_SET, GOAL_COMPLETED, SKILL_ADDED];
}

pub const KIND_MAX: usize = 40;
pub const TITLE_MAX: usize = 160;
pub const DETAILS_MAX: usize = 1000;
pub const PAGE_MAX: i64 = 100;

/// One thing someone did. `user_id` is the actor; `day` is their local date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub id: i64,
    pub user_id: UserId,
    pub actor_name: String,
    pub kind: String,
    /// What it is about, such as `session:12` or `goal:3`.
    pub subject: Option<String>,
    pub title: String,
    pub details: Option<String>,
    pub day: String,
    pub created_at: Millis,
    /// Whether the viewer has read it (always false in live events; the viewer decides).
    #[serde(default)]
    pub read: bool,
}

/// An activity recorded through the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewActivity {
    pub user_id: UserId,
    pub kind: String,
    pub title: String,
    #[serde(default)]
    pub details: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FeedFilter {
    #[serde(default)]
    pub kind: Option<String>,
    /// Only this student's activity (for mentors and admins).
    #[serde(default)]
    pub user_id: Option<UserId>,
    #[serde(default)]
    pub unread: bool,
    /// Only activities older than this id (the previous page's last id).
    #[serde(default)]
    pub before: Option<i64>,
    #[serde(default)]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedPage {
    pub items: Vec<Activity>,
    pub next: Option<i64>,
    /// Unread activities the viewer can see.
    pub unread: i64,
}

/// A run of activities of one kind by one actor on one day, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group<'a> {
    pub items: Vec<&'a Activity>,
}

impl Group<'_> {
    pub fn first(&self) -> &Activity {
        self.items[0]
    }

    /// "Ana logged 3 sessions", or the single activity's own title.
    pub fn summary(&self) -> String {
        let first = self.first();
        let n = self.items.len();
        if n == 1 {
            return first.title.clone();
        }
        let what = match first.kind.as_str() {
            kinds::LOGIN => format!("signed in {n} times"),
            kinds::SESSION_LOGGED => format!("logged {n} sessions"),
            kinds::GOAL_SET => format!("set {n} goals"),
            kinds::GOAL_COMPLETED => format!("completed {n} goals"),
            kinds::SKILL_ADDED => format!("added {n} skills"),
            other => format!("{n} × {}", other.replace('_', " ")),
        };
        format!("{} {what}", first.actor_name)
    }
}

/// Groups consecutive activities (as listed, newest first) of the same kind by the same actor on the
/// same day.
pub fn group(items: &[Activity]) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for item in items {
        match groups.last_mut() {
            Some(g)
                if g.first().user_id == item.user_id
                    && g.first().kind == item.kind
                    && g.first().day == item.day =>
            {
                g.items.push(item)
            }
            _ => groups.push(Group { items: vec![item] }),
        }
    }
    groups
}

/// Checks an activity kind: a lower-case slug.
pub fn kind(raw: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    let ok = !value.is_empty()
        && value.len() <= KIND_MAX
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
    if ok {
        Ok(value.to_string())
    } else {
        Err(FieldError::new(
            "kind",
            format!("Use up to {KIND_MAX} lower-case letters, digits, '_' or '.'."),
        ))
    }
}

/// A human name for a kind, for filters.
pub fn kind_label(kind: &str) -> String {
    match kind {
        kinds::LOGIN => "Sign-ins".into(),
        kinds::SESSION_LOGGED => "Sessions logged".into(),
        kinds::GOAL_SET => "Goals set".into(),
        kinds::GOAL_COMPLETED => "Goals completed".into(),
        kinds::SKILL_ADDED => "Skills added".into(),
        other => other.replace(['_', '.'], " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(id: i64, user: UserId, kind: &str, day: &str) -> Activity {
        Activity {
            id,
            user_id: user,
            actor_name: format!("U{user}"),
            kind: kind.into(),
            subject: None,
            title: format!("t{id}"),
            details: None,
            day: day.into(),
            created_at: id,
            read: false,
        }
    }

    #[test]
    fn runs_of_one_kind_by_one_actor_on_one_day_group() {
        let items = vec![
            a(6, 1, kinds::SESSION_LOGGED, "2026-03-02"),
            a(5, 1, kinds::SESSION_LOGGED, "2026-03-02"),
            a(4, 1, kinds::SESSION_LOGGED, "2026-03-02"),
            a(3, 2, kinds::SESSION_LOGGED, "2026-03-02"),
            a(2, 1, kinds::SESSION_LOGGED, "2026-03-01"),
            a(1, 1, kinds::GOAL_SET, "2026-03-01"),
        ];
        let groups = group(&items);
        let sizes: Vec<usize> = groups.iter().map(|g| g.items.len()).collect();
        assert_eq!(sizes, [3, 1, 1, 1]);
        assert_eq!(groups[0].summary(), "U1 logged 3 sessions");
        assert_eq!(groups[1].summary(), "t3");
    }

    #[test]
    fn kinds_are_slugs() {
        assert_eq!(kind(" course.completed ").unwrap(), "course.completed");
        for bad in ["", "Has Space", "UPPER", "x".repeat(41).as_str(), "<b>"] {
            assert!(kind(bad).is_err(), "{bad}");
        }
    }
}
