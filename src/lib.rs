//! Studyhall core: the typed models, errors and validation shared by the server and the WASM client.
//!
//! One folder per domain (`accounts`, `learning`, `feed`, `notifications`, `announcements`): its
//! `mod.rs` holds the wire types and validation, which compile to WASM; behind the `server` feature the
//! same folder holds the domain's services (`service.rs` or `service/`). [`server`] is infrastructure
//! only: the database and its dialect, the realtime layer, idempotent creates, the adapters' shared
//! request context and the demo data. The `server` feature is never enabled for the browser build.

pub mod access;
pub mod accounts;
pub mod announcements;
pub mod chat;
pub mod error;
pub mod events;
pub mod feed;
pub mod leaderboard;
pub mod learning;
pub mod model;
pub mod notifications;
pub mod protocol;
pub mod validate;

#[cfg(feature = "server")]
pub mod server;

#[cfg(feature = "test-support")]
pub mod testing;

pub use error::{AppError, FieldError};
