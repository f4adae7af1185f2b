-- Learning: what students log (sessions, goals, skills), the activity feed, notifications with
-- per-user preferences, and admins' API tokens. Analytics are computed from these tables with indexed
-- queries, never stored, so they cannot drift from the log.

CREATE TABLE learning_sessions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day         TEXT    NOT NULL,  -- the student's local date, YYYY-MM-DD
    minutes     BIGINT NOT NULL CHECK (minutes BETWEEN 1 AND 1440),
    topic       TEXT    NOT NULL,
    note        TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX learning_sessions_user_day_idx ON learning_sessions (user_id, day);

CREATE TABLE goals (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title         TEXT    NOT NULL,
    target_day    TEXT,
    completed_at  BIGINT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX goals_user_idx ON goals (user_id);

CREATE TABLE skills (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX skills_user_name_key ON skills (user_id, lower(name));

-- user_id is whose activity it is (the actor); day is the actor's local date, for grouping.
CREATE TABLE activities (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,
    subject     TEXT,
    title       TEXT    NOT NULL,
    details     TEXT,
    day         TEXT    NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX activities_user_idx ON activities (user_id, id);
CREATE INDEX activities_created_idx ON activities (created_at);

-- Read state of the feed, per viewer: everything up to read_through is read, except where a row in
-- activity_reads says otherwise for one activity.
CREATE TABLE activity_reads (
    viewer_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    activity_id  BIGINT  NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    is_read      BOOLEAN NOT NULL,
    PRIMARY KEY (viewer_id, activity_id)
);
CREATE TABLE feed_marks (
    viewer_id     BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    read_through  BIGINT NOT NULL
);

CREATE TABLE notifications (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('achievement', 'milestone', 'reminder', 'system', 'social')),
    priority    TEXT    NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    title       TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    link        TEXT,
    sender_id   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    seen_at     BIGINT,
    read_at     BIGINT
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id);
CREATE INDEX notifications_expires_idx ON notifications (expires_at);
CREATE INDEX notifications_created_idx ON notifications (created_at);

-- Rule notifications (milestones, goal completions) are delivered once per user and key, even if the
-- user deletes the notification later.
CREATE TABLE notification_keys (
    user_id  BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key      TEXT    NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- One row per send by a mentor or admin (not purged with the notifications), for the send limit.
CREATE TABLE notification_sends (
    sender_id  BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sent_at    BIGINT  NOT NULL
);
CREATE INDEX notification_sends_idx ON notification_sends (sender_id, sent_at);

CREATE TABLE notification_preferences (
    user_id      BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    muted_kinds  TEXT    NOT NULL DEFAULT '',  -- space-separated kinds
    sound        BOOLEAN NOT NULL DEFAULT FALSE,
    desktop      BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE api_tokens (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT    NOT NULL,
    token_hash    TEXT    NOT NULL UNIQUE,  -- SHA-256 of the secret, hex
    prefix        TEXT    NOT NULL,         -- the first characters, to recognise a token in a list
    owner_id      BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes        TEXT    NOT NULL,         -- space-separated
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);
