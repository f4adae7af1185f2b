//! `/api/v1/groups`: study groups — the directory and creating one, a group's page, joining
//! (accepting an invitation), declining, inviting, handing over and archiving. Leaving and removing
//! members are the room's (`DELETE /api/v1/rooms/{room}/members/…`). The chat service decides.

use super::{ApiResult, AuthCaller, Json, Path};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::Router;
use serde::Deserialize;
use studyhall::chat::groups::{GroupDetail, GroupDirectory, GroupSummary, NewGroup};
use studyhall::chat::service as chat;
use studyhall::chat::{Author, RoomId};
use studyhall::model::UserId;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/groups", get(directory).post(create))
        .route("/groups/{room}", get(detail))
        .route("/groups/{room}/join", post(join))
        .route("/groups/{room}/decline", post(decline))
        .route("/groups/{room}/invitations", post(invite))
        .route("/groups/{room}/invitable", get(invitable))
        .route("/groups/{room}/owner", put(hand_over))
        .route("/groups/{room}/archive", post(archive))
}

async fn directory(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
) -> ApiResult<Json<GroupDirectory>> {
    Ok(Json(
        chat::directory(state.services.accounts.db(), &caller).await?,
    ))
}

async fn create(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Json(body): Json<NewGroup>,
) -> ApiResult<impl IntoResponse> {
    let s = &state.services;
    let made = chat::create_group(s.accounts.db(), &s.hub, &caller, &body).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

async fn detail(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(room): Path<RoomId>,
) -> ApiResult<Json<GroupDetail>> {
    Ok(Json(
        chat::group(state.services.accounts.db(), &caller, room).await?,
    ))
}

async fn join(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(room): Path<RoomId>,
) -> ApiResult<Json<GroupSummary>> {
    let s = &state.services;
    Ok(Json(
        chat::join_group(s.accounts.db(), &s.hub, &caller, room).await?,
    ))
}

async fn decline(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(room): Path<RoomId>,
) -> ApiResult<StatusCode> {
    chat::decline(state.services.accounts.db(), &caller, room).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct Person {
    user_id: UserId,
}

async fn invite(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(room): Path<RoomId>,
    Json(body): Json<Person>,
) -> ApiResult<StatusCode> {
    let s = &state.services;
    chat::invite(s.accounts.db(), &s.hub, &caller, room, body.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Serialize)]
struct People {
    people: Vec<Author>,
}

async fn invitable(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(room): Path<RoomId>,
) -> ApiResult<Json<People>> {
    let people = chat::invitable(state.services.accounts.db(), &caller, room).await?;
    Ok(Json(People { people }))
}

async fn hand_over(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(room): Path<RoomId>,
    Json(body): Json<Person>,
) -> ApiResult<Json<GroupSummary>> {
    let s = &state.services;
    Ok(Json(
        chat::hand_over(s.accounts.db(), &s.hub, &caller, room, body.user_id).await?,
    ))
}

async fn archive(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(room): Path<RoomId>,
) -> ApiResult<Json<GroupSummary>> {
    let s = &state.services;
    Ok(Json(
        chat::archive(s.accounts.db(), &s.hub, &caller, room).await?,
    ))
}
