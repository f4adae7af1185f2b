//! Server functions for the chat page: the room list, an opened room, history, sending, editing,
//! deleting, reacting, read positions, muting, searching and opening a direct room. Each passes the caller to the chat
//! service, which decides (the same rules as `/api/v1/rooms`).

#[cfg(feature = "ssr")]
use super::ssr_prelude::*;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use studyhall::chat::my_rooms::MyRooms;
use studyhall::chat::{
    Message, MessageId, MessagePage, NewMessage, Reaction, ReadMark, RoomId, RoomSnapshot,
    RoomSummary,
};
use studyhall::model::{Position, UserId};
use studyhall::AppError;

/// The caller's rooms with each room's position, and the position of their own stream (where rooms
/// joined and left arrive).
#[server(endpoint = "chat/rooms")]
pub async fn chat_rooms() -> Result<(MyRooms, Position), AppError> {
    use studyhall::protocol::Topic;
    use studyhall::server::realtime::log;
    let (s, caller) = (services()?, caller()?);
    let db = s.accounts.db();
    // The position first: a room joined meanwhile arrives live (the list replaces it by id).
    let head = log::head(db, Topic::User(caller.user.id)).await?;
    let rooms = studyhall::chat::service::my_rooms(db, &caller).await?;
    Ok((
        rooms,
        Position {
            epoch: head.epoch,
            offset: head.head,
        },
    ))
}

#[server(endpoint = "chat/room", input = Json)]
pub async fn chat_room(room: RoomId) -> Result<RoomSnapshot, AppError> {
    studyhall::chat::service::snapshot(services()?.accounts.db(), &caller()?, room).await
}

#[server(endpoint = "chat/history", input = Json)]
pub async fn chat_history(room: RoomId, before: MessageId) -> Result<MessagePage, AppError> {
    let db = services()?.accounts.db().clone();
    studyhall::chat::service::history(&db, &caller()?, room, Some(before), None).await
}

#[server(endpoint = "chat/send", input = Json)]
pub async fn chat_send(room: RoomId, message: NewMessage) -> Result<Message, AppError> {
    let s = services()?;
    let per_minute = s.chat().settings.messages_per_minute;
    let (db, hub) = (s.accounts.db(), &s.hub);
    studyhall::chat::service::send_limited(db, hub, &caller()?, room, &message, per_minute).await
}

#[server(endpoint = "chat/edit", input = Json)]
pub async fn chat_edit(room: RoomId, id: MessageId, body: String) -> Result<Message, AppError> {
    let s = services()?;
    studyhall::chat::service::edit(s.accounts.db(), &s.hub, &caller()?, room, id, &body).await
}

#[server(endpoint = "chat/delete", input = Json)]
pub async fn chat_delete(room: RoomId, id: MessageId) -> Result<Message, AppError> {
    let s = services()?;
    studyhall::chat::service::delete(s.accounts.db(), &s.hub, &caller()?, room, id).await
}

#[server(endpoint = "chat/react", input = Json)]
pub async fn chat_react(
    room: RoomId,
    id: MessageId,
    emoji: String,
) -> Result<Vec<Reaction>, AppError> {
    let s = services()?;
    let (db, hub) = (s.accounts.db(), &s.hub);
    studyhall::chat::service::toggle_reaction(db, hub, &caller()?, room, id, &emoji).await
}

#[server(endpoint = "chat/read", input = Json)]
pub async fn chat_read(room: RoomId, up_to: MessageId) -> Result<ReadMark, AppError> {
    let s = services()?;
    studyhall::chat::service::mark_read(s.accounts.db(), &s.hub, &caller()?, room, up_to).await
}

#[server(endpoint = "chat/mute", input = Json)]
pub async fn chat_mute(room: RoomId, muted: bool) -> Result<RoomSummary, AppError> {
    studyhall::chat::service::set_muted(services()?.accounts.db(), &caller()?, room, muted).await
}

#[server(endpoint = "chat/search", input = Json)]
pub async fn chat_search(
    q: String,
    before: Option<MessageId>,
) -> Result<studyhall::chat::search::SearchResults, AppError> {
    studyhall::chat::service::search(services()?.accounts.db(), &caller()?, &q, before).await
}

#[server(endpoint = "chat/direct", input = Json)]
pub async fn chat_direct(user_id: UserId) -> Result<RoomSummary, AppError> {
    let s = services()?;
    studyhall::chat::service::open_direct(s.accounts.db(), &s.hub, &caller()?, user_id).await
}
