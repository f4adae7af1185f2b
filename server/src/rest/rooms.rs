//! `/api/v1/rooms`: the caller's chat rooms, opening a direct room, channels (admins), a room's
//! snapshot and history, searching messages, sending, editing, deleting and reacting to messages,
//! read positions, members and muting (files: `attachments`). Every rule is the chat service's; this only maps HTTP to it.

use super::{ApiResult, AuthCaller, Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use axum::Router;
use serde::Deserialize;
use studyhall::chat::my_rooms::RoomHead;
use studyhall::chat::search::SearchResults;
use studyhall::chat::service as chat;
use studyhall::chat::{
    Message, MessageId, MessagePage, NewMessage, Reaction, ReadMark, RoomId, RoomSnapshot,
    RoomSummary,
};
use studyhall::model::UserId;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rooms", get(list).post(create_channel))
        .route("/rooms/direct", post(open_direct))
        .route("/rooms/search", get(search))
        .route("/rooms/{room}", get(snapshot))
        .route("/rooms/{room}/messages", get(history).post(send))
        .route(
            "/rooms/{room}/messages/{id}",
            axum::routing::patch(edit).delete(remove),
        )
        .route("/rooms/{room}/messages/{id}/reactions", post(react))
        .route("/rooms/{room}/read", post(read))
        .route("/rooms/{room}/members", post(add_members))
        .route("/rooms/{room}/members/me", delete(leave))
        .route("/rooms/{room}/members/{user}", delete(remove_member))
        .route("/rooms/{room}/muted", put(mute))
        .merge(super::attachments::router())
}

#[derive(serde::Serialize)]
struct Rooms {
    rooms: Vec<RoomSummary>,
    /// Unread messages over every room not muted.
    unread: i64,
    /// Where each room's topic stood when the list was read: follow them from there.
    heads: Vec<RoomHead>,
}

async fn list(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
) -> ApiResult<Json<Rooms>> {
    let mine = chat::my_rooms(state.services.accounts.db(), &caller).await?;
    Ok(Json(Rooms {
        unread: mine.unread_total(),
        rooms: mine.rooms,
        heads: mine.heads,
    }))
}

#[derive(Deserialize)]
struct SearchQuery {
    q: String,
    before: Option<MessageId>,
}

async fn search(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<SearchResults>> {
    let db = state.services.accounts.db();
    Ok(Json(chat::search(db, &caller, &q.q, q.before).await?))
}

#[derive(Deserialize)]
struct Direct {
    user_id: UserId,
}

async fn open_direct(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Json(body): Json<Direct>,
) -> ApiResult<Json<RoomSummary>> {
    let s = &state.services;
    Ok(Json(
        chat::open_direct(s.accounts.db(), &s.hub, &caller, body.user_id).await?,
    ))
}

#[derive(Deserialize)]
struct NewChannel {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    members: Vec<UserId>,
}

async fn create_channel(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Json(body): Json<NewChannel>,
) -> ApiResult<impl IntoResponse> {
    let s = &state.services;
    let made = chat::create_channel(
        s.accounts.db(),
        &s.hub,
        &caller,
        &body.name,
        &body.description,
        &body.members,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(made)))
}

async fn snapshot(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(room): Path<RoomId>,
) -> ApiResult<Json<RoomSnapshot>> {
    Ok(Json(
        chat::snapshot(state.services.accounts.db(), &caller, room).await?,
    ))
}

#[derive(Deserialize)]
struct HistoryQuery {
    before: Option<MessageId>,
    limit: Option<i64>,
}

async fn history(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(room): Path<RoomId>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<MessagePage>> {
    let db = state.services.accounts.db();
    Ok(Json(
        chat::history(db, &caller, room, q.before, q.limit).await?,
    ))
}

async fn send(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(room): Path<RoomId>,
    Json(body): Json<NewMessage>,
) -> ApiResult<impl IntoResponse> {
    let s = &state.services;
    let per_minute = s.chat().settings.messages_per_minute;
    let sent =
        chat::send_limited(s.accounts.db(), &s.hub, &caller, room, &body, per_minute).await?;
    Ok((StatusCode::CREATED, Json(sent)))
}

#[derive(Deserialize)]
struct Edit {
    body: String,
}

async fn edit(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path((room, id)): Path<(RoomId, MessageId)>,
    Json(body): Json<Edit>,
) -> ApiResult<Json<Message>> {
    let s = &state.services;
    Ok(Json(
        chat::edit(s.accounts.db(), &s.hub, &caller, room, id, &body.body).await?,
    ))
}

async fn remove(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path((room, id)): Path<(RoomId, MessageId)>,
) -> ApiResult<Json<Message>> {
    let s = &state.services;
    Ok(Json(
        chat::delete(s.accounts.db(), &s.hub, &caller, room, id).await?,
    ))
}

#[derive(Deserialize)]
struct React {
    emoji: String,
}

#[derive(serde::Serialize)]
struct Reactions {
    reactions: Vec<Reaction>,
}

async fn react(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path((room, id)): Path<(RoomId, MessageId)>,
    Json(body): Json<React>,
) -> ApiResult<Json<Reactions>> {
    let s = &state.services;
    let reactions =
        chat::toggle_reaction(s.accounts.db(), &s.hub, &caller, room, id, &body.emoji).await?;
    Ok(Json(Reactions { reactions }))
}

#[derive(Deserialize)]
struct Read {
    up_to: MessageId,
}

async fn read(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(room): Path<RoomId>,
    Json(body): Json<Read>,
) -> ApiResult<Json<ReadMark>> {
    let s = &state.services;
    Ok(Json(
        chat::mark_read(s.accounts.db(), &s.hub, &caller, room, body.up_to).await?,
    ))
}

#[derive(Deserialize)]
struct Members {
    user_ids: Vec<UserId>,
}

#[derive(serde::Serialize)]
struct Added {
    added: Vec<UserId>,
}

async fn add_members(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(room): Path<RoomId>,
    Json(body): Json<Members>,
) -> ApiResult<Json<Added>> {
    let s = &state.services;
    let added = chat::add_members(s.accounts.db(), &s.hub, &caller, room, &body.user_ids).await?;
    Ok(Json(Added { added }))
}

async fn remove_member(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path((room, user)): Path<(RoomId, UserId)>,
) -> ApiResult<StatusCode> {
    let s = &state.services;
    chat::remove_member(s.accounts.db(), &s.hub, &caller, room, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn leave(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(room): Path<RoomId>,
) -> ApiResult<StatusCode> {
    let s = &state.services;
    chat::leave(s.accounts.db(), &s.hub, &caller, room).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct Mute {
    muted: bool,
}

async fn mute(
    State(state): State<AppState>,
    AuthCaller(caller): AuthCaller,
    Path(room): Path<RoomId>,
    Json(body): Json<Mute>,
) -> ApiResult<Json<RoomSummary>> {
    let db = state.services.accounts.db();
    Ok(Json(chat::set_muted(db, &caller, room, body.muted).await?))
}
