-- Files attached to chat messages. The bytes live in the blob store under their SHA-256 (one copy
-- however often a file is sent); a row is one upload to one room by one person. message_id is NULL
-- while the file waits in its uploader's composer and is set once, when a message takes it.

CREATE TABLE chat_attachments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id     INTEGER NOT NULL REFERENCES chat_rooms (id) ON DELETE CASCADE,
    uploader_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    message_id  INTEGER REFERENCES chat_messages (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL DEFAULT 0,
    sha256      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    mime        TEXT    NOT NULL,
    size_bytes  INTEGER NOT NULL,
    width       INTEGER,
    height      INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE INDEX chat_attachments_message_idx ON chat_attachments (message_id);
CREATE INDEX chat_attachments_sha_idx ON chat_attachments (sha256);
CREATE INDEX chat_attachments_unsent_idx ON chat_attachments (uploader_id, created_at) WHERE message_id IS NULL;
