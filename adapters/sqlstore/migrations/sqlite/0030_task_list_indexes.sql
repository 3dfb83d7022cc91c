-- Indexes that serve every single-filter task list in its default order
-- (newest first: created_at DESC, id DESC) and its keyset pagination, so a
-- filtered page reads 51 index entries instead of sorting every match
-- (docs/performance.md). The composite indexes replace the single-column
-- ones, whose lookups they serve as well (UpdateInvolving's pic_id /
-- supervisor_id, the per-user lists); priority gets one beside
-- tasks_priority, which serves sort=priority.

DROP INDEX tasks_status;
DROP INDEX tasks_pic;
DROP INDEX tasks_supervisor;
DROP INDEX tasks_creator;
CREATE INDEX tasks_status_created ON tasks (status, created_at, id);
CREATE INDEX tasks_pic_created ON tasks (pic_id, created_at, id);
CREATE INDEX tasks_supervisor_created ON tasks (supervisor_id, created_at, id);
CREATE INDEX tasks_creator_created ON tasks (creator_id, created_at, id);
CREATE INDEX tasks_priority_created ON tasks (priority_rank, created_at, id);
