-- Event delivery bookkeeping (docs/events.md), MySQL 8 / MariaDB 10.6+.
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
-- outbox_write_lock: one row every transaction that appends to the outbox
--   locks first (adapters/outbox.Writer), so that outbox rows commit in
--   offset order and no reader's offset can pass a row committed late.
-- Times are BIGINT unix microseconds UTC; statements are idempotent, as in 0001.

CREATE TABLE IF NOT EXISTS dead_letters (
    id              BIGINT       NOT NULL AUTO_INCREMENT,
    handler         VARCHAR(200) NOT NULL,
    event_id        VARCHAR(64)  NOT NULL,
    event_name      VARCHAR(100) NOT NULL,
    payload         MEDIUMTEXT   NOT NULL,
    metadata        TEXT         NOT NULL,
    status          VARCHAR(16)  NOT NULL,
    attempts        INT          NOT NULL,
    next_attempt_at BIGINT       NOT NULL,
    last_error      TEXT         NOT NULL,
    source          VARCHAR(16)  NOT NULL,
    created_at      BIGINT       NOT NULL,
    updated_at      BIGINT       NOT NULL,
    dead_at         BIGINT       NULL,
    alerted_at      BIGINT       NULL,
    PRIMARY KEY (id),
    UNIQUE KEY dead_letters_event (handler, event_id),
    KEY dead_letters_due (status, handler, next_attempt_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS event_sequences (
    handler       VARCHAR(200) NOT NULL,
    aggregate_id  VARCHAR(64)  NOT NULL,
    last_sequence BIGINT       NOT NULL,
    updated_at    BIGINT       NOT NULL,
    PRIMARY KEY (handler, aggregate_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS event_probe (
    id           BIGINT       NOT NULL AUTO_INCREMENT,
    event_id     VARCHAR(64)  NOT NULL,
    event_name   VARCHAR(100) NOT NULL,
    aggregate_id VARCHAR(64)  NOT NULL,
    sequence     BIGINT       NOT NULL,
    occurred_at  BIGINT       NOT NULL,
    handled_at   BIGINT       NOT NULL,
    PRIMARY KEY (id),
    KEY event_probe_event (event_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS outbox_write_lock (
    id TINYINT NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT IGNORE INTO outbox_write_lock (id) VALUES (1);
