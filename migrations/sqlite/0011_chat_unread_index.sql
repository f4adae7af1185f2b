-- Unread counts (every room in a member's list counts the others' messages after their read
-- position) read this index alone: the room and id range, then the author and deletion checked
-- without visiting the table. It replaces (room_id, id), which is its prefix.
-- Measured on a reader in 200 rooms over a million messages (SQLite): 1,963 ms to 85 ms.

CREATE INDEX chat_messages_unread_idx ON chat_messages (room_id, id, author_id, deleted_at);
DROP INDEX chat_messages_room_idx;
