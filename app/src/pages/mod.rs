//! One module per page.

pub mod admin_users;
pub mod announcements;
pub mod dashboard;
pub mod login;
pub mod not_found;
pub mod profile;
pub mod register;
