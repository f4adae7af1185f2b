-- Chat search: each message's words as a tsvector ('simple' configuration: words as written, in
-- any language, like SQLite's unicode61; accents are kept), generated from its text and indexed.
-- A deleted message's tombstone empties its text, and with it the vector.

ALTER TABLE chat_messages
    ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED;
CREATE INDEX chat_messages_search_idx ON chat_messages USING GIN (search);
