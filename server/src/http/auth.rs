//! Authentication for every request: a bearer token or the session cookie is resolved to a caller,
//! stored as [`RequestAuth`] in the request's extensions. A browser token past half its life is
//! renewed in a fresh cookie; a cookie whose session is gone is cleared.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use studyhall::accounts::api_tokens;
use studyhall::server::web::{
    clear_session_cookie, find_cookie, session_cookie, RequestAuth, SESSION_COOKIE,
};
use studyhall::server::ClientInfo;
use studyhall::AppError;

pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let client = client_info(&req, state.http.trust_proxy_headers);
    let bearer = bearer_token(req.headers());
    let cookie = if bearer.is_none() {
        cookie_token(req.headers())
    } else {
        None
    };
    if let Some(token) = bearer
        .as_deref()
        .filter(|t| t.starts_with(api_tokens::PREFIX))
    {
        return match api_tokens::authenticate(state.services.accounts.db(), token).await {
            Ok(integration) => {
                req.extensions_mut().insert(RequestAuth {
                    caller: None,
                    integration: Some(integration),
                    client,
                });
                next.run(req).await
            }
            Err(e) => ApiError(e).into_response(),
        };
    }
    let mut renewed = None;
    let mut clear_cookie = false;
    let caller = match bearer.as_deref().or(cookie.as_deref()) {
        None => None,
        Some(token) => match state.services.accounts.authenticate(token).await {
            Ok(auth) => {
                renewed = auth.renewed.filter(|_| cookie.is_some());
                Some(auth.caller)
            }
            Err(AppError::Unauthenticated) => {
                clear_cookie = cookie.is_some();
                None
            }
            Err(e) => return ApiError(e).into_response(),
        },
    };
    if bearer.is_some() && caller.is_none() {
        // A bearer client learns at once that its token is no good, whatever it asked for.
        return ApiError(AppError::Unauthenticated).into_response();
    }
    req.extensions_mut().insert(RequestAuth {
        caller,
        integration: None,
        client,
    });
    let mut res = next.run(req).await;
    let handler_set_cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().is_ok_and(|s| s.starts_with(SESSION_COOKIE)));
    if !handler_set_cookie {
        let secure = state.services.secure_cookies();
        let value = match (renewed, clear_cookie) {
            (Some(t), _) => Some(session_cookie(
                &t.token,
                state.services.cookie_max_age_secs(),
                secure,
            )),
            (None, true) => Some(clear_session_cookie(secure)),
            _ => None,
        };
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| find_cookie(c, SESSION_COOKIE))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

fn client_info(req: &Request, trust_proxy: bool) -> ClientInfo {
    let forwarded = trust_proxy
        .then(|| {
            req.headers()
                .get("x-forwarded-for")?
                .to_str()
                .ok()?
                // The last entry is the one our proxy added; earlier ones are the client's to forge.
                .rsplit(',')
                .next()
                .map(|s| s.trim().to_string())
        })
        .flatten();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string());
    ClientInfo {
        ip: forwarded.or(peer),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    }
}
