//! Read positions: a member marks a room read up to a message; the position only moves forward, and
//! every tab and the other members follow it through `chat.read` on the room's topic.

use super::*;
use crate::chat::ReadMark;
use crate::events::DurableEvent;
use crate::protocol::Topic;
use crate::server::db::Db;
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
