//! Server functions: thin adapters from the browser to the core services, one file per area. Each one
//! authenticates from the request (the server's auth layer has already resolved the caller) and maps
//! errors to [`AppError`]. This file holds what the pages use to load them once per request.
//!
//! Endpoints are fixed (`/api/<name>`) so that they are stable across builds and testable over HTTP.

use leptos::prelude::*;
use studyhall::AppError;

mod account;
mod admin;
mod announcements;
pub mod chat;
pub mod groups;
pub mod inbox;
#[cfg(feature = "ssr")]
pub mod inputs;
pub mod leaderboard;
pub mod learning;
mod session;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use account::*;
pub use admin::*;
pub use announcements::*;
pub use session::*;

/// What the submodules' server functions use on the server.
#[cfg(feature = "ssr")]
mod ssr_prelude {
    pub use super::ssr::{caller, services};
}

/// Server rendering walks a page's views more than once per request (Leptos's `Suspense` walks its
/// children to find what they load, walks them again once that has loaded, then renders them), and
/// each walk runs the closures that build components anew. A resource made in a component would be
/// made, loaded and serialized into the page on every walk (measured: each of the dashboard's
/// resources three times, 20 KB of its 47 KB). Components make theirs through this instead, so the
/// server makes each once per request, under the request's root owner; `key` names the call site
/// and anything the handle depends on. In the browser, which builds each view once, it is just
/// `create()`.
pub fn once_per_request<T: Copy + Send + Sync + 'static>(
    key: impl FnOnce() -> String,
    create: impl FnOnce() -> T,
) -> T {
    #[cfg(feature = "ssr")]
    return ssr::once_per_request(key, create);
    #[cfg(not(feature = "ssr"))]
    {
        let _ = key;
        create()
    }
}

/// `Resource::new(source, fetcher)`, made once per request on the server (see [`once_per_request`]);
/// `key` names the call site.
pub fn request_resource<S, T, Fut>(
    key: &'static str,
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<Result<T, AppError>>
where
    S: PartialEq + Clone + Send + Sync + 'static,
    T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, AppError>> + Send + 'static,
{
    once_per_request(
        || key.into(),
        || Resource::new(source, move |s| logged(fetcher(s))),
    )
}

/// A page's load, whose internal error (on the server) is logged here, where server rendering puts
/// it into the page. In the browser a load is a server function's request, logged by the server
/// when it answered.
pub async fn logged<T>(
    load: impl std::future::Future<Output = Result<T, AppError>>,
) -> Result<T, AppError> {
    let result = load.await;
    #[cfg(feature = "ssr")]
    if let Err(e) = &result {
        e.log_if_internal();
    }
    result
}
