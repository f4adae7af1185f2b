//! Who may talk to whom: one pure rule, checked by the chat service on every direct room it opens and
//! every member it adds, whatever the adapter. Students talk with their mentors, with members of
//! their cohort and with members of their study groups; admins with everyone.

use crate::model::{CohortId, Role, UserId};
use crate::protocol::RoomId;

/// What the rule needs to know about one person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Party {
    pub id: UserId,
    /// `None` for a disabled account, which talks with no one.
    pub role: Option<Role>,
    /// A student's own cohort; a mentor's are the cohorts of the students they mentor.
    pub cohorts: Vec<CohortId>,
    /// A student's mentors; a mentor's students.
    pub mentoring: Vec<UserId>,
    /// The study groups (their rooms) the person belongs to.
    pub groups: Vec<RoomId>,
}

/// Whether `a` and `b` may have a direct room, or be put in one room by its owner.
pub fn may_talk(a: &Party, b: &Party) -> bool {
    let (Some(role_a), Some(role_b)) = (a.role, b.role) else {
        return false;
    };
    if a.id == b.id {
        return false;
    }
    if role_a == Role::Admin || role_b == Role::Admin {
        return true;
    }
    let shares = |x: &[i64], y: &[i64]| x.iter().any(|v| y.contains(v));
    a.mentoring.contains(&b.id)
        || b.mentoring.contains(&a.id)
        || shares(&a.cohorts, &b.cohorts)
        || shares(&a.groups, &b.groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(id: UserId, role: Role) -> Party {
        Party {
            id,
            role: Some(role),
            ..Default::default()
        }
    }

    /// Ana (1) and Ben (2) in cohort 10, Cy (3) in cohort 20, Maya (4) mentoring Ana, Max (5) an
    /// unrelated mentor, Ada (6) an admin, Dee (7) in cohort 20 but in a study group with Ana.
    #[test]
    fn who_may_talk_per_role() {
        let ana = Party {
            cohorts: vec![10],
            mentoring: vec![4],
            groups: vec![900],
            ..party(1, Role::Student)
        };
        let ben = Party {
            cohorts: vec![10],
            ..party(2, Role::Student)
        };
        let cy = Party {
            cohorts: vec![20],
            ..party(3, Role::Student)
        };
        let maya = Party {
            cohorts: vec![10],
            mentoring: vec![1],
            ..party(4, Role::Mentor)
        };
        let max = party(5, Role::Mentor);
        let ada = party(6, Role::Admin);
        let dee = Party {
            cohorts: vec![20],
            groups: vec![900],
            ..party(7, Role::Student)
        };
        let yes = [
            (&ana, &ben, "same cohort"),
            (&ana, &maya, "student and mentor"),
            (&ben, &maya, "a mentor and the cohort of their students"),
            (&ana, &dee, "same study group"),
            (&ada, &cy, "an admin with a student"),
            (&max, &ada, "a mentor with an admin"),
        ];
        for (a, b, why) in yes {
            assert!(may_talk(a, b), "{why}");
            assert!(may_talk(b, a), "{why}, the other way round");
        }
        let no = [
            (&ana, &cy, "a student of another cohort"),
            (&ana, &max, "an unrelated mentor"),
            (&cy, &maya, "a mentor of another cohort"),
            (&ana, &ana, "oneself"),
        ];
        for (a, b, why) in no {
            assert!(!may_talk(a, b), "{why}");
            assert!(!may_talk(b, a), "{why}, the other way round");
        }
        let disabled = Party {
            role: None,
            ..ben.clone()
        };
        assert!(!may_talk(&ana, &disabled), "a disabled account");
        assert!(!may_talk(&ada, &disabled), "not even with an admin");
    }
}
