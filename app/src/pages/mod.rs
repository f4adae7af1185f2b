//! One module per page.

pub mod activity;
pub mod admin_tokens;
pub mod admin_users;
pub mod announcements;
pub mod chat;
pub mod dashboard;
pub mod lazy;
pub mod leaderboard;
pub mod learning;
pub mod login;
pub mod not_found;
pub mod notifications;
pub mod profile;
pub mod register;
