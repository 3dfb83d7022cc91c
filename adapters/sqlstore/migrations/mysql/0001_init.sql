-- taskd schema, MySQL 8 / MariaDB 10.6+.
--
-- Every time is a BIGINT of unix microseconds UTC (NULL = none): the same
-- representation on both drivers, exact, time-zone free and sortable
-- (DATETIME would depend on the session time zone and on fractional-second
-- precision settings). The outbox tables keep watermill-sql's shape.
-- Optional user references (pic_id, supervisor_id, phone) are NULL when unset.
--
-- MySQL commits every DDL statement on its own, so the statements run one by
-- one and each is idempotent (IF NOT EXISTS, indexes declared inline): a
-- migration interrupted half-way is simply run again.
--
-- Collations: utf8mb4_bin for ids, hashes, codes and the (already
-- lower-cased) e-mail, so that comparisons and ordering are by bytes as in
-- SQLite and Go; utf8mb4_unicode_ci for names, searched case-insensitively.

CREATE TABLE IF NOT EXISTS users (
    id            CHAR(36)     NOT NULL,
    email         VARCHAR(254) NOT NULL,
    name          VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
    phone         VARCHAR(16)  NULL,
    password_hash VARCHAR(255) NOT NULL,
    role          VARCHAR(16)  NOT NULL,
    locale        VARCHAR(8)   NOT NULL,
    token_version BIGINT       NOT NULL,
    created_at    BIGINT       NOT NULL,
    updated_at    BIGINT       NOT NULL,
    last_sequence BIGINT       NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY users_email (email),
    KEY users_name (name, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS refresh_tokens (
    hash       VARCHAR(128) NOT NULL,
    user_id    CHAR(36)     NOT NULL,
    family_id  VARCHAR(128) NOT NULL,
    expires_at BIGINT       NOT NULL,
    created_at BIGINT       NOT NULL,
    used_at    BIGINT       NULL,
    revoked_at BIGINT       NULL,
    PRIMARY KEY (hash),
    KEY refresh_tokens_user (user_id),
    KEY refresh_tokens_family (family_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- contents is MEDIUMTEXT: 20,000 characters of up to 4 bytes exceed TEXT's 64 KiB.
-- deadline_key = deadline, or the largest BIGINT when there is none, so that
-- "no deadline" sorts last and keyset pagination needs no NULL handling.
CREATE TABLE IF NOT EXISTS tasks (
    id            CHAR(36)     NOT NULL,
    name          VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
    contents      MEDIUMTEXT   NOT NULL,
    status        VARCHAR(16)  NOT NULL,
    priority      VARCHAR(16)  NOT NULL,
    priority_rank INT          NOT NULL,
    deadline      BIGINT       NULL,
    deadline_key  BIGINT       NOT NULL,
    pic_id        CHAR(36)     NULL,
    supervisor_id CHAR(36)     NULL,
    creator_id    CHAR(36)     NOT NULL,
    created_at    BIGINT       NOT NULL,
    updated_at    BIGINT       NOT NULL,
    started_at    BIGINT       NULL,
    completed_at  BIGINT       NULL,
    version       BIGINT       NOT NULL,
    last_sequence BIGINT       NOT NULL,
    PRIMARY KEY (id),
    KEY tasks_status (status),
    KEY tasks_pic (pic_id),
    KEY tasks_supervisor (supervisor_id),
    KEY tasks_creator (creator_id),
    KEY tasks_priority (priority_rank, deadline_key, id),
    KEY tasks_deadline (deadline_key, id),
    KEY tasks_created (created_at, id),
    KEY tasks_updated (updated_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The outbox, as adapters/outbox (watermill-sql's DefaultMySQLSchema and
-- DefaultMySQLOffsetsAdapter) reads and writes it.
CREATE TABLE IF NOT EXISTS outbox_messages (
    `offset`     BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    `uuid`       VARCHAR(36) NOT NULL,
    `created_at` TIMESTAMP   NOT NULL DEFAULT CURRENT_TIMESTAMP,
    `payload`    JSON        DEFAULT NULL,
    `metadata`   JSON        DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS outbox_offsets (
    consumer_group  VARCHAR(255) NOT NULL,
    offset_acked    BIGINT,
    offset_consumed BIGINT NOT NULL,
    PRIMARY KEY (consumer_group)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Events an idempotent consumer has handled.
CREATE TABLE IF NOT EXISTS processed_events (
    handler      VARCHAR(200) NOT NULL,
    event_id     CHAR(36)     NOT NULL,
    processed_at BIGINT       NOT NULL,
    PRIMARY KEY (handler, event_id),
    KEY processed_events_at (processed_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Responses kept for Idempotency-Key replays.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    user_id      CHAR(36)     NOT NULL,
    idem_key     VARCHAR(255) NOT NULL,
    request_hash VARCHAR(128) NOT NULL,
    status       INT          NOT NULL,
    body         LONGBLOB     NOT NULL,
    created_at   BIGINT       NOT NULL,
    PRIMARY KEY (user_id, idem_key),
    KEY idempotency_keys_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
