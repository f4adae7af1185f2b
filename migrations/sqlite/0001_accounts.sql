-- Accounts: cohorts, users, mentor assignments, sessions and the sign-in throttle.
-- Times are milliseconds since the Unix epoch (UTC) in both backends.

CREATE TABLE cohorts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX cohorts_name_key ON cohorts (lower(name));

CREATE TABLE users (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    email                TEXT    NOT NULL,  -- normalised to lower case by the application
    display_name         TEXT    NOT NULL,
    role                 TEXT    NOT NULL CHECK (role IN ('admin', 'mentor', 'student')),
    time_zone            TEXT    NOT NULL,
    password_hash        TEXT    NOT NULL,
    cohort_id            INTEGER REFERENCES cohorts (id) ON DELETE SET NULL,
    disabled_at          INTEGER,
    created_at           INTEGER NOT NULL,
    last_seen_at         INTEGER,
    password_changed_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_cohort_idx ON users (cohort_id);

CREATE TABLE mentor_assignments (
    mentor_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    student_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (mentor_id, student_id)
);
CREATE INDEX mentor_assignments_student_idx ON mentor_assignments (student_id);

CREATE TABLE sessions (
    id               TEXT    PRIMARY KEY,       -- secret; only ever inside a signed token
    handle           TEXT    NOT NULL UNIQUE,   -- public name for lists and revocation
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind             TEXT    NOT NULL CHECK (kind IN ('browser', 'api')),
    created_at       INTEGER NOT NULL,
    last_seen_at     INTEGER NOT NULL,
    idle_expires_at  INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    revoked_at       INTEGER,
    user_agent       TEXT,
    ip               TEXT
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE login_failures (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    account  TEXT    NOT NULL,
    ip       TEXT    NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX login_failures_account_idx ON login_failures (account, at);
CREATE INDEX login_failures_ip_idx ON login_failures (ip, at);
