-- The cloud forwarder marks each outbox row it relayed to SNS (docs/events.md,
-- "No row is ever skipped"). It reads unrelayed rows with FOR UPDATE SKIP
-- LOCKED instead of keeping an offset: a row committed late is simply found
-- on a later read, so outbox writers need not be serialised in the cloud
-- (the embedded transport, which reads by offset, still serialises them).
-- One statement: MySQL 8 has no ADD COLUMN IF NOT EXISTS, and a failed
-- ALTER changes nothing, so the migration can simply run again.
ALTER TABLE outbox_messages
    ADD COLUMN relayed TINYINT(1) NOT NULL DEFAULT 0,
    ADD KEY outbox_messages_unrelayed (relayed, `offset`);
