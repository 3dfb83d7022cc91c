-- The analytics module (docs/analytics.md), SQLite.
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
-- Times are INTEGER unix microseconds UTC; user ids are '' when unset.

CREATE TABLE analytics_events (
    event_id       TEXT    NOT NULL PRIMARY KEY,
    aggregate_type TEXT    NOT NULL,
    aggregate_id   TEXT    NOT NULL,
    sequence       INTEGER NOT NULL,
    event_type     TEXT    NOT NULL,
    actor_id       TEXT    NOT NULL,
    occurred_at    INTEGER NOT NULL,
    recorded_at    INTEGER NOT NULL,
    payload        TEXT    NOT NULL
);
CREATE UNIQUE INDEX analytics_events_aggregate ON analytics_events (aggregate_type, aggregate_id, sequence);
CREATE INDEX analytics_events_actor ON analytics_events (actor_id, occurred_at, event_id);
CREATE INDEX analytics_events_time ON analytics_events (occurred_at, event_id);

CREATE TABLE analytics_task_states (
    task_id       TEXT    NOT NULL PRIMARY KEY,
    last_sequence INTEGER NOT NULL,
    since         INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    priority      TEXT    NOT NULL,
    deadline      INTEGER NULL,
    pic_id        TEXT    NOT NULL,
    supervisor_id TEXT    NOT NULL,
    creator_id    TEXT    NOT NULL,
    started_at    INTEGER NULL,
    deleted       INTEGER NOT NULL,
    is_open       INTEGER NOT NULL
) WITHOUT ROWID;
-- Covering indexes of the open tasks: a report counts them in the index.
CREATE INDEX analytics_task_states_pic ON analytics_task_states (is_open, pic_id, priority, since, deadline);
CREATE INDEX analytics_task_states_supervisor ON analytics_task_states (is_open, supervisor_id, pic_id, priority, since, deadline);

CREATE TABLE analytics_counters (
    period_key TEXT    NOT NULL,
    scope_key  TEXT    NOT NULL,
    metric     TEXT    NOT NULL,
    amount     INTEGER NOT NULL,
    PRIMARY KEY (period_key, scope_key, metric)
) WITHOUT ROWID;

CREATE TABLE analytics_report_tasks (
    period_key        TEXT    NOT NULL,
    user_id           TEXT    NOT NULL,
    task_id           TEXT    NOT NULL,
    name              TEXT    NOT NULL,
    priority          TEXT    NOT NULL,
    created           INTEGER NOT NULL,
    assigned          INTEGER NOT NULL,
    started           INTEGER NOT NULL,
    completed         INTEGER NOT NULL,
    completed_on_time INTEGER NOT NULL,
    completed_late    INTEGER NOT NULL,
    reopened          INTEGER NOT NULL,
    open_end          INTEGER NOT NULL,
    overdue           INTEGER NOT NULL,
    PRIMARY KEY (period_key, user_id, task_id)
) WITHOUT ROWID;

CREATE TABLE analytics_meta (
    id         INTEGER NOT NULL PRIMARY KEY,
    generation INTEGER NOT NULL,
    rebuilding INTEGER NOT NULL,
    time_zone  TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO analytics_meta (id, generation, rebuilding, time_zone, updated_at) VALUES (1, 1, 0, '', 0);
