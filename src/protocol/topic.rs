//! Topics: where events are published and subscribed (`user:42`, `room:7`, `leaderboard:week:global`,
//! ...), their string form on the wire, and the leaderboard and metrics areas a topic can name.

use crate::model::{CohortId, Role, UserId};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

pub type RoomId = i64;

/// Leaderboard time window (in JSON: `week`, `month`, `all-time`; in a topic: `week`, `month`, `all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Period {
    Week,
    Month,
    AllTime,
}

/// Leaderboard audience: every active student (the school; `global` in a topic, `school` in JSON), or
/// one cohort's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Global,
    Cohort(CohortId),
}

/// Areas of the admin's live metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KpiModule {
    Learning,
    Mentoring,
    Engagement,
    System,
}

/// Where events are published and subscribed. On the wire a topic is a string such as `user:42`,
/// `inbox:42`, `room:7`, `cohort:3`, `role:mentor`, `leaderboard:week:global`, `leaderboard:month:cohort:3`,
/// `kpi:learning` or `announcements`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// One user's learning stream (their activity and analytics): the user, their mentors, admins.
    User(UserId),
    /// One user's notifications: that user only (not even admins read someone else's inbox).
    Inbox(UserId),
    Room(RoomId),
    Cohort(CohortId),
    Role(Role),
    Leaderboard(Period, Scope),
    Kpi(KpiModule),
    /// System-wide announcements, for everyone signed in.
    Announcements,
}

impl Topic {
    /// Whether presence (who is here) is tracked on this topic.
    pub fn has_presence(&self) -> bool {
        matches!(self, Topic::Room(_) | Topic::Cohort(_))
    }

    /// Whether clients may publish ephemeral events (typing) on this topic.
    pub fn accepts_client_events(&self) -> bool {
        matches!(self, Topic::Room(_) | Topic::Cohort(_))
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Topic::User(id) => write!(f, "user:{id}"),
            Topic::Inbox(id) => write!(f, "inbox:{id}"),
            Topic::Room(id) => write!(f, "room:{id}"),
            Topic::Cohort(id) => write!(f, "cohort:{id}"),
            Topic::Role(role) => write!(f, "role:{}", role.as_str()),
            Topic::Leaderboard(period, scope) => {
                let p = match period {
                    Period::Week => "week",
                    Period::Month => "month",
                    Period::AllTime => "all",
                };
                match scope {
                    Scope::Global => write!(f, "leaderboard:{p}:global"),
                    Scope::Cohort(id) => write!(f, "leaderboard:{p}:cohort:{id}"),
                }
            }
            Topic::Kpi(module) => {
                let m = match module {
                    KpiModule::Learning => "learning",
                    KpiModule::Mentoring => "mentoring",
                    KpiModule::Engagement => "engagement",
                    KpiModule::System => "system",
                };
                write!(f, "kpi:{m}")
            }
            Topic::Announcements => f.write_str("announcements"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidTopic(pub String);

impl fmt::Display for InvalidTopic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a topic", self.0)
    }
}

fn positive_id(s: &str) -> Option<i64> {
    // Digits only: no sign, no spaces, no leading "+".
    if s.is_empty() || s.len() > 18 || s.starts_with('0') || !s.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    s.parse().ok().filter(|n| *n > 0)
}

impl FromStr for Topic {
    type Err = InvalidTopic;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidTopic(s.chars().take(80).collect());
        let parts: Vec<&str> = s.split(':').collect();
        let topic = match parts.as_slice() {
            ["user", id] => Topic::User(positive_id(id).ok_or_else(bad)?),
            ["inbox", id] => Topic::Inbox(positive_id(id).ok_or_else(bad)?),
            ["room", id] => Topic::Room(positive_id(id).ok_or_else(bad)?),
            ["cohort", id] => Topic::Cohort(positive_id(id).ok_or_else(bad)?),
            ["role", role] => Topic::Role(Role::parse(role).ok_or_else(bad)?),
            ["leaderboard", period, rest @ ..] => {
                let period = match *period {
                    "week" => Period::Week,
                    "month" => Period::Month,
                    "all" => Period::AllTime,
                    _ => return Err(bad()),
                };
                let scope = match rest {
                    ["global"] => Scope::Global,
                    ["cohort", id] => Scope::Cohort(positive_id(id).ok_or_else(bad)?),
                    _ => return Err(bad()),
                };
                Topic::Leaderboard(period, scope)
            }
            ["kpi", module] => Topic::Kpi(match *module {
                "learning" => KpiModule::Learning,
                "mentoring" => KpiModule::Mentoring,
                "engagement" => KpiModule::Engagement,
                "system" => KpiModule::System,
                _ => return Err(bad()),
            }),
            ["announcements"] => Topic::Announcements,
            _ => return Err(bad()),
        };
        Ok(topic)
    }
}

impl Serialize for Topic {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Topic {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip_through_their_string_form() {
        let topics = [
            Topic::User(42),
            Topic::Inbox(42),
            Topic::Room(7),
            Topic::Cohort(3),
            Topic::Role(Role::Mentor),
            Topic::Leaderboard(Period::Week, Scope::Global),
            Topic::Leaderboard(Period::AllTime, Scope::Cohort(3)),
            Topic::Kpi(KpiModule::Learning),
            Topic::Announcements,
        ];
        for t in topics {
            assert_eq!(t.to_string().parse::<Topic>(), Ok(t), "{t}");
        }
        for bad in [
            "",
            "user",
            "user:",
            "user:-1",
            "user:0",
            "user:007",
            "user:+4",
            "user:1:2",
            "inbox:0",
            "room:x",
            "role:root",
            "leaderboard:week",
            "leaderboard:day:global",
            "kpi:money",
            "announcements:1",
            "USER:1",
        ] {
            assert!(bad.parse::<Topic>().is_err(), "{bad:?} should be invalid");
        }
    }
}
