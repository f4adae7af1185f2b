//! How chat's snapshots follow their topics: an open room follows `room:{id}` (messages, edits,
//! tombstones, reactions, read marks, and the viewer's unread count), the room list follows the
//! viewer's `user:{id}` (rooms joined and left).

use super::{Message, ReadMark, RoomSnapshot, RoomSummary};
use crate::events::{DurableEvent, Follow};

impl RoomSnapshot {
    fn counts_as_unread(&self, m: &Message) -> bool {
        m.deleted_at.is_none()
            && m.id > self.summary.last_read_id
            && m.author.as_ref().map(|a| a.id) != Some(self.viewer)
    }

    fn read(&mut self, mark: &ReadMark) {
        match self.reads.iter_mut().find(|r| r.user_id == mark.user_id) {
            Some(r) => r.last_read_id = r.last_read_id.max(mark.last_read_id),
            None => self.reads.push(*mark),
        }
        if mark.user_id == self.viewer && mark.last_read_id > self.summary.last_read_id {
            let now_read = self
                .page
                .messages
                .iter()
                .filter(|m| self.counts_as_unread(m) && m.id <= mark.last_read_id)
                .count() as i64;
            self.summary.unread = (self.summary.unread - now_read).max(0);
            self.summary.last_read_id = mark.last_read_id;
        }
    }
}

/// An open room. Every event is applied at most once in effect: a message already present is not
/// added again, and replacing or re-reading changes nothing the second time.
impl Follow for RoomSnapshot {
    fn apply(&mut self, event: &DurableEvent) {
        use DurableEvent::*;
        let room = self.summary.room.id;
        match event {
            ChatMessagePosted(m) if m.room_id == room => {
                if self.page.messages.iter().any(|x| x.id == m.id) {
                    return;
                }
                if self.counts_as_unread(m) {
                    self.summary.unread += 1;
                }
                let at = self
                    .page
                    .messages
                    .iter()
                    .position(|x| x.id < m.id)
                    .unwrap_or(self.page.messages.len());
                self.page.messages.insert(at, m.clone());
                let last = self.summary.room.last_message_at;
                self.summary.room.last_message_at = last.max(Some(m.created_at));
                // The server counts one's own message as read without a `chat.read` of its own.
                if let Some(author) = &m.author {
                    self.read(&ReadMark {
                        user_id: author.id,
                        last_read_id: m.id,
                    });
                }
            }
            ChatMessageEdited(m) | ChatMessageDeleted(m) if m.room_id == room => {
                let was_unread = self
                    .page
                    .messages
                    .iter()
                    .find(|x| x.id == m.id)
                    .is_some_and(|x| self.counts_as_unread(x));
                let Some(old) = self.page.messages.iter_mut().find(|x| x.id == m.id) else {
                    return;
                };
                *old = m.clone();
                if m.deleted_at.is_some() {
                    if was_unread {
                        self.summary.unread = (self.summary.unread - 1).max(0);
                    }
                    for reply in &mut self.page.messages {
                        if let Some(q) = reply.reply_to.as_mut().filter(|q| q.id == m.id) {
                            q.deleted = true;
                            q.excerpt.clear();
                        }
                    }
                }
            }
            ChatReactionsChanged(r) => {
                if let Some(m) = self.page.messages.iter_mut().find(|x| x.id == r.message_id) {
                    m.reactions = r.reactions.clone();
                }
            }
            ChatRead(mark) => self.read(mark),
            ChatRoomChanged(c) if c.room_id == room => c.apply_to(&mut self.summary.room),
            ChatMessagePosted(_)
            | ChatMessageEdited(_)
            | ChatMessageDeleted(_)
            | ChatRoomChanged(_) => {}
            ChatRoomJoined(_) | ChatRoomLeft(_) => {}
            AnnouncementCreated(_) | AnnouncementUpdated(_) | AnnouncementDeleted(_) => {}
            LearningChanged(_) | ActivityCreated(_) | FiguresUpdated(_) => {}
            NotificationCreated(_)
            | NotificationsMarked(_)
            | NotificationsDeleted(_)
            | NotificationsCleared(_)
            | NotificationsExpired(_)
            | PreferencesChanged(_) => {}
        }
    }
}

/// The viewer's rooms, newest activity first.
impl Follow for Vec<RoomSummary> {
    fn apply(&mut self, event: &DurableEvent) {
        use DurableEvent::*;
        match event {
            ChatRoomJoined(summary) => {
                self.retain(|s| s.room.id != summary.room.id);
                self.push(summary.clone());
                self.sort_by_key(|s| {
                    std::cmp::Reverse(s.room.last_message_at.unwrap_or(s.room.created_at))
                });
            }
            ChatRoomLeft(left) => self.retain(|s| s.room.id != left.room_id),
            ChatRoomChanged(c) => {
                if let Some(s) = self.iter_mut().find(|s| s.room.id == c.room_id) {
                    c.apply_to(&mut s.room);
                }
            }
            ChatMessagePosted(_)
            | ChatMessageEdited(_)
            | ChatMessageDeleted(_)
            | ChatReactionsChanged(_)
            | ChatRead(_) => {}
            AnnouncementCreated(_) | AnnouncementUpdated(_) | AnnouncementDeleted(_) => {}
            LearningChanged(_) | ActivityCreated(_) | FiguresUpdated(_) => {}
            NotificationCreated(_)
            | NotificationsMarked(_)
            | NotificationsDeleted(_)
            | NotificationsCleared(_)
            | NotificationsExpired(_)
            | PreferencesChanged(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use crate::events::{DurableEvent, Follow};

    fn message(id: MessageId, author: UserId) -> Message {
        Message {
            id,
            room_id: 7,
            author: Some(Author {
                id: author,
                display_name: format!("U{author}"),
            }),
            client_id: format!("c{id}"),
            body: format!("m{id}"),
            html: format!("<p>m{id}</p>"),
            reply_to: None,
            created_at: id,
            edited_at: None,
            deleted_at: None,
            reactions: vec![],
            attachments: vec![],
            offset: id,
        }
    }

    fn snapshot(viewer: UserId) -> RoomSnapshot {
        RoomSnapshot {
            viewer,
            summary: RoomSummary {
                room: Room {
                    id: 7,
                    kind: RoomKind::Group,
                    name: "G".into(),
                    description: String::new(),
                    cohort_id: None,
                    peer: None,
                    created_at: 0,
                    last_message_at: None,
                    archived: false,
                },
                role: MemberRole::Member,
                muted: false,
                last_read_id: 0,
                unread: 0,
            },
            members: vec![],
            page: MessagePage {
                messages: vec![],
                older: None,
            },
            reads: vec![],
            position: Position {
                epoch: "e".into(),
                offset: 0,
            },
            peer_last_seen: None,
        }
    }

    #[test]
    fn a_room_counts_others_messages_once_and_reading_clears_them() {
        let mut s = snapshot(1);
        for e in [
            DurableEvent::ChatMessagePosted(message(1, 2)),
            DurableEvent::ChatMessagePosted(message(2, 1)),
            DurableEvent::ChatMessagePosted(message(3, 2)),
            DurableEvent::ChatMessagePosted(message(3, 2)),
        ] {
            s.apply(&e);
        }
        let ids: Vec<_> = s.page.messages.iter().map(|m| m.id).collect();
        assert_eq!(ids, [3, 2, 1], "newest first, the replay not added twice");
        assert_eq!(
            s.summary.unread, 1,
            "the viewer's own message is not unread, and reads what came before it"
        );
        let mut tomb = message(3, 2);
        tomb.deleted_at = Some(9);
        tomb.body.clear();
        s.apply(&DurableEvent::ChatMessageDeleted(tomb));
        assert_eq!(s.summary.unread, 0, "a deleted message is no longer unread");
        s.apply(&DurableEvent::ChatMessagePosted(message(4, 2)));
        assert_eq!(s.summary.unread, 1);
        s.apply(&DurableEvent::ChatRead(ReadMark {
            user_id: 1,
            last_read_id: 4,
        }));
        assert_eq!((s.summary.unread, s.summary.last_read_id), (0, 4));
        s.apply(&DurableEvent::ChatRead(ReadMark {
            user_id: 1,
            last_read_id: 1,
        }));
        assert_eq!(
            s.summary.last_read_id, 4,
            "a read position never moves back"
        );
        s.reads.sort_by_key(|r| r.user_id);
        assert_eq!(
            s.reads,
            vec![
                ReadMark {
                    user_id: 1,
                    last_read_id: 4
                },
                ReadMark {
                    user_id: 2,
                    last_read_id: 4
                }
            ],
            "the viewer read to 4, and each author has read their own messages"
        );
    }

    #[test]
    fn edits_reactions_and_tombstones_replace_in_place() {
        let mut s = snapshot(1);
        s.apply(&DurableEvent::ChatMessagePosted(message(1, 2)));
        let mut reply = message(2, 1);
        reply.reply_to = Some(Quote {
            id: 1,
            author_name: Some("U2".into()),
            excerpt: "m1".into(),
            deleted: false,
        });
        s.apply(&DurableEvent::ChatMessagePosted(reply));
        let mut edited = message(1, 2);
        edited.body = "changed".into();
        edited.edited_at = Some(5);
        s.apply(&DurableEvent::ChatMessageEdited(edited.clone()));
        assert_eq!(s.page.messages[1], edited);
        let reactions = vec![Reaction {
            emoji: "👍".into(),
            users: vec![Author {
                id: 1,
                display_name: "U1".into(),
            }],
        }];
        s.apply(&DurableEvent::ChatReactionsChanged(ReactionsChanged {
            message_id: 1,
            reactions: reactions.clone(),
        }));
        assert_eq!(s.page.messages[1].reactions, reactions);
        let mut tomb = message(1, 2);
        tomb.deleted_at = Some(6);
        tomb.body.clear();
        s.apply(&DurableEvent::ChatMessageDeleted(tomb));
        let quote = s.page.messages[0].reply_to.as_ref().unwrap();
        assert!(quote.deleted && quote.excerpt.is_empty(), "{quote:?}");
        let mut other_room = message(9, 2);
        other_room.room_id = 8;
        s.apply(&DurableEvent::ChatMessagePosted(other_room));
        assert_eq!(
            s.page.messages.len(),
            2,
            "another room's message is not this room's"
        );
    }
}
