//! The viewer's room list as every page keeps it (the navigation's unread total, the chat page's
//! list): their rooms with where each room's topic stood when the list was read, so a client can
//! follow every room from there and keep counts right without missing or counting twice. Rooms
//! joined, left and changed arrive on the viewer's own `user:{id}` ([`Follow`]); messages and reads
//! on each `room:{id}` ([`MyRooms::apply_room`]).

use super::{MessageId, RoomId, RoomSummary};
use crate::events::{DurableEvent, Follow};
use crate::model::{Position, UserId};
use serde::{Deserialize, Serialize};

/// Where one room's topic stood when the list was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomHead {
    pub room_id: RoomId,
    pub position: Position,
    /// The room's newest message then (moved by the messages that follow): a read up to it leaves
    /// nothing unread.
    pub newest_id: Option<MessageId>,
}

/// The viewer's rooms, newest activity first, and each room's position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyRooms {
    pub viewer: UserId,
    pub rooms: Vec<RoomSummary>,
    pub heads: Vec<RoomHead>,
}

/// What a room event did to the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Nothing to change, or already counted.
    Nothing,
    Changed,
    /// The list cannot tell the new count from the event alone (a read that stopped short of the
    /// newest message it knows): read the list again.
    Refetch,
}

impl MyRooms {
    /// Unread messages over the rooms not muted.
    pub fn unread_total(&self) -> i64 {
        self.rooms
            .iter()
            .filter(|r| !r.muted)
            .map(|r| r.unread)
            .sum()
    }

    /// Where `room` resumes from, if the list knows it.
    pub fn head(&self, room: RoomId) -> Option<&Position> {
        self.heads
            .iter()
            .find(|h| h.room_id == room)
            .map(|h| &h.position)
    }

    /// Applies the event at `offset` on `room:{room}`: a message from someone else after the
    /// viewer's read mark counts as unread, the viewer's own message or read clears what it covers,
    /// a deleted unread message no longer counts. Events at or before the room's head were in the
    /// list already and change nothing.
    pub fn apply_room(&mut self, room: RoomId, offset: i64, event: &DurableEvent) -> Applied {
        let Some(newest) = self.advance(room, offset, event) else {
            return Applied::Nothing;
        };
        let viewer = self.viewer;
        let Some(entry) = self.rooms.iter_mut().find(|r| r.room.id == room) else {
            return Applied::Nothing;
        };
        let by_viewer = |author: Option<UserId>| author == Some(viewer);
        match event {
            DurableEvent::ChatMessagePosted(m) => {
                let last = entry.room.last_message_at;
                entry.room.last_message_at = last.max(Some(m.created_at));
                if by_viewer(m.author.as_ref().map(|a| a.id)) {
                    // Sending reads the room up to one's own message.
                    entry.last_read_id = entry.last_read_id.max(m.id);
                    entry.unread = 0;
                } else if m.id > entry.last_read_id {
                    entry.unread += 1;
                }
                newest_first(&mut self.rooms);
                Applied::Changed
            }
            DurableEvent::ChatMessageDeleted(m)
                if m.id > entry.last_read_id
                    && !by_viewer(m.author.as_ref().map(|a| a.id))
                    && entry.unread > 0 =>
            {
                entry.unread -= 1;
                Applied::Changed
            }
            DurableEvent::ChatRead(mark) if mark.user_id == viewer => {
                read_up_to(entry, mark.last_read_id, newest)
            }
            DurableEvent::ChatRoomChanged(c) if c.room_id == room => {
                c.apply_to(&mut entry.room);
                Applied::Changed
            }
            _ => Applied::Nothing,
        }
    }
}

impl MyRooms {
    /// Moves `room`'s head past the event at `offset` without applying it (its open conversation
    /// keeps the entry). Answers the room's newest message as now known, or `None` when the event
    /// was at or before the head already.
    pub fn advance(
        &mut self,
        room: RoomId,
        offset: i64,
        event: &DurableEvent,
    ) -> Option<Option<MessageId>> {
        let Some(h) = self.heads.iter_mut().find(|h| h.room_id == room) else {
            return Some(None);
        };
        if offset <= h.position.offset {
            return None;
        }
        h.position.offset = offset;
        if let DurableEvent::ChatMessagePosted(m) = event {
            h.newest_id = h.newest_id.max(Some(m.id));
        }
        Some(h.newest_id)
    }
}

/// The viewer read the room up to `up_to` (in another tab, say); `newest` is its newest message as
/// far as the list knows.
fn read_up_to(entry: &mut RoomSummary, up_to: MessageId, newest: Option<MessageId>) -> Applied {
    if up_to <= entry.last_read_id {
        return Applied::Nothing;
    }
    entry.last_read_id = up_to;
    if entry.unread == 0 {
        Applied::Changed
    } else if newest.is_some_and(|n| up_to >= n) {
        entry.unread = 0;
        Applied::Changed
    } else {
        // How many of the unread messages the mark covers is not in the list.
        Applied::Refetch
    }
}

fn newest_first(rooms: &mut [RoomSummary]) {
    rooms.sort_by_key(|s| std::cmp::Reverse(s.room.last_message_at.unwrap_or(s.room.created_at)));
}

/// Rooms joined, left and changed, from the viewer's own stream.
impl Follow for MyRooms {
    fn apply(&mut self, event: &DurableEvent) {
        if let DurableEvent::ChatRoomLeft(left) = event {
            self.heads.retain(|h| h.room_id != left.room_id);
        }
        self.rooms.apply(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{Author, MemberRole, Message, ReadMark, Room, RoomKind};

    fn summary(id: RoomId, unread: i64, last_read_id: MessageId) -> RoomSummary {
        RoomSummary {
            room: Room {
                id,
                kind: RoomKind::Cohort,
                name: format!("room {id}"),
                description: String::new(),
                cohort_id: None,
                peer: None,
                created_at: id,
                last_message_at: None,
                archived: false,
            },
            role: MemberRole::Member,
            muted: false,
            last_read_id,
            unread,
        }
    }

    fn message(id: MessageId, room: RoomId, author: UserId) -> Message {
        Message {
            id,
            room_id: room,
            author: Some(Author {
                id: author,
                display_name: "x".into(),
            }),
            client_id: format!("c{id}"),
            body: "hi".into(),
            html: "<p>hi</p>".into(),
            reply_to: None,
            created_at: 1000 + id,
            edited_at: None,
            deleted_at: None,
            reactions: vec![],
            attachments: vec![],
            offset: id,
        }
    }

    fn list() -> MyRooms {
        let head = |room_id, offset| RoomHead {
            room_id,
            position: Position {
                epoch: "e".into(),
                offset,
            },
            newest_id: Some(9),
        };
        MyRooms {
            viewer: 1,
            rooms: vec![summary(10, 2, 5), summary(20, 0, 9)],
            heads: vec![head(10, 7), head(20, 9)],
        }
    }

    #[test]
    fn others_messages_count_once_and_ones_own_clear() {
        let mut l = list();
        let posted = DurableEvent::ChatMessagePosted(message(30, 20, 2));
        assert_eq!(l.apply_room(20, 10, &posted), Applied::Changed);
        assert_eq!(l.apply_room(20, 10, &posted), Applied::Nothing, "a replay");
        assert_eq!(l.rooms[0].room.id, 20, "newest activity first");
        assert_eq!(l.unread_total(), 3);
        // Offsets at or before the head were in the list already.
        let old = DurableEvent::ChatMessagePosted(message(6, 10, 2));
        assert_eq!(l.apply_room(10, 7, &old), Applied::Nothing);
        assert_eq!(l.unread_total(), 3);
        let mine = DurableEvent::ChatMessagePosted(message(31, 10, 1));
        l.apply_room(10, 8, &mine);
        assert_eq!(l.unread_total(), 1, "sending read room 10");
    }

    #[test]
    fn reads_and_deletions_move_the_counts() {
        let mut l = list();
        let gone = DurableEvent::ChatMessageDeleted(Message {
            deleted_at: Some(1),
            ..message(6, 10, 2)
        });
        assert_eq!(l.apply_room(10, 8, &gone), Applied::Changed);
        assert_eq!(l.unread_total(), 1);
        let read = |up_to| {
            DurableEvent::ChatRead(ReadMark {
                user_id: 1,
                last_read_id: up_to,
            })
        };
        assert_eq!(
            l.apply_room(10, 9, &read(6)),
            Applied::Refetch,
            "how much is left is unknown"
        );
        assert_eq!(l.apply_room(20, 10, &read(12)), Applied::Changed);
        let someone_else = DurableEvent::ChatRead(ReadMark {
            user_id: 2,
            last_read_id: 99,
        });
        assert_eq!(l.apply_room(20, 11, &someone_else), Applied::Nothing);
    }

    #[test]
    fn muted_rooms_stay_out_of_the_total_and_left_rooms_go() {
        let mut l = list();
        l.rooms[0].muted = true;
        assert_eq!(l.unread_total(), 0);
        l.apply(&DurableEvent::ChatRoomLeft(crate::chat::RoomLeft {
            room_id: 10,
            because: crate::chat::LeftBecause::Removed,
        }));
        assert_eq!(l.rooms.len(), 1);
        assert!(l.head(10).is_none());
    }
}
