// Unit tests of the plain-JS parts (no browser): dates, API shape mapping, errors.
// Run: npm run test:unit
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { daysLeft, isoWeek, monthKey, periodDays, shiftPeriod, weekKey, weekStart, ymd } from '../src/dates.js';
import { etagOf, normReport, normStatus, normTask, normUser, uiField } from '../src/api/endpoints.js';
import { ApiError } from '../src/api/client.js';
import { isUnavailable } from '../src/errors.js';

describe('dates', () => {
  it('ISO weeks', () => {
    assert.deepEqual(isoWeek(new Date(2026, 0, 1)), { year: 2026, week: 1 }); // Thursday
    assert.deepEqual(isoWeek(new Date(2027, 0, 1)), { year: 2026, week: 53 }); // Friday of W53
    assert.equal(weekKey(new Date(2026, 10, 27)), '2026-W48');
    assert.equal(ymd(weekStart('2026-W48')), '2026-11-23');
    assert.equal(ymd(weekStart('2026-W01')), '2025-12-29');
  });
  it('periods', () => {
    assert.equal(periodDays('weekly', '2026-W48').length, 7);
    assert.equal(periodDays('monthly', '2026-02').length, 28);
    assert.equal(shiftPeriod('weekly', '2026-W01', -1), '2025-W52');
    assert.equal(shiftPeriod('monthly', '2026-01', -1), '2025-12');
    assert.equal(monthKey(new Date(2026, 10, 3)), '2026-11');
  });
  it('days left to a deadline', () => {
    const now = new Date(2026, 10, 27, 15, 0);
    assert.equal(daysLeft('2026-11-27', now), 0);
    assert.equal(daysLeft('2026-11-30', now), 3);
    assert.equal(daysLeft('2026-11-25', now), -2);
  });
});

describe('API shapes', () => {
  it('maps a task in the seed naming', () => {
    const t = normTask({
      Task_id: 'id1', Task_name: 'n', Task_contents: null, Task_status: '진행 중', Task_priority: 'high',
      Deadline: '2026-12-01', PIC: 'b@example.com', Supervisor: null, Creator: 'a@example.com', Version: 3,
    });
    assert.equal(t.status, 'in_progress');
    assert.equal(t.contents, '');
    assert.deepEqual(t.pic, { id: '', email: 'b@example.com', name: '' });
    assert.equal(t.supervisor, null);
    assert.equal(etagOf(t), '"3"');
    assert.equal(etagOf({ ...t, etag: '"7"' }), '"7"');
  });
  it('maps users with User_id or id', () => {
    assert.equal(normUser({ User_id: 'u1', email: 'x@y.z', name: 'X', phone: null }).id, 'u1');
    assert.equal(normUser({ id: 'u2', email: 'x@y.z' }).role, 'member');
    assert.equal(normStatus('완료'), 'done');
  });
  it('maps API error fields to editor fields', () => {
    assert.equal(uiField('Task_name'), 'name');
    assert.equal(uiField('PIC'), 'pic');
    assert.equal(uiField('deadline'), 'deadline');
    assert.equal(uiField('nope'), '');
  });
  it('reads a report and computes deltas from the previous period when only that is given', () => {
    const r = normReport({
      period: { start: '2026-11-23T00:00:00Z', end: '2026-11-30T00:00:00Z' },
      completed: 3, completed_on_time: 2, completed_late: 1,
      previous: { completed: 1 },
      cycle_time_hours: { mean: 5.5, median: 4 },
      tasks: [{ Task_id: 't', Task_name: 'n', Task_status: 'done' }],
    });
    assert.equal(r.counters.completed, 3);
    assert.equal(r.delta.completed, 2);
    assert.equal(r.cycle.mean, 5.5);
    assert.equal(r.tasks[0].status, 'done');
  });
});

describe('errors', () => {
  it('conflict and unavailable', () => {
    assert.ok(new ApiError(412, 'version_mismatch', '').conflict);
    assert.ok(!new ApiError(422, 'invalid_status', '').conflict);
    assert.ok(isUnavailable(new ApiError(404, 'not_found', 'no such route')));
    assert.ok(!isUnavailable(new ApiError(404, 'task_not_found', '')));
    assert.ok(isUnavailable(new ApiError(405, 'method_not_allowed', '')));
  });
});
