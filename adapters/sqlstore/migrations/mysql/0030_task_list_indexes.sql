-- Indexes that serve every single-filter task list in its default order
-- (newest first: created_at DESC, id DESC) and its keyset pagination, so a
-- filtered page reads 51 index entries instead of sorting every match
-- (docs/performance.md). The composite indexes replace the single-column
-- ones, whose lookups they serve as well (UpdateInvolving's pic_id /
-- supervisor_id … FOR UPDATE, the per-user lists); priority gets one beside
-- tasks_priority, which serves sort=priority.
--
-- One ALTER statement: InnoDB applies it whole or not at all.

ALTER TABLE tasks
    DROP INDEX tasks_status,
    DROP INDEX tasks_pic,
    DROP INDEX tasks_supervisor,
    DROP INDEX tasks_creator,
    ADD INDEX tasks_status_created (status, created_at, id),
    ADD INDEX tasks_pic_created (pic_id, created_at, id),
    ADD INDEX tasks_supervisor_created (supervisor_id, created_at, id),
    ADD INDEX tasks_creator_created (creator_id, created_at, id),
    ADD INDEX tasks_priority_created (priority_rank, created_at, id);
