//! Names of the durable events the server writes, shared with the browser that applies them.

/// On `announcements`: data is a [`crate::model::Announcement`].
pub const ANNOUNCEMENT_CREATED: &str = "announcement.created";
/// On `announcements`: an admin edited one; data is the whole [`crate::model::Announcement`], its
/// `offset` still that of its `announcement.created` (its place in the list does not change).
pub const ANNOUNCEMENT_UPDATED: &str = "announcement.updated";
/// On `announcements`: an admin deleted one; data is `{"id": <announcement id>}`.
pub const ANNOUNCEMENT_DELETED: &str = "announcement.deleted";

/// On `user:{id}`: the student's log changed; data is a [`crate::learning::LearningChanged`].
pub const LEARNING_CHANGED: &str = "learning.changed";
/// On `user:{id}` (the actor's stream) and `role:admin`: data is a [`crate::feed::Activity`].
pub const ACTIVITY_CREATED: &str = "activity.created";
/// On `inbox:{id}`: data is a [`crate::notify::InboxEvent`]; the name says which change it carries.
pub const NOTIFICATION_CREATED: &str = "notification.created";
pub const NOTIFICATIONS_MARKED: &str = "notifications.marked";
pub const NOTIFICATIONS_DELETED: &str = "notifications.deleted";
pub const NOTIFICATIONS_CLEARED: &str = "notifications.cleared";
pub const NOTIFICATIONS_EXPIRED: &str = "notifications.expired";
pub const PREFERENCES_CHANGED: &str = "preferences.changed";
/// On `kpi:system`: data is a [`crate::learning::SystemFigures`], replacing the previous one.
pub const FIGURES_UPDATED: &str = "figures.updated";
