-- The leaderboard: the zone each cohort's weeks and months are cut in, the school's name and zone (the
-- whole-school board's), students who hide their name from other students, and the indexes that sum a
-- period's points (sessions by when they were logged, goals by when they were completed).
ALTER TABLE cohorts ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

CREATE TABLE school (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    name       TEXT    NOT NULL,
    time_zone  TEXT    NOT NULL
);
INSERT INTO school (id, name, time_zone) VALUES (1, 'Studyhall', 'UTC');

ALTER TABLE users ADD COLUMN leaderboard_hidden INTEGER NOT NULL DEFAULT 0;

CREATE INDEX learning_sessions_created_idx ON learning_sessions (created_at, user_id);
CREATE INDEX goals_completed_idx ON goals (completed_at, user_id) WHERE completed_at IS NOT NULL;
