//! Cross-site request refusal: a state-changing request must come from one of the site's origins.
//!
//! SameSite=Lax already keeps the session cookie off most cross-site requests; this is the second
//! lock. Requests that carry an `Origin` must name an allowed origin. Without one (old browsers, some
//! same-origin navigations), a request that carries the session cookie must have an allowed `Referer`.
//! Requests with neither cookie nor Origin (bearer-token clients) pass: they carry no ambient authority.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use studyhall::server::web::{find_cookie, SESSION_COOKIE};
use studyhall::AppError;

pub async fn refuse_cross_site(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let allowed = |value: &str| state.http.allowed_origins.iter().any(|o| o == value);
    let headers = req.headers();
    let ok = match headers
        .get(header::ORIGIN)
        .map(|v| v.to_str().unwrap_or(""))
    {
        Some(origin) => allowed(origin.trim_end_matches('/')),
        None => {
            let has_cookie = headers
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(|c| find_cookie(c, SESSION_COOKIE).is_some());
            !has_cookie
                || headers
                    .get(header::REFERER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(origin_of)
                    .is_some_and(|o| allowed(&o))
        }
    };
    if ok {
        next.run(req).await
    } else {
        tracing::warn!(method = %req.method(), path = %req.uri().path(), "cross-site request refused");
        ApiError(AppError::CrossSite).into_response()
    }
}

/// `https://host:port` from a full URL.
fn origin_of(url: &str) -> Option<String> {
    let scheme_end = url.find("://")?;
    let rest = &url[scheme_end + 3..];
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(format!("{}{}", &url[..scheme_end + 3], &rest[..host_end]))
}

#[cfg(test)]
mod tests {
    #[test]
    fn origins_are_cut_from_urls() {
        assert_eq!(
            super::origin_of("http://127.0.0.1:3000/login?x=1").as_deref(),
            Some("http://127.0.0.1:3000")
        );
        assert_eq!(
            super::origin_of("https://a.example").as_deref(),
            Some("https://a.example")
        );
        assert_eq!(super::origin_of("nonsense"), None);
    }
}
