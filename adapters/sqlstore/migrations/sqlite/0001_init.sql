-- taskd schema, SQLite.
--
-- Every time is an INTEGER of unix microseconds UTC (NULL = none): the same
-- representation on both drivers (modernc's and go-sql-driver's time
-- handling differ), exact, time-zone free and sortable. The outbox tables
-- follow watermill-sql's shape and keep its TEXT created_at.
-- Optional user references (pic_id, supervisor_id, phone) are NULL when unset.
-- The whole file runs in one IMMEDIATE transaction.

CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    email         TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    phone         TEXT    NULL,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    locale        TEXT    NOT NULL,
    token_version INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    last_sequence INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_name ON users (name, id);

CREATE TABLE refresh_tokens (
    hash       TEXT    NOT NULL PRIMARY KEY,
    user_id    TEXT    NOT NULL,
    family_id  TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER NULL,
    revoked_at INTEGER NULL
);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- deadline_key = deadline, or the largest int64 when there is none, so that
-- "no deadline" sorts last and keyset pagination needs no NULL handling.
CREATE TABLE tasks (
    id            TEXT    NOT NULL PRIMARY KEY,
    name          TEXT    NOT NULL,
    contents      TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    priority      TEXT    NOT NULL,
    priority_rank INTEGER NOT NULL,
    deadline      INTEGER NULL,
    deadline_key  INTEGER NOT NULL,
    pic_id        TEXT    NULL,
    supervisor_id TEXT    NULL,
    creator_id    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    started_at    INTEGER NULL,
    completed_at  INTEGER NULL,
    version       INTEGER NOT NULL,
    last_sequence INTEGER NOT NULL
);
CREATE INDEX tasks_status ON tasks (status);
CREATE INDEX tasks_pic ON tasks (pic_id);
CREATE INDEX tasks_supervisor ON tasks (supervisor_id);
CREATE INDEX tasks_creator ON tasks (creator_id);
CREATE INDEX tasks_priority ON tasks (priority_rank, deadline_key, id);
CREATE INDEX tasks_deadline ON tasks (deadline_key, id);
CREATE INDEX tasks_created ON tasks (created_at, id);
CREATE INDEX tasks_updated ON tasks (updated_at, id);

-- The outbox, as adapters/outbox (watermill-sql) reads and writes it.
CREATE TABLE outbox_messages (
    "offset"   INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid       TEXT NOT NULL,
    created_at TEXT DEFAULT CURRENT_TIMESTAMP,
    payload    TEXT,
    metadata   TEXT
);

CREATE TABLE outbox_offsets (
    consumer_group  TEXT PRIMARY KEY,
    offset_acked    INTEGER,
    offset_consumed INTEGER NOT NULL
);

-- Events an idempotent consumer has handled.
CREATE TABLE processed_events (
    handler      TEXT    NOT NULL,
    event_id     TEXT    NOT NULL,
    processed_at INTEGER NOT NULL,
    PRIMARY KEY (handler, event_id)
);
CREATE INDEX processed_events_at ON processed_events (processed_at);

-- Responses kept for Idempotency-Key replays.
CREATE TABLE idempotency_keys (
    user_id      TEXT    NOT NULL,
    idem_key     TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    status       INTEGER NOT NULL,
    body         BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
