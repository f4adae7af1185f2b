//! How the core's snapshots follow their topics: the announcements list, the admin's figures and the
//! student's learning log. (Pages' own view types implement [`Follow`] beside their page.)

use super::{DurableEvent, Follow, Removed};
use crate::learning::{LearningChange, LearningSnapshot, StudentRow, SystemFigures};
use crate::model::Announcement;

/// The newest announcements, newest first, at most [`crate::model::ANNOUNCEMENTS_LATEST`].
impl Follow for Vec<Announcement> {
    fn apply(&mut self, event: &DurableEvent) {
        use DurableEvent::*;
        match event {
            AnnouncementCreated(a) => {
                if !self.iter().any(|x| x.id == a.id) {
                    self.insert(0, a.clone());
                    self.truncate(crate::model::ANNOUNCEMENTS_LATEST);
                }
            }
            AnnouncementUpdated(a) => {
                if let Some(old) = self.iter_mut().find(|x| x.id == a.id) {
                    *old = a.clone();
                }
            }
            AnnouncementDeleted(Removed { id }) => self.retain(|x| x.id != *id),
            LearningChanged(_) | ActivityCreated(_) | FiguresUpdated(_) => {}
            NotificationCreated(_) | NotificationsMarked(_) | NotificationsDeleted(_)
            | NotificationsCleared(_) | NotificationsExpired(_) | PreferencesChanged(_) => {}
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
            NotificationCreated(_) | NotificationsMarked(_) | NotificationsDeleted(_)
            | NotificationsCleared(_) | NotificationsExpired(_) | PreferencesChanged(_) => {}
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
            NotificationCreated(_) | NotificationsMarked(_) | NotificationsDeleted(_)
            | NotificationsCleared(_) | NotificationsExpired(_) | PreferencesChanged(_) => return,
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
            NotificationCreated(_) | NotificationsMarked(_) | NotificationsDeleted(_)
            | NotificationsCleared(_) | NotificationsExpired(_) | PreferencesChanged(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn announcement(id: i64, title: &str) -> Announcement {
        Announcement {
            id,
            title: title.into(),
            body: "Body".into(),
            author_name: None,
            created_at: 1,
            offset: id,
        }
    }

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
}
