-- Chat search: an FTS5 index over message text (words, accents folded, prefix queries), an external
-- content table over chat_messages kept in step by triggers. A deleted message's tombstone empties
-- its text, so the update trigger takes it out of the index.

CREATE VIRTUAL TABLE chat_messages_fts USING fts5 (
    body,
    content = 'chat_messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO chat_messages_fts (rowid, body) SELECT id, body FROM chat_messages;

CREATE TRIGGER chat_messages_fts_insert AFTER INSERT ON chat_messages BEGIN
    INSERT INTO chat_messages_fts (rowid, body) VALUES (new.id, new.body);
END;

CREATE TRIGGER chat_messages_fts_delete AFTER DELETE ON chat_messages BEGIN
    INSERT INTO chat_messages_fts (chat_messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;

CREATE TRIGGER chat_messages_fts_update AFTER UPDATE OF body ON chat_messages BEGIN
    INSERT INTO chat_messages_fts (chat_messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO chat_messages_fts (rowid, body) VALUES (new.id, new.body);
END;
