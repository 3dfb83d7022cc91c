-- The analytics module (docs/analytics.md), MySQL 8 / MariaDB 10.6+.
--
-- analytics_events: the event log. Every event of every module once (the
--   primary key is the event id), readable per aggregate in sequence order,
--   by actor and by time. payload is the event's JSON as published.
-- analytics_task_states: each task's state after the last event the
--   projection applied (last_sequence); is_open rows are the tasks open now,
--   counted at query time for "open / overdue at the end of the period".
--   Deleted tasks stay (deleted = 1) so late events are recognised.
-- analytics_counters: one row per (period, scope, metric): period_key is an
--   ISO week (2026-W09) or a month (2026-03) in the report time zone,
--   scope_key is team, user:<id>, sup:<id> or sup:<id>/user:<id>.
-- analytics_report_tasks: what each task contributed to a user's counters
--   in a period (the tasks behind a report's numbers).
-- analytics_meta: one row: the rebuild generation and flag, and the report
--   time zone the read models were projected in.
-- The projection's processed events are in processed_events (0001) under
-- the handler name 'analytics-projection'.
-- Times are BIGINT unix microseconds UTC; user ids are '' when unset.
-- Statements are idempotent, as in 0001; utf8mb4_bin compares by bytes as
-- SQLite does (scope prefixes are read as byte ranges).

CREATE TABLE IF NOT EXISTS analytics_events (
    event_id       VARCHAR(64)  NOT NULL,
    aggregate_type VARCHAR(32)  NOT NULL,
    aggregate_id   VARCHAR(64)  NOT NULL,
    sequence       BIGINT       NOT NULL,
    event_type     VARCHAR(64)  NOT NULL,
    actor_id       VARCHAR(64)  NOT NULL,
    occurred_at    BIGINT       NOT NULL,
    recorded_at    BIGINT       NOT NULL,
    payload        MEDIUMTEXT   NOT NULL,
    PRIMARY KEY (event_id),
    UNIQUE KEY analytics_events_aggregate (aggregate_type, aggregate_id, sequence),
    KEY analytics_events_actor (actor_id, occurred_at, event_id),
    KEY analytics_events_time (occurred_at, event_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS analytics_task_states (
    task_id       VARCHAR(64)  NOT NULL,
    last_sequence BIGINT       NOT NULL,
    since         BIGINT       NOT NULL,
    name          VARCHAR(200) NOT NULL,
    status        VARCHAR(16)  NOT NULL,
    priority      VARCHAR(16)  NOT NULL,
    deadline      BIGINT       NULL,
    pic_id        VARCHAR(64)  NOT NULL,
    supervisor_id VARCHAR(64)  NOT NULL,
    creator_id    VARCHAR(64)  NOT NULL,
    started_at    BIGINT       NULL,
    deleted       TINYINT      NOT NULL,
    is_open       TINYINT      NOT NULL,
    PRIMARY KEY (task_id),
    KEY analytics_task_states_pic (is_open, pic_id, priority, since, deadline),
    KEY analytics_task_states_supervisor (is_open, supervisor_id, pic_id, priority, since, deadline)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS analytics_counters (
    period_key VARCHAR(16)  NOT NULL,
    scope_key  VARCHAR(160) NOT NULL,
    metric     VARCHAR(48)  NOT NULL,
    amount     BIGINT       NOT NULL,
    PRIMARY KEY (period_key, scope_key, metric)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS analytics_report_tasks (
    period_key        VARCHAR(16)  NOT NULL,
    user_id           VARCHAR(64)  NOT NULL,
    task_id           VARCHAR(64)  NOT NULL,
    name              VARCHAR(200) NOT NULL,
    priority          VARCHAR(16)  NOT NULL,
    created           BIGINT       NOT NULL,
    assigned          BIGINT       NOT NULL,
    started           BIGINT       NOT NULL,
    completed         BIGINT       NOT NULL,
    completed_on_time BIGINT       NOT NULL,
    completed_late    BIGINT       NOT NULL,
    reopened          BIGINT       NOT NULL,
    open_end          BIGINT       NOT NULL,
    overdue           BIGINT       NOT NULL,
    PRIMARY KEY (period_key, user_id, task_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS analytics_meta (
    id         INT         NOT NULL,
    generation BIGINT      NOT NULL,
    rebuilding TINYINT     NOT NULL,
    time_zone  VARCHAR(64) NOT NULL,
    updated_at BIGINT      NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT IGNORE INTO analytics_meta (id, generation, rebuilding, time_zone, updated_at) VALUES (1, 1, 0, '', 0);
