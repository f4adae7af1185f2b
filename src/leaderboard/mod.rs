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

/// Applies a board's moves to the page a viewer holds (its top `cap` rows, their own row): rows take
/// their new points, entrants join, leavers go, the rows are ranked again. Answers whether the page
/// must read the board again instead: a move it cannot place (a student who hides their name, near
/// the rows shown), a row that fell off with no known successor, or a move across the viewer's own
/// rank while their row is not on the page.
pub fn apply_moves(board: &mut Board, moves: &Moves, me: UserId, cap: usize) -> bool {
    let mut again = false;
    let window = board.rows.len() as u32;
    let my_rank = board.me.as_ref().map(|m| m.rank);
    let me_on_page = board.rows.iter().any(|r| r.me);
    for m in &moves.moved {
        let Some(id) = m.user_id else {
            again |=
                m.from.is_some_and(|r| r <= window + 1) || m.to.is_some_and(|r| r <= window + 1);
            continue;
        };
        if let Some(row) = board.rows.iter_mut().find(|r| r.user_id == Some(id)) {
            row.points = m.points;
        } else if m.to.is_some_and(|r| r <= window + 1) {
            board.rows.push(Standing {
                rank: m.to.unwrap_or(0),
                user_id: Some(id),
                name: m.name.clone().unwrap_or_default(),
                points: m.points,
                me: id == me,
            });
        }
        if id == me {
            match (board.me.as_mut(), m.to) {
                (Some(mine), Some(r)) => {
                    mine.points = m.points;
                    mine.rank = r;
                }
                (None, Some(r)) => {
                    board.me = Some(Standing {
                        rank: r,
                        user_id: Some(id),
                        name: m.name.clone().unwrap_or_default(),
                        points: m.points,
                        me: true,
                    })
                }
                (_, None) => {
                    board.me = None;
                    board.around_me.clear();
                }
            }
        } else if let Some(mine) = my_rank.filter(|_| !me_on_page) {
            // Someone passed the viewer (or fell behind them): their rank and neighbours changed.
            let (a, b) = (m.from.unwrap_or(u32::MAX), m.to.unwrap_or(u32::MAX));
            again |=
                a.min(b) <= mine + AROUND as u32 && mine <= a.max(b).saturating_add(AROUND as u32);
        }
    }
    board.rows.retain(|r| r.points > 0);
    board.rows.sort_by_key(|r| {
        (
            std::cmp::Reverse(r.points),
            r.user_id.unwrap_or(UserId::MAX),
        )
    });
    board.rows.truncate(cap);
    for i in 0..board.rows.len() {
        board.rows[i].rank = if i > 0 && board.rows[i].points == board.rows[i - 1].points {
            board.rows[i - 1].rank
        } else {
            i as u32 + 1
        };
    }
    if let Some(row) = board.rows.iter().find(|r| r.me).cloned() {
        board.me = Some(row);
    }
    board.ranked = moves.ranked;
    again || board.rows.len() < (board.ranked as usize).min(cap)
}

/// The name shown for a student who hides theirs.
pub const HIDDEN_NAME: &str = "A student";

#[cfg(test)]
mod tests {
    use super::*;

    fn row(rank: u32, user: UserId, points: i64, me: bool) -> Standing {
        Standing {
            rank,
            user_id: Some(user),
            name: format!("u{user}"),
            points,
            me,
        }
    }

    fn board(rows: Vec<Standing>, me: Option<Standing>, ranked: u32) -> Board {
        Board {
            scope: Scope::Global,
            scope_name: "School".into(),
            period: Period::Week,
            which: Which::Current,
            time_zone: "UTC".into(),
            starts_at: None,
            ends_at: None,
            ranked,
            rows,
            offset: 0,
            me,
            around_me: vec![],
        }
    }

    fn mv(
        user: Option<UserId>,
        from: Option<u32>,
        to: Option<u32>,
        points: i64,
        delta: i64,
    ) -> Move {
        Move {
            user_id: user,
            name: user.map(|u| format!("u{u}")),
            from,
            to,
            points,
            delta,
        }
    }

    fn moves(moved: Vec<Move>, ranked: u32) -> Moves {
        Moves { moved, ranked }
    }

    #[test]
    fn moves_re_rank_the_page_and_say_when_to_read_again() {
        // 1: u1 90, 2: u2 50 (me), 3: u3 40.
        let mut b = board(
            vec![
                row(1, 1, 90, false),
                row(2, 2, 50, true),
                row(3, 3, 40, false),
            ],
            Some(row(2, 2, 50, true)),
            3,
        );
        // u3 climbs past me to first; a newcomer u4 enters at 4.
        let m = moves(
            vec![
                mv(Some(3), Some(3), Some(1), 95, 55),
                mv(Some(4), None, Some(4), 10, 10),
            ],
            4,
        );
        assert!(!apply_moves(&mut b, &m, 2, 50));
        let ranks: Vec<(u32, Option<UserId>, i64)> = b
            .rows
            .iter()
            .map(|r| (r.rank, r.user_id, r.points))
            .collect();
        assert_eq!(
            ranks,
            [
                (1, Some(3), 95),
                (2, Some(1), 90),
                (3, Some(2), 50),
                (4, Some(4), 10)
            ]
        );
        assert_eq!(
            b.me.as_ref().map(|m| m.rank),
            Some(3),
            "my rank follows the page"
        );
        // A tie shares the rank.
        assert!(!apply_moves(
            &mut b,
            &moves(vec![mv(Some(4), Some(4), Some(3), 50, 40)], 4),
            2,
            50
        ));
        assert_eq!(
            b.rows.iter().map(|r| r.rank).collect::<Vec<_>>(),
            [1, 2, 3, 3]
        );
        // Someone leaves the board: the page held all of it, nothing to read.
        assert!(!apply_moves(
            &mut b,
            &moves(vec![mv(Some(1), Some(2), None, 0, -90)], 3),
            2,
            50
        ));
        assert_eq!(b.rows.len(), 3);
        // A hidden student near the page: read again.
        assert!(apply_moves(
            &mut b,
            &moves(vec![mv(None, None, Some(2), 70, 70)], 4),
            2,
            50
        ));
    }

    #[test]
    fn a_full_page_drops_its_last_row_and_a_viewer_off_the_page_reads_again_when_passed() {
        let mut b = board(
            vec![row(1, 1, 90, false), row(2, 2, 50, false)],
            Some(row(9, 7, 5, true)),
            9,
        );
        // u3 climbs from 3 to 2 on a page of two: u2 falls off the page, no read needed (the viewer,
        // ninth, is not passed).
        assert!(!apply_moves(
            &mut b,
            &moves(vec![mv(Some(3), Some(3), Some(2), 60, 20)], 9),
            7,
            2
        ));
        assert_eq!(
            b.rows.iter().map(|r| r.user_id).collect::<Vec<_>>(),
            [Some(1), Some(3)]
        );
        // Someone passes the viewer (from 10 to 8): their rank changed; read again.
        assert!(apply_moves(
            &mut b,
            &moves(vec![mv(Some(5), Some(10), Some(8), 6, 2)], 9),
            7,
            2
        ));
        // Someone far above changes: nothing for the viewer.
        assert!(!apply_moves(
            &mut b,
            &moves(vec![mv(Some(1), Some(2), Some(2), 95, 5)], 9),
            7,
            2
        ));
    }

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
