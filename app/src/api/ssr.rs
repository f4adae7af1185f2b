//! Request context for server functions: the services, the caller, cookies, and the per-request memo
//! of reactive handles.

use http::header::{HeaderValue, ACCEPT, SET_COOKIE};
use leptos::prelude::*;
use studyhall::accounts::service::Caller;
use studyhall::server::web::{RequestAuth, Services};
use studyhall::AppError;

pub fn services() -> Result<Services, AppError> {
    use_context::<Services>()
        .ok_or_else(|| AppError::internal("Services are missing from the server function context"))
}

pub fn request_auth() -> RequestAuth {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<RequestAuth>().cloned())
        .unwrap_or_default()
}

pub fn caller() -> Result<Caller, AppError> {
    request_auth().caller.ok_or(AppError::Unauthenticated)
}

pub fn set_cookie(value: &str) {
    if let (Some(res), Ok(v)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        HeaderValue::from_str(value),
    ) {
        res.append_header(SET_COOKIE, v);
    }
}

/// The resources (and other reactive handles) made for one request. Server rendering walks a
/// page's views more than once and each walk runs the views' closures anew; without this every
/// walk made, loaded and serialized its resources again (measured on the dashboard: 63 queries
/// before loaders were shared, each of five resources serialized three times after).
#[derive(Clone, Default)]
pub struct RequestMemo {
    handles: std::sync::Arc<
        std::sync::Mutex<std::collections::HashMap<String, Box<dyn std::any::Any + Send + Sync>>>,
    >,
    /// The request's root owner: handles are made under it, so they live as long as the request
    /// (a walk may run inside an effect of `Suspense`, whose next run disposes what it made).
    owner: Option<Owner>,
}

/// The handle `create` made the first time `key` was asked for in this request (a resource, a
/// live snapshot: `Copy` handles into the request's reactive arena). Outside a request it
/// simply calls `create`.
pub fn once_per_request<T: Copy + Send + Sync + 'static>(
    key: impl FnOnce() -> String,
    create: impl FnOnce() -> T,
) -> T {
    let Some(memo) = use_context::<RequestMemo>() else {
        return create();
    };
    let key = key();
    if let Some(found) = memo
        .handles
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
        .and_then(|h| h.downcast_ref::<T>())
    {
        return *found;
    }
    // Not under the lock: `create` may create other per-request handles.
    let made = match &memo.owner {
        Some(owner) => owner.with(create),
        None => create(),
    };
    memo.handles
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, Box::new(made));
    made
}

/// Called once per request (the router's context function).
pub fn provide_request_memo() {
    provide_context(RequestMemo {
        owner: Owner::current(),
        ..Default::default()
    });
}

/// A plain HTML form post (before hydration, or without JavaScript) rather than a fetch.
pub fn is_plain_form_post() -> bool {
    use_context::<http::request::Parts>()
        .and_then(|p| {
            p.headers
                .get(ACCEPT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .is_some_and(|accept| !accept.contains("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_is_made_once_per_request_and_outlives_the_walk_that_made_it() {
        let request = Owner::new();
        request.with(|| {
            provide_request_memo();
            // The first walk runs inside an owner of its own (as `Suspense`'s effect does)…
            let walk = Owner::new();
            let first = walk.with(|| once_per_request(|| "counter".into(), || RwSignal::new(1)));
            walk.cleanup();
            // …and a later walk gets the same handle, still alive after that owner's cleanup.
            let again = once_per_request(|| "counter".into(), || RwSignal::new(2));
            assert_eq!(again.try_get(), Some(1), "the first walk's handle, alive");
            assert_eq!(first.try_get(), Some(1));
            let other = once_per_request(|| "other".into(), || RwSignal::new(3));
            assert_eq!(other.get_untracked(), 3, "another key makes its own");
        });
        Owner::new().with(|| {
            provide_request_memo();
            let next = once_per_request(|| "counter".into(), || RwSignal::new(4));
            assert_eq!(next.get_untracked(), 4, "a new request makes it afresh");
        });
        // Outside a request there is nothing to keep it in.
        Owner::new().with(|| {
            let a = once_per_request(|| "counter".into(), || RwSignal::new(5));
            let b = once_per_request(|| "counter".into(), || RwSignal::new(6));
            assert_eq!((a.get_untracked(), b.get_untracked()), (5, 6));
        });
    }
}
