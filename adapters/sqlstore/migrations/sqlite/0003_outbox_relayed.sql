-- The cloud forwarder's relayed mark (see the MySQL migration of the same
-- version). On SQLite the forwarder reads by offset, as rows commit in offset
-- order there (one writer at a time); the column keeps both schemas alike.
ALTER TABLE outbox_messages ADD COLUMN relayed INTEGER NOT NULL DEFAULT 0;
