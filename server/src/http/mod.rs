//! HTTP middleware: request ids, security headers, the cross-site check and authentication.

pub mod auth;
pub mod csrf;
pub mod request_id;
pub mod security;
