-- The realtime event log: one row per topic (its epoch and head offset) and the durable events.
-- Offsets are allocated by incrementing topic_logs.head inside the transaction that writes the event,
-- so the row lock orders commits and offsets have no gaps in commit order.

CREATE TABLE topic_logs (
    topic       TEXT    PRIMARY KEY,
    epoch       TEXT    NOT NULL,
    head        BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE events (
    topic       TEXT    NOT NULL,
    seq         BIGINT  NOT NULL,
    event       TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (topic, seq)
);
CREATE INDEX events_created_idx ON events (created_at);
