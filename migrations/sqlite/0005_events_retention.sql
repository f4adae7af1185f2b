-- Retention finds each topic's newest too-old event from this index alone: a range of created_at
-- whose entries carry topic and seq, one per event that will be deleted. The created_at index it
-- replaces sent every lookup to the table. (docs/ARCHITECTURE.md, Persistence, has both plans.)
CREATE INDEX events_age_idx ON events (created_at, topic, seq);
DROP INDEX events_created_idx;
