//! Studyhall core: the typed models, errors and validation shared by the server and the WASM client.
//!
//! Everything outside [`server`] is plain data plus serde and compiles to WASM. The `server` feature adds
//! persistence, authentication and the domain services; it is never enabled for the browser build.

pub mod access;
pub mod error;
pub mod events;
pub mod feed;
pub mod learning;
pub mod model;
pub mod notify;
pub mod protocol;
pub mod validate;

#[cfg(feature = "server")]
pub mod server;

#[cfg(feature = "test-support")]
pub mod testing;

pub use error::{AppError, FieldError};
