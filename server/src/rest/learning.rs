//! `/api/v1/learning/*`, `/api/v1/activities`, `/api/v1/users/{id}/analytics` and
//! `/api/v1/kpi/system`: the learning log, the feed and analytics. The core services decide who may do
//! what.

use super::{ApiResult, AuthCaller, IdempotencyKey, Json, Path, Query, ScopedCaller};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::Router;
use serde::{Deserialize, Serialize};
use studyhall::feed::service as activity;
use studyhall::feed::{Activity, FeedFilter, FeedPage, NewActivity};
use studyhall::learning::{analytics, service as learning};
use studyhall::learning::{
    Analytics, Goal, GoalInput, LearningSession, LearningSnapshot, SessionCursor, SessionInput,
    SessionPage, Skill, SystemFigures,
};
use studyhall::model::UserId;
use studyhall::protocol::Position;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/learning", get(snapshot))
        .route("/learning/sessions", get(sessions).post(log_session))
        .route(
            "/learning/sessions/{id}",
            put(update_session).delete(delete_session),
        )
        .route("/learning/goals", post(set_goal))
        .route("/learning/goals/{id}", put(update_goal).delete(delete_goal))
        .route("/learning/goals/{id}/completed", put(complete_goal))
        .route("/learning/skills", post(add_skill))
        .route("/learning/skills/{id}", axum::routing::delete(delete_skill))
        .route("/activities", get(feed).post(record_activity))
        .route("/activities/read", post(mark_activities))
        .route("/users/{id}/analytics", get(analytics))
        .route("/kpi/system", get(system_figures))
}

async fn snapshot(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
) -> ApiResult<Json<LearningSnapshot>> {
    Ok(Json(
        learning::snapshot(state.services.accounts.db(), &caller).await?,
    ))
}

/// `?before_day=&before_id=` (the previous page's `next`, both or neither) and `limit`.
#[derive(Deserialize)]
struct SessionsQuery {
    before_day: Option<String>,
    before_id: Option<i64>,
    limit: Option<i64>,
}

async fn sessions(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Query(q): Query<SessionsQuery>,
) -> ApiResult<Json<SessionPage>> {
    let before = match (q.before_day, q.before_id) {
        (None, None) => None,
        (Some(day), Some(id)) => Some(SessionCursor { day, id }),
        _ => {
            return Err(studyhall::AppError::BadRequest {
                message: "Send before_day and before_id together (a page's next), or neither."
                    .into(),
            }
            .into())
        }
    };
    let db = state.services.accounts.db();
    Ok(Json(
        learning::sessions_page(db, &caller, before.as_ref(), q.limit).await?,
    ))
}

async fn log_session(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    IdempotencyKey(key): IdempotencyKey,
    Json(body): Json<SessionInput>,
) -> ApiResult<impl IntoResponse> {
    let s = &state.services;
    let created =
        learning::log_session_once(s.accounts.db(), &s.hub, &caller, &body, key.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn update_session(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(id): Path<i64>,
    Json(body): Json<SessionInput>,
) -> ApiResult<Json<LearningSession>> {
    let s = &state.services;
    Ok(Json(
        learning::update_session(s.accounts.db(), &s.hub, &caller, id, &body).await?,
    ))
}

async fn delete_session(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let s = &state.services;
    learning::delete_session(s.accounts.db(), &s.hub, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_goal(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    IdempotencyKey(key): IdempotencyKey,
    Json(body): Json<GoalInput>,
) -> ApiResult<impl IntoResponse> {
    let s = &state.services;
    let goal =
        learning::set_goal_once(s.accounts.db(), &s.hub, &caller, &body, key.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(goal)))
}

async fn update_goal(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(id): Path<i64>,
    Json(body): Json<GoalInput>,
) -> ApiResult<Json<Goal>> {
    let s = &state.services;
    Ok(Json(
        learning::update_goal(s.accounts.db(), &s.hub, &caller, id, &body).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Completed {
    completed: bool,
}

async fn complete_goal(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(id): Path<i64>,
    Json(body): Json<Completed>,
) -> ApiResult<Json<Goal>> {
    let s = &state.services;
    Ok(Json(
        learning::complete_goal(s.accounts.db(), &s.hub, &caller, id, body.completed).await?,
    ))
}

async fn delete_goal(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let s = &state.services;
    learning::delete_goal(s.accounts.db(), &s.hub, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSkill {
    name: String,
}

async fn add_skill(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    IdempotencyKey(key): IdempotencyKey,
    Json(body): Json<NewSkill>,
) -> ApiResult<impl IntoResponse> {
    let s = &state.services;
    let skill: Skill =
        learning::add_skill_once(s.accounts.db(), &s.hub, &caller, &body.name, key.as_deref())
            .await?;
    Ok((StatusCode::CREATED, Json(skill)))
}

async fn delete_skill(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let s = &state.services;
    learning::delete_skill(s.accounts.db(), &s.hub, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn feed(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Query(filter): Query<FeedFilter>,
) -> ApiResult<Json<FeedPage>> {
    Ok(Json(
        activity::list(state.services.accounts.db(), &caller, &filter).await?,
    ))
}

async fn record_activity(
    State(state): State<AppState>,
    ScopedCaller(caller): ScopedCaller,
    Json(body): Json<NewActivity>,
) -> ApiResult<impl IntoResponse> {
    let s = &state.services;
    let created: Activity = activity::record_for(s.accounts.db(), &s.hub, &caller, &body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkActivities {
    #[serde(default)]
    ids: Vec<i64>,
    #[serde(default)]
    all: bool,
    #[serde(default = "yes")]
    read: bool,
}

fn yes() -> bool {
    true
}

async fn mark_activities(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Json(body): Json<MarkActivities>,
) -> ApiResult<StatusCode> {
    let db = state.services.accounts.db();
    if body.all && body.read {
        activity::mark_all_read(db, &caller).await?;
    } else {
        activity::mark(db, &caller, &body.ids, body.read).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
struct SystemFiguresBody {
    figures: SystemFigures,
    position: Position,
}

/// The snapshot of `kpi:system` (docs/PROTOCOL.md, "figures.updated").
async fn system_figures(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
) -> ApiResult<Json<SystemFiguresBody>> {
    let s = &state.services;
    let online = s.hub.online_users() as i64;
    let (figures, position) = analytics::system_snapshot(s.accounts.db(), &caller, online).await?;
    Ok(Json(SystemFiguresBody { figures, position }))
}

#[derive(Serialize)]
struct AnalyticsBody {
    analytics: Analytics,
    position: Position,
}

async fn analytics(
    State(state): State<AppState>,
    ScopedCaller(caller): ScopedCaller,
    Path(id): Path<UserId>,
) -> ApiResult<impl IntoResponse> {
    let (analytics, position) =
        learning::analytics_of(state.services.accounts.db(), &caller, id).await?;
    Ok(Json(AnalyticsBody {
        analytics,
        position,
    }))
}
