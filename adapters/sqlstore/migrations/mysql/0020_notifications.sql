-- The notifications module (docs/notifications.md), MySQL 8 / MariaDB 10.6+.
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
-- Times are BIGINT unix microseconds UTC; statements are idempotent, as in 0001.

CREATE TABLE IF NOT EXISTS notification_inbox (
    id           VARCHAR(64)  NOT NULL,
    recipient_id VARCHAR(64)  NOT NULL,
    source_id    VARCHAR(160) NOT NULL,
    kind         VARCHAR(32)  NOT NULL,
    task_id      VARCHAR(64)  NOT NULL,
    task_name    VARCHAR(400) NOT NULL,
    actor_id     VARCHAR(64)  NOT NULL,
    actor_name   VARCHAR(400) NOT NULL,
    title        VARCHAR(600) NOT NULL,
    body         TEXT         NOT NULL,
    link         VARCHAR(600) NOT NULL,
    created_at   BIGINT       NOT NULL,
    read_at      BIGINT       NULL,
    PRIMARY KEY (id),
    UNIQUE KEY notification_inbox_source (source_id, recipient_id),
    KEY notification_inbox_list (recipient_id, created_at, id),
    KEY notification_inbox_unread (recipient_id, read_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS notification_deliveries (
    id               VARCHAR(64)  NOT NULL,
    source_id        VARCHAR(160) NOT NULL,
    event_name       VARCHAR(100) NOT NULL,
    channel          VARCHAR(16)  NOT NULL,
    recipient_id     VARCHAR(64)  NOT NULL,
    kind             VARCHAR(32)  NOT NULL,
    task_id          VARCHAR(64)  NOT NULL,
    subject          VARCHAR(600) NOT NULL,
    body             TEXT         NOT NULL,
    status           VARCHAR(16)  NOT NULL,
    attempts         INT          NOT NULL,
    next_attempt_at  BIGINT       NOT NULL,
    claim_expires_at BIGINT       NULL,
    address          VARCHAR(320) NOT NULL,
    provider_id      VARCHAR(200) NOT NULL,
    last_error       TEXT         NOT NULL,
    created_at       BIGINT       NOT NULL,
    updated_at       BIGINT       NOT NULL,
    sent_at          BIGINT       NULL,
    alerted_at       BIGINT       NULL,
    PRIMARY KEY (id),
    UNIQUE KEY notification_deliveries_key (source_id, channel, recipient_id),
    KEY notification_deliveries_due (status, next_attempt_at),
    KEY notification_deliveries_claims (status, claim_expires_at),
    KEY notification_deliveries_list (status, created_at, id),
    KEY notification_deliveries_created (created_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS notification_preferences (
    user_id    VARCHAR(64) NOT NULL,
    settings   TEXT        NOT NULL,
    updated_at BIGINT      NOT NULL,
    PRIMARY KEY (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS notification_schedule (
    task_id          VARCHAR(64)  NOT NULL,
    task_name        VARCHAR(400) NOT NULL,
    status           VARCHAR(16)  NOT NULL,
    deadline         BIGINT       NULL,
    pic_id           VARCHAR(64)  NOT NULL,
    supervisor_id    VARCHAR(64)  NOT NULL,
    creator_id       VARCHAR(64)  NOT NULL,
    due_sent_for     BIGINT       NULL,
    overdue_sent_for BIGINT       NULL,
    updated_at       BIGINT       NOT NULL,
    PRIMARY KEY (task_id),
    KEY notification_schedule_deadline (deadline)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS notification_leases (
    name       VARCHAR(64) NOT NULL,
    holder     VARCHAR(64) NOT NULL,
    expires_at BIGINT      NOT NULL,
    PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
