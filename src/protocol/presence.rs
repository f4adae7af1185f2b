//! A presence topic's people as a client keeps them: who is present and, of them, who is away,
//! from the server's `presence` snapshot and its `presence_diff`s applied in the order received.

use crate::model::UserId;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PresenceSet {
    pub here: Vec<UserId>,
    /// Always a subset of `here`.
    pub away: Vec<UserId>,
}

impl PresenceSet {
    /// A `presence` snapshot.
    pub fn new(present: Vec<UserId>, away: Vec<UserId>) -> Self {
        let away = away.into_iter().filter(|u| present.contains(u)).collect();
        PresenceSet {
            here: present,
            away,
        }
    }

    /// A `presence_diff`, as docs/PROTOCOL.md orders it: `left` and `joined` first, then `back` and
    /// `away` (someone who arrives away is in both `joined` and `away`).
    pub fn apply_diff(
        &mut self,
        joined: &[UserId],
        left: &[UserId],
        away: &[UserId],
        back: &[UserId],
    ) {
        self.here.retain(|u| !left.contains(u));
        for u in joined {
            if !self.here.contains(u) {
                self.here.push(*u);
            }
        }
        self.away
            .retain(|u| !left.contains(u) && !joined.contains(u) && !back.contains(u));
        for u in away {
            if self.here.contains(u) && !self.away.contains(u) {
                self.away.push(*u);
            }
        }
    }

    pub fn is_here(&self, user: UserId) -> bool {
        self.here.contains(&user)
    }

    pub fn is_away(&self, user: UserId) -> bool {
        self.away.contains(&user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_move_people_in_and_out_and_away_and_back() {
        let mut p = PresenceSet::new(vec![1, 2], vec![2, 9]);
        assert_eq!(p.away, [2], "someone not present is never away");
        p.apply_diff(&[3], &[], &[3], &[]);
        assert!(p.is_here(3) && p.is_away(3), "arrived away");
        p.apply_diff(&[], &[], &[], &[2]);
        assert!(p.is_here(2) && !p.is_away(2), "back");
        p.apply_diff(&[], &[3], &[], &[]);
        assert!(
            !p.is_here(3) && !p.is_away(3),
            "who leaves is no longer away"
        );
        p.apply_diff(&[1], &[], &[], &[]);
        assert_eq!(p.here, [1, 2], "a second arrival is not a second entry");
        p.apply_diff(&[], &[], &[7], &[]);
        assert!(!p.is_away(7), "away without being present is ignored");
    }
}
