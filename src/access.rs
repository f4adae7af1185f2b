//! Who may read and write which realtime topic. One pure function per question, so the rules can be
//! read in one place and tested for every topic kind and role without a database.

use crate::model::{CohortId, Role, UserId};
use crate::protocol::{KpiModule, RoomId, Scope, Topic};

/// Ephemeral events clients may publish.
pub const CLIENT_EVENTS: [&str; 1] = ["typing"];

/// What the rules need to know about a user. Loaded fresh when a subscription is made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub role: Option<Role>,
    pub cohort_id: Option<CohortId>,
    /// Students this user mentors.
    pub students: Vec<UserId>,
    /// Cohorts those students belong to (a mentor follows their students' cohorts).
    pub mentored_cohorts: Vec<CohortId>,
    /// Chat rooms the user is a member of.
    pub rooms: Vec<RoomId>,
}

impl Principal {
    fn is(&self, role: Role) -> bool {
        self.role == Some(role)
    }

    fn in_cohort(&self, cohort: CohortId) -> bool {
        self.cohort_id == Some(cohort) || self.mentored_cohorts.contains(&cohort)
    }
}

/// Whether `who` may receive events on `topic`.
pub fn can_subscribe(who: &Principal, topic: &Topic) -> bool {
    if who.role.is_none() {
        return false;
    }
    match topic {
        // An inbox is its owner's alone, and a chat room its members' (admins included: a direct
        // room is private to its two people).
        Topic::Inbox(id) => return *id == who.user_id,
        Topic::Room(id) => return who.rooms.contains(id),
        _ => {}
    }
    if who.is(Role::Admin) {
        return true;
    }
    match topic {
        Topic::Inbox(_) | Topic::Room(_) => false,
        Topic::User(id) => *id == who.user_id || who.students.contains(id),
        Topic::Cohort(id) => who.in_cohort(*id),
        Topic::Role(role) => who.is(*role),
        Topic::Leaderboard(_, Scope::Global) => true,
        Topic::Leaderboard(_, Scope::Cohort(id)) => who.in_cohort(*id),
        Topic::Kpi(module) => who.is(Role::Mentor) && *module == KpiModule::Mentoring,
        Topic::Announcements => true,
    }
}

/// Whether a signed-in user keeps access to `topic` whatever happens to their role, cohort or
/// assignments (their own stream, announcements, global leaderboards). Open subscriptions to such
/// topics need no periodic re-check; losing the account itself ends the session instead.
pub fn always_readable(user_id: UserId, topic: &Topic) -> bool {
    match topic {
        Topic::User(id) | Topic::Inbox(id) => *id == user_id,
        Topic::Announcements | Topic::Leaderboard(_, Scope::Global) => true,
        _ => false,
    }
}

/// Whether `who` may publish the ephemeral `event` on `topic`.
pub fn can_publish(who: &Principal, topic: &Topic, event: &str) -> bool {
    topic.accepts_client_events() && CLIENT_EVENTS.contains(&event) && can_subscribe(who, topic)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Period;

    fn principal(id: UserId, role: Role) -> Principal {
        Principal {
            user_id: id,
            role: Some(role),
            ..Default::default()
        }
    }

    /// Every topic kind against a student (1, cohort 10, room 100), another student (2, cohort 20),
    /// their mentor (3, mentoring 1 in cohort 10), an unrelated mentor (4) and an admin (5).
    #[test]
    fn subscription_rules_for_every_topic_and_role() {
        let student = Principal {
            cohort_id: Some(10),
            rooms: vec![100],
            ..principal(1, Role::Student)
        };
        let other = Principal {
            cohort_id: Some(20),
            ..principal(2, Role::Student)
        };
        let mentor = Principal {
            students: vec![1],
            mentored_cohorts: vec![10],
            ..principal(3, Role::Mentor)
        };
        let stranger = principal(4, Role::Mentor);
        let admin = principal(5, Role::Admin);
        let nobody = Principal {
            user_id: 6,
            role: None,
            ..Default::default()
        };
        use Topic::{Announcements, Cohort, Kpi, Leaderboard, Room, User};
        let cases: Vec<(Topic, [bool; 5])> = vec![
            //                                          student other  mentor stranger admin
            (User(1), [true, false, true, false, true]),
            (User(2), [false, true, false, false, true]),
            (Topic::Inbox(1), [true, false, false, false, false]),
            (Topic::Inbox(5), [false, false, false, false, true]),
            (Room(100), [true, false, false, false, false]),
            (Cohort(10), [true, false, true, false, true]),
            (Cohort(20), [false, true, false, false, true]),
            (Topic::Role(Role::Student), [true, true, false, false, true]),
            (Topic::Role(Role::Mentor), [false, false, true, true, true]),
            (Topic::Role(Role::Admin), [false, false, false, false, true]),
            (
                Leaderboard(Period::Week, Scope::Global),
                [true, true, true, true, true],
            ),
            (
                Leaderboard(Period::Month, Scope::Cohort(10)),
                [true, false, true, false, true],
            ),
            (Kpi(KpiModule::Learning), [false, false, false, false, true]),
            (Kpi(KpiModule::Mentoring), [false, false, true, true, true]),
            (Announcements, [true, true, true, true, true]),
        ];
        let who = [&student, &other, &mentor, &stranger, &admin];
        for (topic, expected) in cases {
            for (p, want) in who.iter().zip(expected) {
                assert_eq!(
                    can_subscribe(p, &topic),
                    want,
                    "user {} on {topic}",
                    p.user_id
                );
            }
            assert!(
                !can_subscribe(&nobody, &topic),
                "no role, no access to {topic}"
            );
        }
    }

    #[test]
    fn only_unconditional_topics_skip_the_recheck() {
        let p = principal(1, Role::Student);
        for topic in [
            Topic::User(1),
            Topic::Inbox(1),
            Topic::Announcements,
            Topic::Leaderboard(Period::Week, Scope::Global),
        ] {
            assert!(always_readable(1, &topic), "{topic}");
            assert!(
                can_subscribe(&p, &topic),
                "{topic} must also pass the full rule"
            );
        }
        for topic in [
            Topic::User(2),
            Topic::Inbox(2),
            Topic::Cohort(1),
            Topic::Room(1),
            Topic::Role(Role::Student),
        ] {
            assert!(!always_readable(1, &topic), "{topic}");
        }
    }

    #[test]
    fn clients_publish_only_typing_where_they_may_read() {
        let student = Principal {
            cohort_id: Some(10),
            rooms: vec![100],
            ..principal(1, Role::Student)
        };
        assert!(can_publish(&student, &Topic::Room(100), "typing"));
        assert!(can_publish(&student, &Topic::Cohort(10), "typing"));
        assert!(
            !can_publish(&student, &Topic::Room(101), "typing"),
            "not a member"
        );
        assert!(
            !can_publish(&student, &Topic::Room(100), "notification.created"),
            "durable kinds are server-only"
        );
        assert!(
            !can_publish(&student, &Topic::User(1), "typing"),
            "user streams take no client events"
        );
        assert!(!can_publish(&student, &Topic::Announcements, "typing"));
    }
}
