//! `/api/v1/admin/*`: user and cohort administration. The core admin service checks the role.

use super::{ApiResult, AuthCaller, Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, patch, put};
use axum::Router;
use serde::{Deserialize, Deserializer, Serialize};
use studyhall::accounts::admin;
use studyhall::accounts::{AdminUserRow, NewUserInput, UserFilter};
use studyhall::model::{Cohort, CohortId, Page, Role, UserId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list_users).post(create_user))
        .route("/admin/users/{id}", patch(update_user))
        .route("/admin/users/{id}/mentors", put(set_mentors))
        .route(
            "/admin/users/{id}/sessions",
            axum::routing::delete(revoke_sessions),
        )
        .route("/admin/cohorts", get(list_cohorts).post(create_cohort))
}

#[derive(Deserialize)]
struct ListQuery {
    search: Option<String>,
    role: Option<Role>,
    cohort_id: Option<CohortId>,
    page: Option<i64>,
}

async fn list_users(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Page<AdminUserRow>>> {
    let filter = UserFilter {
        search: q.search,
        role: q.role,
        cohort_id: q.cohort_id,
        page: q.page.unwrap_or(1),
    };
    Ok(Json(
        admin::list_users(state.services.accounts.db(), &caller, &filter).await?,
    ))
}

async fn create_user(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Json(body): Json<NewUserInput>,
) -> ApiResult<impl IntoResponse> {
    let s = &state.services;
    let user = admin::create(s.accounts.db(), &s.hub, &caller, &body).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "user": user })),
    ))
}

/// Distinguishes a missing field (leave alone) from `null` (clear).
fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserPatch {
    role: Option<Role>,
    #[serde(default, deserialize_with = "double_option")]
    cohort_id: Option<Option<CohortId>>,
    disabled: Option<bool>,
}

async fn update_user(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(id): Path<UserId>,
    Json(body): Json<UserPatch>,
) -> ApiResult<StatusCode> {
    let (db, hub) = (state.services.accounts.db(), &state.services.hub);
    if let Some(role) = body.role {
        admin::set_role(db, hub, &caller, id, role).await?;
    }
    if let Some(cohort) = body.cohort_id {
        admin::set_cohort(db, hub, &caller, id, cohort).await?;
    }
    if let Some(disabled) = body.disabled {
        admin::set_disabled(db, hub, &caller, id, disabled).await?;
    }
    if body.role.is_none() && body.cohort_id.is_none() && body.disabled.is_none() {
        // Still an authorization check, so a student cannot probe with an empty patch.
        admin::list_cohorts(db, &caller).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct MentorsBody {
    mentor_ids: Vec<UserId>,
}

async fn set_mentors(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(id): Path<UserId>,
    Json(body): Json<MentorsBody>,
) -> ApiResult<StatusCode> {
    let s = &state.services;
    admin::set_mentors(s.accounts.db(), &s.hub, &caller, id, &body.mentor_ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
struct Revoked {
    revoked: u64,
}

async fn revoke_sessions(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(id): Path<UserId>,
) -> ApiResult<Json<Revoked>> {
    let revoked = admin::revoke_sessions(state.services.accounts.db(), &caller, id).await?;
    Ok(Json(Revoked { revoked }))
}

async fn list_cohorts(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
) -> ApiResult<Json<Vec<Cohort>>> {
    Ok(Json(
        admin::list_cohorts(state.services.accounts.db(), &caller).await?,
    ))
}

#[derive(Deserialize)]
struct CohortBody {
    name: String,
}

async fn create_cohort(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Json(body): Json<CohortBody>,
) -> ApiResult<impl IntoResponse> {
    let cohort = admin::create_cohort(state.services.accounts.db(), &caller, &body.name).await?;
    Ok((StatusCode::CREATED, Json(cohort)))
}
