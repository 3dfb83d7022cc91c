-- The notifications module (docs/notifications.md), SQLite.
--
-- notification_inbox: the in-app inbox. (source_id, recipient_id) is unique:
--   source_id is the task event's id or a reminder's key, so a redelivered
--   event or a second run of the reminder job adds nothing.
-- notification_deliveries: one row per message to send by e-mail or SMS,
--   written (status 'pending') in the transaction that consumes the event,
--   before anything is sent, under the unique key (source_id, channel,
--   recipient_id). The dispatcher claims due rows ('sending', claim_expires_at),
--   sends, and records 'sent', 'pending' again (next_attempt_at, backoff),
--   'failed', 'unknown' (interrupted mid-send on an at-most-once channel) or
--   'skipped'. alerted_at: the team chat was told about a failed one.
-- notification_preferences: a user's choices (JSON), absent = defaults.
-- notification_schedule: the reminder job's view of each task (the newest
--   event wins, event_sequences guards it) and the deadline each reminder
--   was sent for; a changed deadline no longer matches, which re-arms.
-- notification_leases: elects the one worker that sends reminders.
-- Times are INTEGER unix microseconds UTC, as in 0001.

CREATE TABLE notification_inbox (
    id           TEXT    NOT NULL PRIMARY KEY,
    recipient_id TEXT    NOT NULL,
    source_id    TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    task_id      TEXT    NOT NULL,
    task_name    TEXT    NOT NULL,
    actor_id     TEXT    NOT NULL,
    actor_name   TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    link         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    read_at      INTEGER NULL
);
CREATE UNIQUE INDEX notification_inbox_source ON notification_inbox (source_id, recipient_id);
CREATE INDEX notification_inbox_list ON notification_inbox (recipient_id, created_at, id);
CREATE INDEX notification_inbox_unread ON notification_inbox (recipient_id, read_at);

CREATE TABLE notification_deliveries (
    id               TEXT    NOT NULL PRIMARY KEY,
    source_id        TEXT    NOT NULL,
    event_name       TEXT    NOT NULL,
    channel          TEXT    NOT NULL,
    recipient_id     TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    task_id          TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    body             TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    claim_expires_at INTEGER NULL,
    address          TEXT    NOT NULL,
    provider_id      TEXT    NOT NULL,
    last_error       TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    sent_at          INTEGER NULL,
    alerted_at       INTEGER NULL
);
CREATE UNIQUE INDEX notification_deliveries_key ON notification_deliveries (source_id, channel, recipient_id);
CREATE INDEX notification_deliveries_due ON notification_deliveries (status, next_attempt_at);
CREATE INDEX notification_deliveries_claims ON notification_deliveries (status, claim_expires_at);
CREATE INDEX notification_deliveries_list ON notification_deliveries (status, created_at, id);
CREATE INDEX notification_deliveries_created ON notification_deliveries (created_at, id);

CREATE TABLE notification_preferences (
    user_id    TEXT    NOT NULL PRIMARY KEY,
    settings   TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE notification_schedule (
    task_id          TEXT    NOT NULL PRIMARY KEY,
    task_name        TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    deadline         INTEGER NULL,
    pic_id           TEXT    NOT NULL,
    supervisor_id    TEXT    NOT NULL,
    creator_id       TEXT    NOT NULL,
    due_sent_for     INTEGER NULL,
    overdue_sent_for INTEGER NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX notification_schedule_deadline ON notification_schedule (deadline);

CREATE TABLE notification_leases (
    name       TEXT    NOT NULL PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
