-- System-wide announcements by admins. Each row is written in the same transaction as its event on the
-- "announcements" topic; log_offset is that event's offset, so a snapshot knows where live events resume.

CREATE TABLE announcements (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    author_id   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    log_offset  INTEGER NOT NULL
);
CREATE INDEX announcements_offset_idx ON announcements (log_offset);
