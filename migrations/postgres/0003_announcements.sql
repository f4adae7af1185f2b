-- System-wide announcements by admins. Each row is written in the same transaction as its event on the
-- "announcements" topic; log_offset is that event's offset, so a snapshot knows where live events resume.

CREATE TABLE announcements (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    author_id   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    created_at  BIGINT NOT NULL,
    log_offset  BIGINT NOT NULL
);
CREATE INDEX announcements_offset_idx ON announcements (log_offset);
