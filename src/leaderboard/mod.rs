//! The leaderboard: what is ranked (points from the learning log), the boards (a period and a scope),
//! the ranking rules, and what a board looks like on the wire. Compiled to WASM too; behind the
//! `server` feature this folder also holds the periods' boundaries in a time zone (`periods`), the
//! order-statistic structure of one board (`standings`) and the service.

#[cfg(feature = "server")]
pub mod periods;
#[cfg(feature = "server")]
pub mod service;
#[cfg(feature = "server")]
pub mod standings;

use crate::model::{CohortId, Millis, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Points for each minute of a logged learning session.
pub const POINTS_PER_MINUTE: i64 = 1;
/// Points for completing a goal (taken back if it is reopened or deleted).
pub const GOAL_BONUS: i64 = 25;

/// How points work, as the page shows it. The one place the rules are written for people.
pub const HOW_POINTS_WORK: &str = "You earn 1 point for every minute of learning you log and 25 \
points for every goal you complete. Points count in the period in which you log the session or \
complete the goal. Editing or deleting a session, or reopening a goal, moves its points back. Streaks \
are not points. Equal points share a rank (1, 2, 2, 4); among them, names are listed in the order \
their accounts were created.";

/// Points for a session of `minutes`.
pub fn session_points(minutes: i64) -> i64 {
    minutes * POINTS_PER_MINUTE
}

pub use crate::protocol::{Period, Scope};

impl Period {
    pub const ALL: [Period; 3] = [Period::Week, Period::Month, Period::AllTime];

    /// As in JSON and in REST paths.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Week => "week",
            Period::Month => "month",
            Period::AllTime => "all-time",
        }
    }

    pub fn parse(raw: &str) -> Option<Period> {
        Period::ALL.into_iter().find(|p| p.as_str() == raw)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Global => f.write_str("school"),
            Scope::Cohort(id) => write!(f, "cohort:{id}"),
        }
    }
}

impl Scope {
    /// `school` or `cohort:{id}` (an id of 1 or more).
    pub fn parse(raw: &str) -> Option<Scope> {
        match raw.split_once(':') {
            None if raw == "school" => Some(Scope::Global),
            Some(("cohort", id)) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => id
                .parse::<CohortId>()
                .ok()
                .filter(|id| *id > 0)
                .map(Scope::Cohort),
            _ => None,
        }
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Scope::parse(&raw).ok_or_else(|| serde::de::Error::custom("expected school or cohort:{id}"))
    }
}

/// Which instance of a period: the one running now, or the one before it (its final standings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Which {
    #[default]
    Current,
    Previous,
}

/// Rows one request may ask for.
pub const MAX_LIMIT: usize = 100;
pub const DEFAULT_LIMIT: usize = 50;
/// Rows shown above and below the viewer's own.
pub const AROUND: usize = 5;

/// One row of a board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standing {
    /// Standard competition rank: 1 + how many have more points.
    pub rank: u32,
    /// `None` when the student hides their name from the viewer.
    pub user_id: Option<UserId>,
    /// Their display name, or "A student" when hidden from the viewer.
    pub name: String,
    pub points: i64,
    /// The viewer's own row.
    pub me: bool,
}

/// What a viewer sees of a board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Board {
    pub scope: Scope,
    /// The cohort's name, or the school's.
    pub scope_name: String,
    pub period: Period,
    pub which: Which,
    /// The zone the board's periods are cut in.
    pub time_zone: String,
    /// When the period began and ends (`None` for all-time).
    pub starts_at: Option<Millis>,
    pub ends_at: Option<Millis>,
    /// Students on the board (with points).
    pub ranked: u32,
    /// Rows from `offset`, at most the limit asked for.
    pub rows: Vec<Standing>,
    pub offset: u32,
    /// The viewer's row, when they are on the board.
    pub me: Option<Standing>,
    /// Up to [`AROUND`] rows above and below the viewer's.
    pub around_me: Vec<Standing>,
}

/// A board a viewer may open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeChoice {
    pub scope: Scope,
    pub name: String,
    pub time_zone: String,
}

/// The boards a viewer may open, and the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardChoices {
    /// The school first, then cohorts by name.
    pub scopes: Vec<ScopeChoice>,
    pub how_points_work: String,
}

/// One student's move on a board, as `leaderboard.moved` frames carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    /// `None` for a student who hides their name (a page showing them reads its rows again).
    pub user_id: Option<UserId>,
    /// Their display name (`None` when hidden).
    pub name: Option<String>,
    /// Rank before and after (`None`: not on the board).
    pub from: Option<u32>,
    pub to: Option<u32>,
    pub points: i64,
    pub delta: i64,
}

/// The data of a `leaderboard.moved` frame: the moves of one short interval on one board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moves {
    pub moved: Vec<Move>,
    /// Students on the board after them.
    pub ranked: u32,
}

/// The event name of a board's moves (an `ephemeral` frame on `leaderboard:{period}:{scope}`).
pub const MOVED_EVENT: &str = "leaderboard.moved";
/// At most one frame per board this often.
pub const MOVES_EVERY_MS: u64 = 250;

/// The name shown for a student who hides theirs.
pub const HIDDEN_NAME: &str = "A student";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_and_scopes_read_what_they_write() {
        for p in Period::ALL {
            assert_eq!(Period::parse(p.as_str()), Some(p));
        }
        assert_eq!(Period::parse("weekly"), None);
        for s in [Scope::Global, Scope::Cohort(7)] {
            assert_eq!(Scope::parse(&s.to_string()), Some(s));
        }
        for bad in [
            "cohort:",
            "cohort:0",
            "cohort:-1",
            "cohort:+3",
            "cohort:x",
            "schools",
            "cohort:3:4",
        ] {
            assert_eq!(Scope::parse(bad), None, "{bad}");
        }
        assert_eq!(session_points(45), 45);
    }
}
