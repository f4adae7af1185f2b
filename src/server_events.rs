//! Names of the durable events the server writes, shared with the browser that applies them.

/// On `announcements`: data is a [`crate::model::Announcement`].
pub const ANNOUNCEMENT_CREATED: &str = "announcement.created";
