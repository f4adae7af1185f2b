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

/// A page of rows plus the total, for simple paged admin tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// What `GET /healthz` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub database: String,
    pub backend: String,
    pub version: String,
    /// This node's id (one per process start).
    #[serde(default)]
    pub node: String,
    /// The bus between nodes: `in-process` (a node alone), `redis` (subscribed), or
    /// `redis-unreachable` (live delivery from other nodes waits; nothing is lost).
    #[serde(default)]
    pub bus: String,
    /// The other nodes this one hears from.
    #[serde(default)]
    pub other_nodes: Vec<String>,
    /// Whether this node runs the background jobs now (one node does).
    #[serde(default)]
    pub runs_jobs: bool,
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

/// A point in a topic's log: the log's epoch and the offset of the last event seen. Every snapshot
/// carries one, and a subscription resumes from it (see `protocol`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub epoch: String,
    pub offset: i64,
}
