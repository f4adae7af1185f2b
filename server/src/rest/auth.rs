//! `/api/v1/auth/*` and `/api/v1/me*`: registration, bearer-token sign-in and sign-out, the caller's
//! own account and sessions.

use super::{ApiResult, AuthCaller, Json, Path};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Extension, Router};
use serde::{Deserialize, Serialize};
use studyhall::accounts::{RegisterInput, SessionKind, SessionSummary};
use studyhall::model::User;
use studyhall::server::web::RequestAuth;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/token", post(issue_token).delete(revoke_token))
        .route("/me", get(me))
        .route("/me/password", post(change_password))
        .route("/me/sessions", get(my_sessions))
        .route("/me/sessions/{handle}", delete(revoke_my_session))
}

#[derive(Deserialize)]
struct RegisterBody {
    email: String,
    display_name: String,
    password: String,
    #[serde(default)]
    time_zone: Option<String>,
}

#[derive(Serialize)]
struct UserBody {
    user: User,
}

async fn register(
    State(state): State<AppState>,
    Json(body): Json<RegisterBody>,
) -> ApiResult<impl IntoResponse> {
    let user = state
        .services
        .accounts
        .register(&RegisterInput {
            email: body.email,
            display_name: body.display_name,
            password: body.password,
            time_zone: body.time_zone.unwrap_or_else(|| "UTC".into()),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(UserBody { user })))
}

#[derive(Deserialize)]
struct TokenRequest {
    email: String,
    password: String,
}

#[derive(Serialize)]
struct TokenResponse {
    token: String,
    token_type: &'static str,
    /// Milliseconds since the Unix epoch.
    expires_at: i64,
    user: User,
}

async fn issue_token(
    State(state): State<AppState>,
    Extension(auth): Extension<RequestAuth>,
    Json(body): Json<TokenRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let signed = state
        .services
        .accounts
        .sign_in(&body.email, &body.password, SessionKind::Api, &auth.client)
        .await?;
    Ok(Json(TokenResponse {
        token: signed.token.token,
        token_type: "Bearer",
        expires_at: signed.token.expires_at,
        user: signed.user,
    }))
}

async fn revoke_token(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
) -> ApiResult<StatusCode> {
    state.services.accounts.sign_out(&caller).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(AuthCaller(caller): AuthCaller) -> Json<UserBody> {
    Json(UserBody { user: caller.user })
}

#[derive(Deserialize)]
struct PasswordBody {
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Json(body): Json<PasswordBody>,
) -> ApiResult<StatusCode> {
    state
        .services
        .accounts
        .change_password(&caller, &body.current_password, &body.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
struct SessionsBody {
    sessions: Vec<SessionSummary>,
}

async fn my_sessions(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
) -> ApiResult<Json<SessionsBody>> {
    let sessions = state.services.accounts.my_sessions(&caller).await?;
    Ok(Json(SessionsBody { sessions }))
}

async fn revoke_my_session(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(handle): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .services
        .accounts
        .revoke_my_session(&caller, &handle)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
