//! Accounts: who people are, how they sign in, their sessions, sign-ins, API tokens and the admin's
//! user table. The wire types are here; behind the `server` feature, the services that own them.

use crate::model::{CohortId, Millis, PersonRef, Role, User, UserId};
use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
pub mod admin;
#[cfg(feature = "server")]
pub mod api_tokens;
#[cfg(feature = "server")]
pub mod cohorts;
#[cfg(feature = "server")]
pub mod overview;
#[cfg(feature = "server")]
pub mod password;
#[cfg(feature = "server")]
pub mod service;
#[cfg(feature = "server")]
pub mod sessions;
#[cfg(feature = "server")]
pub mod sign_ins;
#[cfg(feature = "server")]
pub mod throttle;
#[cfg(feature = "server")]
pub mod tokens;
#[cfg(feature = "server")]
pub mod users;

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
