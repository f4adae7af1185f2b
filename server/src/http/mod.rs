//! HTTP middleware: request ids, security headers, the cross-site check, authentication and the
//! server functions' boundary (content type, size and UTF-8 in; error statuses out).

pub mod auth;
pub mod csrf;
pub mod request_id;
pub mod security;
pub mod server_fns;
