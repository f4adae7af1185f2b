-- Idempotent creates, a sign-in log apart from the feed, and the feed without sign-ins.

-- A create sent with a client-made key: the first request writes the row and keeps its answer (JSON) in
-- result; a repeat of the key (a double click, a retry) gets that answer instead of a
-- second row. Keys are per user and per kind of thing created (scope); the retention job purges day-old keys.
CREATE TABLE idempotency_keys (
    user_id     BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope       TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    result      TEXT,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (user_id, scope, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- The security log on the profile page: each successful sign-in (the newest 50 per user are kept).
CREATE TABLE sign_ins (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,
    at          BIGINT  NOT NULL,
    user_agent  TEXT,
    ip          TEXT
);
CREATE INDEX sign_ins_user_idx ON sign_ins (user_id, id);

-- Sign-ins were feed activities ("Ana signed in" filled dashboards and unread counts); they are not any
-- more, and the old ones go (their events on the log age out with retention).
DELETE FROM activity_reads WHERE activity_id IN (SELECT id FROM activities WHERE kind = 'login');
DELETE FROM activities WHERE kind = 'login';
