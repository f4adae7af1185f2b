//! Read positions: a member marks a room read up to a message; the position only moves forward, and
//! every tab and the other members follow it through `chat.read` on the room's topic. And the room
//! list every page keeps for its unread counts ([`my_rooms`]).

use super::*;
use crate::chat::my_rooms::{MyRooms, RoomHead};
use crate::chat::ReadMark;
use crate::events::DurableEvent;
use crate::model::Position;
use crate::protocol::Topic;
use crate::server::db::Db;
use crate::server::realtime::log;
use crate::server::realtime::{Change, Hub};
use crate::with_tx;

/// Marks `room` read up to `up_to` (at most its newest message) for the caller. Answers the caller's
/// position after it: a mark behind the stored one changes nothing, so concurrent reads from two tabs
/// never move it back, and only a mark that moved it is published.
pub async fn mark_read(
    db: &Db,
    hub: &Hub,
    caller: &Caller,
    room: RoomId,
    up_to: MessageId,
) -> Result<ReadMark, AppError> {
    let me = person(caller)?;
    let mut change = Change::begin(db, hub).await?;
    membership(&mut change.conn(), room, me.id).await?;
    let (moved, now_at) = with_tx!(change.tx(), c => {
        let newest: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(id) FROM chat_messages WHERE room_id = $1 AND id <= $2")
            .bind(room).bind(up_to).fetch_one(&mut *c).await.map_err(internal)?;
        let moved = match newest {
            Some(target) => sqlx::query(
                "UPDATE chat_members SET last_read_id = $3 WHERE room_id = $1 AND user_id = $2 AND last_read_id < $3")
                .bind(room).bind(me.id).bind(target).execute(&mut *c).await.map_err(internal)?
                .rows_affected() > 0,
            None => false,
        };
        let now_at: i64 = sqlx::query_scalar(
            "SELECT last_read_id FROM chat_members WHERE room_id = $1 AND user_id = $2")
            .bind(room).bind(me.id).fetch_one(&mut *c).await.map_err(internal)?;
        (moved, now_at)
    });
    let mark = ReadMark {
        user_id: me.id,
        last_read_id: now_at,
    };
    if moved {
        change
            .emit(Topic::Room(room), &DurableEvent::ChatRead(mark))
            .await?;
        change.commit().await?;
    }
    Ok(mark)
}

/// The caller's rooms with their unread counts and where each room's topic stands. The positions
/// are read first: an event that lands meanwhile is past them and is counted once, when it arrives.
pub async fn my_rooms(db: &Db, caller: &Caller) -> Result<MyRooms, AppError> {
    let me = person(caller)?;
    let ids: Vec<RoomId> = room_ids(db, me.id).await?;
    let topics: Vec<Topic> = ids.iter().map(|r| Topic::Room(*r)).collect();
    let heads = log::heads(db, &topics).await?;
    let mut pooled = db.acquire().await?;
    let mut conn = pooled.conn();
    let newest: HashMap<RoomId, MessageId> =
        with_conn!(&mut conn, c => sqlx::query_as::<_, (i64, i64)>(
        "SELECT m.room_id, MAX(m.id) FROM chat_messages m \
         JOIN chat_members cm ON cm.room_id = m.room_id AND cm.user_id = $1 GROUP BY m.room_id")
        .bind(me.id).fetch_all(&mut *c).await.map_err(internal)?)
        .into_iter()
        .collect();
    let rooms = summaries(&mut conn, me.id, None).await?;
    Ok(MyRooms {
        viewer: me.id,
        heads: ids
            .into_iter()
            .zip(heads)
            .filter(|(room, _)| rooms.iter().any(|r| r.room.id == *room))
            .map(|(room_id, h)| RoomHead {
                room_id,
                position: Position {
                    epoch: h.epoch,
                    offset: h.head,
                },
                newest_id: newest.get(&room_id).copied(),
            })
            .collect(),
        rooms,
    })
}

/// The ids of `user`'s rooms.
async fn room_ids(db: &Db, user: UserId) -> Result<Vec<RoomId>, AppError> {
    let mut pooled = db.acquire().await?;
    let mut conn = pooled.conn();
    Ok(with_conn!(&mut conn, c => sqlx::query_scalar(
        "SELECT room_id FROM chat_members WHERE user_id = $1 ORDER BY room_id")
        .bind(user).fetch_all(&mut *c).await.map_err(internal)?))
}
