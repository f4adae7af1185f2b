-- Chat: rooms (direct, cohort, study group, channel), their members with each one's read position,
-- messages and reactions. Every change to a room appends an event on "room:{id}" in the same
-- transaction; a message's log_offset is the offset of its chat.message.posted event.

CREATE TABLE chat_rooms (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            TEXT   NOT NULL CHECK (kind IN ('direct', 'cohort', 'group', 'channel')),
    name            TEXT   NOT NULL,
    description     TEXT   NOT NULL DEFAULT '',
    -- "low:high" user ids of a direct room, so two people have one room however often it is opened.
    direct_key      TEXT,
    cohort_id       BIGINT REFERENCES cohorts (id) ON DELETE CASCADE,
    created_by      BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at      BIGINT NOT NULL,
    last_message_at BIGINT,
    archived_at     BIGINT
);
CREATE UNIQUE INDEX chat_rooms_direct_key ON chat_rooms (direct_key);
CREATE UNIQUE INDEX chat_rooms_cohort_key ON chat_rooms (cohort_id);

CREATE TABLE chat_members (
    room_id      BIGINT  NOT NULL REFERENCES chat_rooms (id) ON DELETE CASCADE,
    user_id      BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT    NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'moderator', 'owner')),
    joined_at    BIGINT  NOT NULL,
    -- The newest message id the member has read; it only moves forward.
    last_read_id BIGINT  NOT NULL DEFAULT 0,
    muted        BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX chat_members_user_idx ON chat_members (user_id);

CREATE TABLE chat_messages (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id    BIGINT NOT NULL REFERENCES chat_rooms (id) ON DELETE CASCADE,
    author_id  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    -- Chosen by the sending client: a retried send with the same id is the same message.
    client_id  TEXT   NOT NULL,
    body       TEXT   NOT NULL,
    html       TEXT   NOT NULL,
    reply_to   BIGINT REFERENCES chat_messages (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    edited_at  BIGINT,
    deleted_at BIGINT,
    deleted_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    log_offset BIGINT NOT NULL
);
CREATE UNIQUE INDEX chat_messages_client_key ON chat_messages (room_id, author_id, client_id);
CREATE INDEX chat_messages_room_idx ON chat_messages (room_id, id);
CREATE INDEX chat_messages_author_idx ON chat_messages (author_id, created_at);

CREATE TABLE chat_reactions (
    message_id BIGINT NOT NULL REFERENCES chat_messages (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji      TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);
