//! One board's order, kept up to date change by change: an order-statistic B-tree (`indexset`) of
//! (points, more first; then user id) beside each student's points. The rank of anyone, a page from
//! any offset and the rows around someone each cost O(log n), however large the board. When several
//! nodes run, a Redis sorted set serves the same [`Standings`] operations.

use crate::model::UserId;
use std::cmp::Reverse;
use std::collections::HashMap;

/// How a student's rank changed with one update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    pub user: UserId,
    /// Their rank before (`None`: they were not on the board).
    pub from: Option<u32>,
    /// Their rank now (`None`: they left the board, at 0 points).
    pub to: Option<u32>,
    pub points: i64,
    pub delta: i64,
}

/// The operations a board needs.
pub trait Standings {
    /// Sets `user`'s points (0 takes them off the board); what changed for them.
    fn set(&mut self, user: UserId, points: i64) -> Option<Moved>;
    fn points(&self, user: UserId) -> Option<i64>;
    /// Standard competition rank (1 + how many have more points), if on the board.
    fn rank(&self, user: UserId) -> Option<u32>;
    /// `limit` rows from `offset` (0-based), in board order: (user, points, rank).
    fn page(&self, offset: usize, limit: usize) -> Vec<(UserId, i64, u32)>;
    /// `user`'s index in board order (0-based).
    fn index_of(&self, user: UserId) -> Option<usize>;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

type Key = (Reverse<i64>, UserId);

#[derive(Default)]
pub struct MemoryStandings {
    order: indexset::BTreeSet<Key>,
    points: HashMap<UserId, i64>,
}

impl MemoryStandings {
    /// A board from every student's points.
    pub fn from_points(points: impl IntoIterator<Item = (UserId, i64)>) -> MemoryStandings {
        let mut board = MemoryStandings::default();
        for (user, p) in points {
            board.set(user, p);
        }
        board
    }

    /// How many have more than `points`.
    fn above(&self, points: i64) -> usize {
        self.order.rank(&(Reverse(points), UserId::MIN))
    }
}

impl Standings for MemoryStandings {
    fn set(&mut self, user: UserId, points: i64) -> Option<Moved> {
        let old = self.points.get(&user).copied();
        if old == Some(points) || (old.is_none() && points <= 0) {
            return None;
        }
        let from = self.rank(user);
        if let Some(old) = old {
            self.order.remove(&(Reverse(old), user));
        }
        if points > 0 {
            self.order.insert((Reverse(points), user));
            self.points.insert(user, points);
        } else {
            self.points.remove(&user);
        }
        Some(Moved {
            user,
            from,
            to: self.rank(user),
            points: points.max(0),
            delta: points.max(0) - old.unwrap_or(0),
        })
    }

    fn points(&self, user: UserId) -> Option<i64> {
        self.points.get(&user).copied()
    }

    fn rank(&self, user: UserId) -> Option<u32> {
        let points = self.points(user)?;
        Some(self.above(points) as u32 + 1)
    }

    fn page(&self, offset: usize, limit: usize) -> Vec<(UserId, i64, u32)> {
        let end = (offset + limit).min(self.order.len());
        if offset >= end {
            return Vec::new();
        }
        let mut rows = Vec::with_capacity(end - offset);
        // Rank of the first row by lookup, then by walking: equal points share the rank.
        let mut last: Option<(i64, u32)> = None;
        for (i, (Reverse(points), user)) in self.order.range_idx(offset..end).enumerate() {
            let rank = match last {
                Some((p, r)) if p == *points => r,
                _ if i == 0 => self.above(*points) as u32 + 1,
                _ => (offset + i) as u32 + 1,
            };
            last = Some((*points, rank));
            rows.push((*user, *points, rank));
        }
        rows
    }

    fn index_of(&self, user: UserId) -> Option<usize> {
        let points = self.points(user)?;
        Some(self.order.rank(&(Reverse(points), user)))
    }

    fn len(&self) -> usize {
        self.order.len()
    }
}

/// The ranks by full recomputation (sort everyone): what the structure must always agree with.
pub fn recompute(points: &HashMap<UserId, i64>) -> Vec<(UserId, i64, u32)> {
    let mut rows: Vec<(UserId, i64)> = points
        .iter()
        .filter(|(_, p)| **p > 0)
        .map(|(u, p)| (*u, *p))
        .collect();
    rows.sort_by_key(|(u, p)| (Reverse(*p), *u));
    let mut out: Vec<(UserId, i64, u32)> = Vec::with_capacity(rows.len());
    for (i, (user, points)) in rows.into_iter().enumerate() {
        let rank = match out.last() {
            Some((_, p, r)) if *p == points => *r,
            _ => i as u32 + 1,
        };
        out.push((user, points, rank));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_a_rank_and_the_next_skips() {
        let mut b = MemoryStandings::from_points([(1, 50), (2, 80), (3, 50), (4, 20), (5, 0)]);
        assert_eq!(
            b.page(0, 10),
            [(2, 80, 1), (1, 50, 2), (3, 50, 2), (4, 20, 4)],
            "1, 2, 2, 4; equals by user id; nobody at 0 points"
        );
        assert_eq!(
            b.page(2, 2),
            [(3, 50, 2), (4, 20, 4)],
            "a page starting inside a tie"
        );
        assert_eq!(b.rank(5), None);
        let moved = b.set(4, 90).expect("moved");
        assert_eq!(
            (moved.from, moved.to, moved.points, moved.delta),
            (Some(4), Some(1), 90, 70)
        );
        assert_eq!(b.set(4, 90), None, "no change, no move");
        let gone = b.set(2, 0).expect("left");
        assert_eq!((gone.from, gone.to), (Some(2), None));
        assert_eq!(b.index_of(3), Some(2));
        assert_eq!(b.len(), 3);
    }

    #[test]
    fn it_agrees_with_a_full_recomputation_after_ten_thousand_random_changes() {
        // A small xorshift generator: the same sequence every run, no dependency.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let mut board = MemoryStandings::default();
        let mut truth: HashMap<UserId, i64> = HashMap::new();
        for step in 0..10_000 {
            let user = next(300) as UserId + 1;
            let current = truth.get(&user).copied().unwrap_or(0);
            // Log (add), edit (change by a little either way) or delete (take some back).
            let points = match next(3) {
                0 => current + next(120) as i64 + 1,
                1 => (current + next(61) as i64 - 30).max(0),
                _ => (current - next(200) as i64).max(0),
            };
            truth.insert(user, points);
            board.set(user, points);
            if step % 500 == 0 || step == 9_999 {
                let all = recompute(&truth);
                assert_eq!(board.page(0, usize::MAX / 2), all, "after {step} changes");
                for (i, (user, _, rank)) in all.iter().enumerate() {
                    assert_eq!(board.rank(*user), Some(*rank));
                    assert_eq!(board.index_of(*user), Some(i));
                }
                // Any page agrees with the same slice of the recomputation.
                let offset = next(all.len().max(1) as u64) as usize;
                let end = (offset + 7).min(all.len());
                assert_eq!(board.page(offset, 7), all[offset..end]);
            }
        }
    }
}
