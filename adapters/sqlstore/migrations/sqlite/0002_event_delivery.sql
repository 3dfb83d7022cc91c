-- Event delivery bookkeeping (docs/events.md), SQLite.
--
-- dead_letters: deliveries of one event to one handler group that failed.
--   Embedded mode keeps its whole redelivery here: a failed event is moved
--   out of the group's outbox stream (status 'retrying', next_attempt_at
--   backing off) so it never blocks the group, and becomes 'dead' after
--   maxReceiveCount attempts or at once on a permanent error. In the cloud
--   the DLQ watcher drains each SQS dead-letter queue into this table
--   (status 'dead', source 'sqs'), so `taskd dlq list|replay` and the alerts
--   work on one store in both modes and nothing expires with SQS retention.
--   alerted_at is set once the alert port was told.
-- event_sequences: the last per-aggregate sequence number a handler group
--   applied, for consumers that keep current state and ignore stale events.
-- event_probe: one row per event the diagnostic "probe" handler group
--   handled (TASKD_EVENTS_PROBE=true): end-to-end delivery checks and
--   commit-to-handler latency. No unique key on purpose: a second effect of
--   one event would show as a second row.
-- Times are INTEGER unix microseconds UTC, as in 0001.

CREATE TABLE dead_letters (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    handler         TEXT    NOT NULL,
    event_id        TEXT    NOT NULL,
    event_name      TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    metadata        TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    dead_at         INTEGER NULL,
    alerted_at      INTEGER NULL
);
CREATE UNIQUE INDEX dead_letters_event ON dead_letters (handler, event_id);
CREATE INDEX dead_letters_due ON dead_letters (status, handler, next_attempt_at);

CREATE TABLE event_sequences (
    handler       TEXT    NOT NULL,
    aggregate_id  TEXT    NOT NULL,
    last_sequence INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (handler, aggregate_id)
);

CREATE TABLE event_probe (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     TEXT    NOT NULL,
    event_name   TEXT    NOT NULL,
    aggregate_id TEXT    NOT NULL,
    sequence     INTEGER NOT NULL,
    occurred_at  INTEGER NOT NULL,
    handled_at   INTEGER NOT NULL
);
CREATE INDEX event_probe_event ON event_probe (event_id);
