//! Typed models shared by server and browser: users, roles, cohorts, sessions and the forms that change them.

use serde::{Deserialize, Serialize};
use std::fmt;

pub type UserId = i64;
pub type CohortId = i64;

/// Milliseconds since the Unix epoch, UTC. Used for every timestamp on the wire and in both databases.
pub type Millis = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Mentor,
    Student,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Mentor, Role::Student];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Mentor => "mentor",
            Role::Student => "student",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "mentor" => Some(Role::Mentor),
            "student" => Some(Role::Student),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Mentor => "Mentor",
            Role::Student => "Student",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user as the app shows them. Never carries the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub time_zone: String,
    pub cohort_id: Option<CohortId>,
    pub created_at: Millis,
    pub last_seen_at: Option<Millis>,
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cohort {
    pub id: CohortId,
    pub name: String,
    pub created_at: Millis,
}

/// How a session was started: by the browser sign-in form (cookie) or the JSON token endpoint (bearer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    Browser,
    Api,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Browser => "browser",
            SessionKind::Api => "api",
        }
    }

    pub fn parse(s: &str) -> Option<SessionKind> {
        match s {
            "browser" => Some(SessionKind::Browser),
            "api" => Some(SessionKind::Api),
            _ => None,
        }
    }
}

/// A session as its owner (or an admin) sees it in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// A short, random, non-secret handle for the session (the secret id never leaves the server).
    pub handle: String,
    pub kind: SessionKind,
    pub created_at: Millis,
    pub last_seen_at: Millis,
    pub expires_at: Millis,
    pub user_agent: Option<String>,
    /// The user agent as people say it ("Chrome on Linux"), read on the server.
    #[serde(default)]
    pub device: Option<String>,
    pub ip: Option<String>,
    pub current: bool,
}

/// One sign-in in its owner's security log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignIn {
    pub at: Millis,
    pub kind: SessionKind,
    /// "Chrome on Linux", or "Unknown device" when the client sent no (or an unreadable) user agent.
    pub device: String,
    pub ip: Option<String>,
}

/// One row of the admin's user table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUserRow {
    pub user: User,
    pub cohort_name: Option<String>,
    pub mentor_ids: Vec<UserId>,
    pub active_sessions: i64,
}

/// A page of rows plus the total, for simple paged admin tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterInput {
    pub email: String,
    pub display_name: String,
    pub password: String,
    pub time_zone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUserInput {
    pub email: String,
    pub display_name: String,
    pub password: String,
    pub time_zone: String,
    pub role: Role,
    pub cohort_id: Option<CohortId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileInput {
    pub display_name: String,
    pub time_zone: String,
}

/// Filters for the admin user list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserFilter {
    pub search: Option<String>,
    pub role: Option<Role>,
    pub cohort_id: Option<CohortId>,
    pub page: i64,
}

/// What `GET /healthz` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub database: String,
    pub backend: String,
    pub version: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_what_they_print() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(
                serde_json::to_string(&role).unwrap(),
                format!("\"{}\"", role.as_str())
            );
        }
        assert_eq!(Role::parse("root"), None);
    }
}

/// Someone the caller is linked to (their mentor, their student).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRef {
    pub id: UserId,
    pub display_name: String,
    pub email: String,
    pub last_seen_at: Option<Millis>,
}

/// The signed-in home page: who you are and who you work with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountOverview {
    pub user: User,
    pub cohort_name: Option<String>,
    pub mentors: Vec<PersonRef>,
    pub students: Vec<PersonRef>,
    /// Admins only: how many users have each role.
    pub role_counts: Vec<(Role, i64)>,
}

/// A system-wide announcement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub author_name: Option<String>,
    pub created_at: Millis,
    /// The offset of its event on the `announcements` topic.
    pub offset: i64,
}

/// A point in a topic's log: the log's epoch and the offset of the last event seen. Every snapshot
/// carries one, and a subscription resumes from it (see `protocol`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub epoch: String,
    pub offset: i64,
}

/// How many announcements a snapshot holds and the panel shows (one limit for every adapter).
pub const ANNOUNCEMENTS_LATEST: usize = 20;

/// The latest announcements and the log position they are current to: subscribe from there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnouncementsSnapshot {
    pub items: Vec<Announcement>,
    pub position: Position,
}

/// What an API token may do. A token acts for the admin who created it, limited to its scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum ApiScope {
    #[serde(rename = "notifications:write")]
    NotificationsWrite,
    #[serde(rename = "notifications:read")]
    NotificationsRead,
    #[serde(rename = "activities:write")]
    ActivitiesWrite,
    #[serde(rename = "analytics:read")]
    AnalyticsRead,
}

impl ApiScope {
    pub const ALL: [ApiScope; 4] = [
        ApiScope::NotificationsWrite,
        ApiScope::NotificationsRead,
        ApiScope::ActivitiesWrite,
        ApiScope::AnalyticsRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApiScope::NotificationsWrite => "notifications:write",
            ApiScope::NotificationsRead => "notifications:read",
            ApiScope::ActivitiesWrite => "activities:write",
            ApiScope::AnalyticsRead => "analytics:read",
        }
    }

    pub fn parse(s: &str) -> Option<ApiScope> {
        ApiScope::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn describe(self) -> &'static str {
        match self {
            ApiScope::NotificationsWrite => "Send notifications to users and audiences",
            ApiScope::NotificationsRead => "List and mark the token owner's notifications",
            ApiScope::ActivitiesWrite => "Record activities for users",
            ApiScope::AnalyticsRead => "Read any student's learning analytics",
        }
    }
}

/// An API token as its list shows it. The secret is shown once, at creation, and never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenSummary {
    pub id: i64,
    pub name: String,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    pub owner_name: String,
    pub scopes: Vec<ApiScope>,
    pub created_at: Millis,
    pub last_used_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
}

/// A newly created token: the only time its secret is available.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiToken {
    pub token: String,
    pub summary: ApiTokenSummary,
}
