-- Study groups: a group's room is a chat_rooms row of kind 'group'; this holds what only groups have.
-- member_count moves with chat_members in the same transaction, and a join takes a seat with
-- `UPDATE ... WHERE member_count < member_limit`, so the limit holds however many join at once (the
-- CHECK is the backstop). Invitations to private groups wait here until accepted or declined.

CREATE TABLE study_groups (
    room_id      INTEGER PRIMARY KEY REFERENCES chat_rooms (id) ON DELETE CASCADE,
    public       INTEGER NOT NULL,
    member_limit INTEGER NOT NULL CHECK (member_limit BETWEEN 2 AND 50),
    member_count INTEGER NOT NULL DEFAULT 0,
    CHECK (member_count BETWEEN 0 AND member_limit)
);

CREATE TABLE study_group_invitations (
    room_id    INTEGER NOT NULL REFERENCES chat_rooms (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    invited_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX study_group_invitations_user_idx ON study_group_invitations (user_id);
