//! System-wide announcements: the wire types, and behind the `server` feature the service that posts,
//! edits and deletes them.

use crate::model::{Millis, Position};
use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
pub mod service;

/// A system-wide announcement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub author_name: Option<String>,
    pub created_at: Millis,
    /// The offset of its event on the `announcements` topic.
    pub offset: i64,
}

/// How many announcements a snapshot holds and the panel shows (one limit for every adapter).
pub const ANNOUNCEMENTS_LATEST: usize = 20;

/// The latest announcements and the log position they are current to: subscribe from there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnouncementsSnapshot {
    pub items: Vec<Announcement>,
    pub position: Position,
}
