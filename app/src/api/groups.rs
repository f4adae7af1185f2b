//! Server functions for study groups: the directory, a group's page, creating, joining (accepting),
//! declining, inviting (and whom), handing over, archiving, and leaving or removing from a room.
//! Each passes the caller to the chat service (the same rules as `/api/v1/groups`).

#[cfg(feature = "ssr")]
use super::ssr_prelude::*;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use studyhall::chat::groups::{GroupDetail, GroupDirectory, GroupSummary, NewGroup};
use studyhall::chat::{Author, RoomId};
use studyhall::model::UserId;
use studyhall::AppError;

#[server(endpoint = "chat/groups")]
pub async fn chat_groups() -> Result<GroupDirectory, AppError> {
    studyhall::chat::service::directory(services()?.accounts.db(), &caller()?).await
}

#[server(endpoint = "chat/group", input = Json)]
pub async fn chat_group(room: RoomId) -> Result<GroupDetail, AppError> {
    studyhall::chat::service::group(services()?.accounts.db(), &caller()?, room).await
}

#[server(endpoint = "chat/group/create", input = Json)]
pub async fn create_group(group: NewGroup) -> Result<GroupSummary, AppError> {
    let s = services()?;
    studyhall::chat::service::create_group(s.accounts.db(), &s.hub, &caller()?, &group).await
}

#[server(endpoint = "chat/group/join", input = Json)]
pub async fn join_group(room: RoomId) -> Result<GroupSummary, AppError> {
    let s = services()?;
    studyhall::chat::service::join_group(s.accounts.db(), &s.hub, &caller()?, room).await
}

#[server(endpoint = "chat/group/decline", input = Json)]
pub async fn decline_group(room: RoomId) -> Result<(), AppError> {
    studyhall::chat::service::decline(services()?.accounts.db(), &caller()?, room).await
}

#[server(endpoint = "chat/group/invite", input = Json)]
pub async fn invite_to_group(room: RoomId, user_id: UserId) -> Result<(), AppError> {
    let s = services()?;
    studyhall::chat::service::invite(s.accounts.db(), &s.hub, &caller()?, room, user_id).await
}

#[server(endpoint = "chat/group/invitable", input = Json)]
pub async fn invitable_to_group(room: RoomId) -> Result<Vec<Author>, AppError> {
    studyhall::chat::service::invitable(services()?.accounts.db(), &caller()?, room).await
}

#[server(endpoint = "chat/group/owner", input = Json)]
pub async fn hand_over_group(room: RoomId, user_id: UserId) -> Result<GroupSummary, AppError> {
    let s = services()?;
    studyhall::chat::service::hand_over(s.accounts.db(), &s.hub, &caller()?, room, user_id).await
}

#[server(endpoint = "chat/group/archive", input = Json)]
pub async fn archive_group(room: RoomId) -> Result<GroupSummary, AppError> {
    let s = services()?;
    studyhall::chat::service::archive(s.accounts.db(), &s.hub, &caller()?, room).await
}

#[server(endpoint = "chat/leave", input = Json)]
pub async fn leave_room(room: RoomId) -> Result<(), AppError> {
    let s = services()?;
    studyhall::chat::service::leave(s.accounts.db(), &s.hub, &caller()?, room).await
}

#[server(endpoint = "chat/remove", input = Json)]
pub async fn remove_from_room(room: RoomId, user_id: UserId) -> Result<(), AppError> {
    let s = services()?;
    studyhall::chat::service::remove_member(s.accounts.db(), &s.hub, &caller()?, room, user_id)
        .await
}
