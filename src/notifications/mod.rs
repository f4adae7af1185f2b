//! Notifications as their owner sees them: kinds, priorities, the inbox snapshot and the events that
//! keep every open tab's bell in step, plus the inputs that create them.

use crate::model::{CohortId, Millis, Role, UserId};
use crate::protocol::Position;
use crate::FieldError;
use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
pub mod service;

pub const TITLE_MAX: usize = 120;
pub const MESSAGE_MAX: usize = 2000;
pub const LINK_MAX: usize = 512;
/// The longest a notification may live.
pub const TTL_MAX_SECS: i64 = 365 * 24 * 3600;
/// How many the bell's dropdown shows.
pub const BELL_SIZE: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Achievement,
    Milestone,
    Reminder,
    System,
    Social,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Achievement,
        Kind::Milestone,
        Kind::Reminder,
        Kind::System,
        Kind::Social,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Achievement => "achievement",
            Kind::Milestone => "milestone",
            Kind::Reminder => "reminder",
            Kind::System => "system",
            Kind::Social => "social",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Achievement => "Achievement",
            Kind::Milestone => "Milestone",
            Kind::Reminder => "Reminder",
            Kind::System => "System",
            Kind::Social => "Social",
        }
    }

    /// System notifications (security, accounts, operations) always get through.
    pub fn can_mute(self) -> bool {
        self != Kind::System
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Low,
        Priority::Normal,
        Priority::High,
        Priority::Urgent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    pub fn parse(s: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Priority::Low => "Low",
            Priority::Normal => "Normal",
            Priority::High => "High",
            Priority::Urgent => "Urgent",
        }
    }

    /// High and urgent notifications also show as a toast.
    pub fn toasts(self) -> bool {
        self >= Priority::High
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: i64,
    pub kind: Kind,
    pub priority: Priority,
    pub title: String,
    pub message: String,
    /// An internal path (validated), followed when the notification is clicked.
    pub link: Option<String>,
    pub sender_name: Option<String>,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub seen_at: Option<Millis>,
    pub read_at: Option<Millis>,
}

impl Notification {
    pub fn is_expired(&self, now: Millis) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// The owner's counts over unexpired notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct InboxCounts {
    pub unseen: i64,
    pub unread: i64,
    pub total: i64,
}

/// The bell: the newest notifications, the counts and the inbox position they are current to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxSnapshot {
    pub items: Vec<Notification>,
    pub counts: InboxCounts,
    pub preferences: Preferences,
    pub position: Position,
}

/// Event data on `inbox:{id}`. Every event carries the counts after the change, so a tab that applies
/// events in order always shows the right badge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxEvent {
    pub change: InboxChange,
    pub counts: InboxCounts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum InboxChange {
    Created {
        notification: Notification,
    },
    /// Seen/read state changed for these ids (`all` means every notification).
    Marked {
        ids: Vec<i64>,
        all: bool,
        seen_at: Option<Millis>,
        read: Option<bool>,
        at: Millis,
    },
    Deleted {
        ids: Vec<i64>,
    },
    Cleared,
    Expired {
        ids: Vec<i64>,
    },
    Preferences {
        preferences: Preferences,
    },
}

/// Per-user notification settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Preferences {
    pub muted: Vec<Kind>,
    /// Play a sound for new notifications.
    pub sound: bool,
    /// Show new notifications with the browser's Notification API.
    pub desktop: bool,
}

/// Who receives a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Audience {
    User {
        id: UserId,
    },
    Cohort {
        id: CohortId,
    },
    Role {
        role: Role,
    },
    /// Every active user.
    Everyone,
    /// The sender's own students (mentors).
    MyStudents,
}

/// Someone the caller may send a notification to, as the person picker lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub id: UserId,
    pub display_name: String,
    pub email: String,
    pub role: Role,
}

/// How many people one search of the person picker answers.
pub const RECIPIENTS_MAX: i64 = 10;

/// A notification to create, as an admin, a mentor or an integration sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewNotification {
    pub audience: Audience,
    pub kind: Kind,
    #[serde(default = "normal")]
    pub priority: Priority,
    pub title: String,
    pub message: String,
    #[serde(default)]
    pub link: Option<String>,
    /// Seconds until it expires; none means it stays until deleted.
    #[serde(default)]
    pub ttl_secs: Option<i64>,
}

fn normal() -> Priority {
    Priority::Normal
}

/// Filters for the notifications page and `GET /api/v1/notifications`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NotificationFilter {
    #[serde(default)]
    pub unread: bool,
    #[serde(default)]
    pub kind: Option<Kind>,
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Only notifications older than this id (the previous page's last id).
    #[serde(default)]
    pub before: Option<i64>,
    #[serde(default)]
    pub limit: Option<i64>,
}

/// A page of notifications, newest first; `next` is the cursor for the following page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    pub next: Option<i64>,
}

/// Checks a notification's link: an internal path only, never another site or a script URL.
pub fn link(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if raw.len() > LINK_MAX {
        return Err(FieldError::new(
            "link",
            format!("Keep the link under {LINK_MAX} characters."),
        ));
    }
    crate::validate::local_path(raw)
        .map(Some)
        .ok_or_else(|| FieldError::new("link", "Use a path inside Studyhall, such as /learning."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_priorities_parse_what_they_print() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        for p in Priority::ALL {
            assert_eq!(Priority::parse(p.as_str()), Some(p));
        }
        assert!(!Kind::System.can_mute());
        assert!(Priority::Urgent.toasts() && Priority::High.toasts() && !Priority::Normal.toasts());
    }

    #[test]
    fn links_are_internal_paths_only() {
        assert_eq!(
            link(Some(" /learning ")).unwrap().as_deref(),
            Some("/learning")
        );
        assert_eq!(link(None).unwrap(), None);
        assert_eq!(link(Some("")).unwrap(), None);
        for bad in [
            "https://evil.example",
            "//evil.example",
            "javascript:alert(1)",
            "learning",
        ] {
            assert_eq!(link(Some(bad)).unwrap_err().field, "link", "{bad}");
        }
    }

    #[test]
    fn audiences_read_as_tagged_json() {
        let a: Audience = serde_json::from_str(r#"{"type":"cohort","id":3}"#).unwrap();
        assert_eq!(a, Audience::Cohort { id: 3 });
        let n: NewNotification = serde_json::from_str(
            r#"{"audience":{"type":"everyone"},"kind":"system","title":"t","message":"m"}"#,
        )
        .unwrap();
        assert_eq!(n.priority, Priority::Normal);
    }
}
