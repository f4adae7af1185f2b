//! How the core's snapshots follow their topics: the announcements list, the admin's figures and the
//! student's learning log. (Pages' own view types implement [`Follow`] beside their page.)

use super::{DurableEvent, Follow, Removed};
use crate::announcements::Announcement;
use crate::learning::{LearningChange, LearningSnapshot, StudentRow, SystemFigures};

/// The newest announcements, newest first, at most [`crate::announcements::ANNOUNCEMENTS_LATEST`].
impl Follow for Vec<Announcement> {
    fn apply(&mut self, event: &DurableEvent) {
        use DurableEvent::*;
        match event {
            AnnouncementCreated(a) => {
                if !self.iter().any(|x| x.id == a.id) {
                    self.insert(0, a.clone());
                    self.truncate(crate::announcements::ANNOUNCEMENTS_LATEST);
                }
            }
            AnnouncementUpdated(a) => {
                if let Some(old) = self.iter_mut().find(|x| x.id == a.id) {
                    *old = a.clone();
                }
            }
            AnnouncementDeleted(Removed { id }) => self.retain(|x| x.id != *id),
            LearningChanged(_) | ActivityCreated(_) | FiguresUpdated(_) => {}
            NotificationCreated(_)
            | NotificationsMarked(_)
            | NotificationsDeleted(_)
            | NotificationsCleared(_)
            | NotificationsExpired(_)
            | PreferencesChanged(_) => {}
            ChatMessagePosted(_)
            | ChatMessageEdited(_)
            | ChatMessageDeleted(_)
            | ChatReactionsChanged(_)
            | ChatRead(_)
            | ChatRoomJoined(_)
            | ChatRoomLeft(_)
            | ChatRoomChanged(_) => {}
        }
    }
}

/// The admin's system figures: each event replaces them.
impl Follow for SystemFigures {
    fn apply(&mut self, event: &DurableEvent) {
        use DurableEvent::*;
        match event {
            FiguresUpdated(f) => *self = f.clone(),
            AnnouncementCreated(_) | AnnouncementUpdated(_) | AnnouncementDeleted(_) => {}
            LearningChanged(_) | ActivityCreated(_) => {}
            NotificationCreated(_)
            | NotificationsMarked(_)
            | NotificationsDeleted(_)
            | NotificationsCleared(_)
            | NotificationsExpired(_)
            | PreferencesChanged(_) => {}
            ChatMessagePosted(_)
            | ChatMessageEdited(_)
            | ChatMessageDeleted(_)
            | ChatReactionsChanged(_)
            | ChatRead(_)
            | ChatRoomJoined(_)
            | ChatRoomLeft(_)
            | ChatRoomChanged(_) => {}
        }
    }
}

/// The student's log on `user:{id}`: each `learning.changed` carries the change and the new figures.
impl Follow for LearningSnapshot {
    fn apply(&mut self, event: &DurableEvent) {
        use DurableEvent::*;
        let c = match event {
            LearningChanged(c) => c,
            ActivityCreated(_) | FiguresUpdated(_) => return,
            AnnouncementCreated(_) | AnnouncementUpdated(_) | AnnouncementDeleted(_) => return,
            NotificationCreated(_)
            | NotificationsMarked(_)
            | NotificationsDeleted(_)
            | NotificationsCleared(_)
            | NotificationsExpired(_)
            | PreferencesChanged(_) => return,
            ChatMessagePosted(_)
            | ChatMessageEdited(_)
            | ChatMessageDeleted(_)
            | ChatReactionsChanged(_)
            | ChatRead(_)
            | ChatRoomJoined(_)
            | ChatRoomLeft(_)
            | ChatRoomChanged(_) => return,
        };
        match &c.change {
            LearningChange::SessionSaved { session } => {
                self.sessions.retain(|s| s.id != session.id);
                self.sessions.push(session.clone());
                self.sort_sessions();
            }
            LearningChange::SessionDeleted { id } => self.sessions.retain(|s| s.id != *id),
            LearningChange::GoalSaved { goal } => {
                match self.goals.iter_mut().find(|g| g.id == goal.id) {
                    Some(g) => *g = goal.clone(),
                    None => self.goals.insert(0, goal.clone()),
                }
            }
            LearningChange::GoalDeleted { id } => self.goals.retain(|g| g.id != *id),
            LearningChange::SkillAdded { skill } => {
                if !self.skills.iter().any(|s| s.id == skill.id) {
                    self.skills.push(skill.clone());
                    self.skills.sort_by_key(|s| s.name.to_lowercase());
                }
            }
            LearningChange::SkillDeleted { id } => self.skills.retain(|s| s.id != *id),
        }
        self.analytics = c.analytics.clone();
    }
}

/// A row of a mentor's table follows its student's `user:{id}`: the figures from each learning
/// change, the last activity from each activity.
impl Follow for StudentRow {
    fn apply(&mut self, event: &DurableEvent) {
        use DurableEvent::*;
        match event {
            LearningChanged(c) => {
                self.this_week_minutes = c.analytics.this_week_minutes;
                self.current_streak = c.analytics.current_streak;
                self.total_minutes = c.analytics.total_minutes;
            }
            ActivityCreated(a) => {
                self.last_activity_at = self.last_activity_at.max(Some(a.created_at))
            }
            FiguresUpdated(_) => {}
            AnnouncementCreated(_) | AnnouncementUpdated(_) | AnnouncementDeleted(_) => {}
            NotificationCreated(_)
            | NotificationsMarked(_)
            | NotificationsDeleted(_)
            | NotificationsCleared(_)
            | NotificationsExpired(_)
            | PreferencesChanged(_) => {}
            ChatMessagePosted(_)
            | ChatMessageEdited(_)
            | ChatMessageDeleted(_)
            | ChatReactionsChanged(_)
            | ChatRead(_)
            | ChatRoomJoined(_)
            | ChatRoomLeft(_)
            | ChatRoomChanged(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::announcement;
    use super::*;

    #[test]
    fn announcements_follow_create_edit_delete_and_ignore_a_replay() {
        let mut list = vec![announcement(1, "One")];
        let created = DurableEvent::AnnouncementCreated(announcement(2, "Two"));
        list.apply(&created);
        list.apply(&created);
        assert_eq!(list.iter().map(|a| a.id).collect::<Vec<_>>(), [2, 1]);
        list.apply(&DurableEvent::AnnouncementUpdated(announcement(1, "Uno")));
        assert_eq!(list[1].title, "Uno");
        list.apply(&DurableEvent::AnnouncementDeleted(Removed { id: 2 }));
        assert_eq!(list.iter().map(|a| a.id).collect::<Vec<_>>(), [1]);
        list.apply(&DurableEvent::FiguresUpdated(SystemFigures::default()));
        assert_eq!(list.len(), 1);
    }

    fn figures(sessions: i64) -> crate::learning::Analytics {
        serde_json::from_value(serde_json::json!({
            "user_id": 1, "total_minutes": 30 * sessions, "current_streak": 1, "longest_streak": 1,
            "sessions": sessions, "goals_set": 0, "goals_completed": 0, "skills": 0, "weekly": [],
            "monthly": [], "this_week_minutes": 30 * sessions, "last_session_day": null,
            "computed_at": 0, "today": "2026-12-03"
        }))
        .unwrap()
    }

    fn session(id: i64, day: &str, topic: &str) -> crate::learning::LearningSession {
        crate::learning::LearningSession {
            id,
            user_id: 1,
            day: day.into(),
            minutes: 30,
            topic: topic.into(),
            note: None,
            created_at: 0,
            updated_at: id,
        }
    }

    fn saved(s: crate::learning::LearningSession, count: i64) -> DurableEvent {
        DurableEvent::LearningChanged(crate::learning::LearningChanged {
            change: LearningChange::SessionSaved { session: s },
            analytics: figures(count),
        })
    }

    #[test]
    fn the_learning_log_follows_saves_edits_and_deletes_in_list_order() {
        let mut log = LearningSnapshot {
            sessions: vec![session(1, "2026-12-01", "SQL")],
            more_sessions: None,
            goals: vec![],
            skills: vec![],
            analytics: figures(1),
            position: crate::model::Position {
                epoch: "e".into(),
                offset: 1,
            },
        };
        log.apply(&saved(session(2, "2026-11-30", "Rust"), 2));
        log.apply(&saved(session(3, "2026-12-02", "Go"), 3));
        // An edit moves the session to its new day and replaces it; it is never listed twice.
        log.apply(&saved(session(2, "2026-12-03", "Rust, again"), 3));
        let listed: Vec<_> = log
            .sessions
            .iter()
            .map(|s| (s.id, s.topic.as_str()))
            .collect();
        assert_eq!(listed, [(2, "Rust, again"), (3, "Go"), (1, "SQL")]);
        assert_eq!(
            log.analytics.sessions, 3,
            "the event's figures replace the old ones"
        );
        log.apply(&DurableEvent::LearningChanged(
            crate::learning::LearningChanged {
                change: LearningChange::SessionDeleted { id: 3 },
                analytics: figures(2),
            },
        ));
        assert_eq!(
            log.sessions.iter().map(|s| s.id).collect::<Vec<_>>(),
            [2, 1]
        );
        // Another topic's kind changes nothing.
        let before = log.clone();
        log.apply(&DurableEvent::FiguresUpdated(SystemFigures::default()));
        assert_eq!(log, before);
    }
}
