// Every call the app makes, and the mapping between the API's JSON and the
// shapes the UI uses. The API's field names (Task_name, PIC, …) appear only in
// this file, so an answer shape that changes is adjusted here and nowhere else.
//
// Issue 3 (foundation) defines auth, users and tasks to the letter. Issue 5
// (history, reports) and issue 6 (notifications, preferences) were not served
// yet when this was written: their normalisers accept the documented shape and
// a few plausible variants; see the "ISSUE 5" / "ISSUE 6" sections.
import { get, post, put, patch, del, request, idempotencyKey, ApiError } from './client.js';
import * as session from './session.js';

// ---------------------------------------------------------------- auth (issue 3)

export async function signUp({ email, password, name, phone }) {
  const body = { email, password, name };
  if (phone) body.phone = phone;
  const { data } = await post('/api/sign_up', body, { auth: false });
  return data;
}

export async function signIn(email, password) {
  const { data } = await post('/api/sign_in', { email, password }, { auth: false });
  if (!data.access_token) throw new ApiError(500, 'no_token', 'sign-in answer has no access_token');
  await session.setTokens(data);
  return data;
}

export async function signOut() {
  const rt = await session.currentRefreshToken();
  try {
    if (rt) await post('/api/sign_out', { refresh_token: rt }, { auth: false });
  } catch {
    /* the local session ends anyway */
  }
  await session.clear();
}

// ---------------------------------------------------------------- users (issue 3)

export function normUser(u) {
  if (!u) return null;
  if (typeof u === 'string') {
    return u.includes('@') ? { id: '', email: u, name: '' } : { id: u, email: '', name: '' };
  }
  return {
    id: u.id || u.User_id || u.user_id || '',
    email: u.email || '',
    name: u.name || '',
    phone: u.phone || '',
    role: u.role || 'member',
    locale: u.locale || 'ko',
    createdAt: u.created_at || '',
  };
}

/** What a user reference sends to the API: the e-mail (accepted for PIC and Supervisor). */
export function userRef(u) {
  if (!u) return '';
  return u.email || u.id || '';
}

export async function me() {
  const { data } = await get('/api/users/me');
  const u = normUser(data.user || data);
  remember([u]);
  return u;
}

export async function updateMe(fields) {
  const { data } = await patch('/api/users/me', fields);
  return data.user ? normUser(data.user) : null;
}

export async function changePassword(oldPassword, newPassword) {
  await put('/api/users/me/password', { old_password: oldPassword, new_password: newPassword });
}

export async function deleteAccount(password) {
  await del('/api/users/me', { password });
  await session.clear();
}

export async function searchUsers(q, limit = 8) {
  const { data } = await get('/api/users', { query: { q, limit } });
  const list = Array.isArray(data) ? data : data.users || data.items || [];
  return remember(list.map(normUser));
}

// Task answers name users by e-mail only; names for the board come from a
// per-session cache filled by /api/users/me, user searches and look-ups below.
const userCache = new Map(); // e-mail → user (name '' when unknown)
function remember(list) {
  for (const u of list) {
    if (u && u.email) userCache.set(u.email, u);
    if (u && u.id && (u.email || u.name)) userCache.set(u.id, u);
  }
  return list;
}

/** The cached user for an e-mail or a user id (null when not looked up yet). */
export function cachedUser(key) {
  return userCache.get(key) || null;
}

/** Fill in names of the users a list of tasks mentions (one look-up per unknown e-mail, cached). */
async function withNames(tasks) {
  const missing = new Set();
  for (const t of tasks) {
    for (const u of [t.pic, t.supervisor, t.creator]) if (u && !u.name && u.email && !userCache.has(u.email)) missing.add(u.email);
  }
  await Promise.all(
    [...missing].slice(0, 40).map(async (email) => {
      try {
        const found = (await searchUsers(email, 5)).find((x) => x.email === email);
        if (!found) userCache.set(email, { id: '', email, name: '' });
      } catch {
        userCache.set(email, { id: '', email, name: '' });
      }
    }),
  );
  const fill = (u) => (u && !u.name && u.email && userCache.has(u.email) ? { ...u, ...userCache.get(u.email) } : u);
  for (const t of tasks) {
    t.pic = fill(t.pic);
    t.supervisor = fill(t.supervisor);
    t.creator = fill(t.creator);
    remember([t.pic, t.supervisor, t.creator]);
  }
  return tasks;
}

// ---------------------------------------------------------------- tasks (issue 3)

export const STATUSES = ['waiting', 'in_progress', 'done'];
export const PRIORITIES = ['urgent', 'high', 'medium', 'low'];
const STATUS_ALIASES = { '대기 중': 'waiting', '진행 중': 'in_progress', 완료: 'done' };

export function normStatus(s) {
  if (!s) return 'waiting';
  return STATUS_ALIASES[s] || String(s).toLowerCase();
}

export function normTask(t) {
  return {
    id: t.Task_id,
    name: t.Task_name || '',
    contents: t.Task_contents || '',
    status: normStatus(t.Task_status),
    priority: (t.Task_priority || 'medium').toLowerCase(),
    deadline: t.Deadline || null,
    pic: normUser(t.PIC),
    supervisor: normUser(t.Supervisor),
    creator: normUser(t.Creator),
    createdAt: t.Created_at || null,
    updatedAt: t.Updated_at || null,
    startedAt: t.Started_at || null,
    completedAt: t.Completed_at || null,
    version: t.Version ?? null,
  };
}

/** The If-Match value for a task: the ETag we were given, else the quoted version. */
export function etagOf(task) {
  if (task.etag) return task.etag;
  return task.version == null ? undefined : `"${task.version}"`;
}

/** filter: {view: all|pic|supervisor|creator, status, priority, sort, q}. Follows cursors up to `max` tasks. */
export async function listTasks(filter = {}, max = 1000) {
  const query = {
    status: filter.status,
    priority: filter.priority,
    sort: filter.sort,
    q: filter.q,
    limit: 200,
  };
  if (filter.view === 'pic') query.pic = 'me';
  if (filter.view === 'supervisor') query.supervisor = 'me';
  if (filter.view === 'creator') query.creator = 'me';
  const out = [];
  let cursor = '';
  for (let page = 0; page < 20 && out.length < max; page++) {
    const { data } = await get('/api/tasks', { query: { ...query, cursor } });
    for (const t of data.tasks || []) out.push(normTask(t));
    cursor = data.next_cursor || data.cursor || '';
    if (!cursor) break;
  }
  return withNames(out);
}

export async function getTask(id) {
  const { data, headers } = await get(`/api/tasks/${encodeURIComponent(id)}`);
  const task = normTask(data.task || data);
  task.etag = headers.get('ETag') || undefined;
  await withNames([task]);
  return task;
}

/** draft: {name, contents, status, priority, deadline, pic, supervisor} (users as e-mails). → id */
export async function createTask(draft) {
  const body = {
    Task_name: draft.name,
    Task_contents: draft.contents || '',
    Task_status: draft.status || 'waiting',
    Task_priority: draft.priority || 'medium',
  };
  if (draft.deadline) body.Deadline = draft.deadline;
  if (draft.pic) body.PIC = draft.pic;
  if (draft.supervisor) body.Supervisor = draft.supervisor;
  const { data } = await post('/api/tasks', body, { headers: { 'Idempotency-Key': idempotencyKey() } });
  return data.Task_id;
}

const FIELD_OF = {
  name: 'Task_name',
  contents: 'Task_contents',
  status: 'Task_status',
  priority: 'Task_priority',
  deadline: 'Deadline',
  pic: 'PIC',
  supervisor: 'Supervisor',
};
/** The editor's field for an API error field ("Task_name" → "name"). */
export function uiField(apiField) {
  if (!apiField) return '';
  for (const [ui, api] of Object.entries(FIELD_OF)) {
    if (api.toLowerCase() === String(apiField).toLowerCase()) return ui;
  }
  return '';
}

/** changes: UI field → new value (null clears deadline / PIC / supervisor). */
export async function updateTask(task, changes) {
  const body = {};
  for (const [k, v] of Object.entries(changes)) body[FIELD_OF[k]] = v === '' ? null : v;
  const { data, headers } = await put(`/api/tasks/${encodeURIComponent(task.id)}`, body, {
    headers: ifMatch(task),
  });
  return { ...data, etag: headers.get('ETag') || '' };
}

/** The version in an ETag ("7" → 7), or null. */
export function versionOf(etag) {
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(etag || '');
  return m ? Number(m[1]) : null;
}

export function moveTask(task, status) {
  return updateTask(task, { status });
}

export async function deleteTask(task) {
  const { data } = await del(`/api/tasks/${encodeURIComponent(task.id)}`, { Task_id: task.id }, {
    headers: ifMatch(task),
  });
  return data;
}

function ifMatch(task) {
  const tag = etagOf(task);
  return tag ? { 'If-Match': tag } : {};
}

// ---------------------------------------------------------------- ISSUE 5: history

/**
 * GET /api/tasks/{id}/history → [{seq, at, type, actor, changes: [{field, old, new}]}]
 * Documented: "the task's changes in order: who, when, what changed (field, old, new)".
 * Accepted: {history|events|items|changes: [...]}, each entry with
 * occurred_at|at|time, actor (user or e-mail) | actor_email | actor_id,
 * event_type|type|event, changes|fields.
 */
export async function taskHistory(id) {
  const list = [];
  let after = '';
  for (let page = 0; page < 20; page++) {
    const { data } = await get(`/api/tasks/${encodeURIComponent(id)}/history`, { query: { after } });
    list.push(...(Array.isArray(data) ? data : data.history || data.events || data.items || []));
    if (data.next_after == null || String(data.next_after) === after) break;
    after = String(data.next_after);
  }
  for (const e of list) if (e.actor && typeof e.actor === 'object') remember([normUser(e.actor)]);
  return list.map((e, i) => ({
    seq: e.sequence ?? e.seq ?? i + 1,
    at: e.occurred_at || e.at || e.time || e.created_at || null,
    type: e.event_type || e.type || e.event || '',
    actor: normUser(e.actor || e.actor_email || e.by || (e.actor_id ? { id: e.actor_id, name: e.actor_name } : null)),
    changes: (e.changes || e.fields || []).map((c) => ({
      field: normField(c.field),
      old: c.old ?? c.from ?? null,
      new: c.new ?? c.to ?? null,
    })),
  }));
}

function normField(f) {
  const ui = uiField(f);
  if (ui) return ui;
  const m = { pic_id: 'pic', supervisor_id: 'supervisor', Status: 'status' };
  return m[f] || String(f || '').toLowerCase();
}

// ---------------------------------------------------------------- ISSUE 5: reports

export const REPORT_COUNTERS = [
  'open',
  'created',
  'assigned',
  'started',
  'completed',
  'completed_on_time',
  'completed_late',
  'reopened',
  'overdue',
];

/**
 * kind: 'weekly' | 'monthly'; period: '2026-W48' | '2026-11'; user: '' (me) | e-mail | id.
 * → {period: {start, end, label}, user, counters: {…}, rates, cycle: {mean, median},
 *    byPriority, delta: {counter: n}, tasks: [task], series: [{date, on_time, late}] | null}
 */
export async function report(kind, period, user = '') {
  const query = kind === 'weekly' ? { week: period } : { month: period };
  if (user) query.user = user;
  const { data } = await get(`/api/reports/${kind}`, { query });
  return normReport(data);
}

export function normReport(d) {
  const src = d.counts || d.counters || d;
  const counters = {};
  for (const k of REPORT_COUNTERS) counters[k] = Number(src[k] ?? 0);
  const prev = d.previous || null;
  let delta = d.delta || d.deltas || d.change || null;
  if (!delta && prev) {
    delta = {};
    for (const k of REPORT_COUNTERS) delta[k] = counters[k] - Number((prev.counts || prev.counters || prev)[k] ?? 0);
  }
  const cyc = src.cycle_time_hours || d.cycle_time_hours || {};
  return {
    period: { start: d.period?.start || d.period?.from || null, end: d.period?.end || d.period?.to || null, label: d.period?.label || d.period?.week || d.period?.month || '' },
    user: normUser(d.user),
    counters,
    completionRate: src.completion_rate ?? d.completion_rate ?? null,
    onTimeRate: src.on_time_rate ?? d.on_time_rate ?? null,
    cycle: { mean: cyc.mean ?? null, median: cyc.median ?? null },
    byPriority: d.by_priority || {},
    delta: delta || {},
    tasks: (d.tasks || []).map((t) => ({
      ...(t.Task_id ? normTask(t) : { id: t.id || t.task_id, name: t.name || t.task_name || '', priority: t.priority || '' }),
      countedAs: t.counted_as || t.countedAs || [],
    })),
    series: d.series || d.daily || d.per_day || null,
  };
}

/** GET /api/reports/team?week=…|month=…[&supervisor=me] → {rows: [{user, counters, cycle}], totals} */
export async function teamReport(kind, period, supervisorOnly = false) {
  const query = kind === 'weekly' ? { week: period } : { month: period };
  if (supervisorOnly) query.supervisor = 'me';
  const { data } = await get('/api/reports/team', { query });
  const rows = (data.rows || data.users || data.items || []).map((r) => {
    const n = normReport(r);
    return { user: n.user, counters: n.counters, cycle: n.cycle, onTimeRate: n.onTimeRate };
  });
  const t = data.totals || data.total || null;
  return { rows, totals: t ? normReport(t) : null };
}

/** The same team report as CSV text (Accept: text/csv and format=csv). */
export async function teamReportCSV(kind, period, supervisorOnly = false) {
  const query = kind === 'weekly' ? { week: period } : { month: period };
  if (supervisorOnly) query.supervisor = 'me';
  query.format = 'csv';
  const { data } = await request('GET', '/api/reports/team', { query, accept: 'text/csv' });
  return data;
}

// ---------------------------------------------------------------- ISSUE 6: notifications

/**
 * GET /api/notifications[?unread=true][&cursor=] → {items: [note], next, unread}
 * note: {id, kind, text, taskId, taskName, actor, at, read}
 */
export async function notifications({ unread = false, cursor = '', limit = 30 } = {}) {
  const { data } = await get('/api/notifications', { query: { unread: unread ? 'true' : '', cursor, limit } });
  const list = Array.isArray(data) ? data : data.notifications || data.items || [];
  return {
    items: list.map(normNote),
    next: data.next_cursor || '',
    unread: data.unread_count ?? data.unread ?? null,
  };
}

function normNote(n) {
  return {
    id: n.id || n.notification_id,
    kind: n.kind || n.type || n.event_type || '',
    title: n.title || n.subject || '',
    text: n.message || n.body || n.text || '',
    taskId: n.task_id || n.Task_id || n.task?.id || '',
    taskName: n.task_name || n.Task_name || n.task?.name || '',
    actor: normUser(n.actor || n.actor_email || null),
    at: n.created_at || n.occurred_at || n.at || null,
    read: !!(n.read_at || n.read === true),
  };
}

/** The unread count for the header badge: GET /api/notifications/unread-count, else from the list. */
let countRoute = true;
export async function unreadCount() {
  if (countRoute) {
    try {
      const { data } = await get('/api/notifications/unread-count');
      if (typeof data.unread_count === 'number') return data.unread_count;
    } catch (err) {
      if (err.status !== 404 && err.status !== 405) throw err;
    }
    countRoute = false;
  }
  const r = await notifications({ unread: true, limit: 100 });
  return r.unread ?? r.items.filter((n) => !n.read).length;
}

export async function markRead(id) {
  await post(`/api/notifications/${encodeURIComponent(id)}/read`, {});
}

export async function markAllRead() {
  await post('/api/notifications/read-all', {});
}

// ---------------------------------------------------------------- ISSUE 6: preferences

export const NOTE_KINDS = ['task_assigned', 'status_changed', 'task_updated', 'task_deleted', 'deadline_reminder', 'overdue'];
export const NOTE_CHANNELS = ['inbox', 'email', 'sms'];

/**
 * GET /api/users/me/notifications → {kinds: {kind: {channel: bool}}, channels: [..], quiet: {start, end, time_zone} | null}
 * Answer: {"preferences": {kind: {channel: bool} | [channel]}, "quiet_hours": {start, end, time_zone} | null}.
 * Kinds and channels the server names are shown too; a missing kind defaults to inbox + e-mail.
 */
export async function notificationPrefs() {
  const { data } = await get('/api/users/me/notifications');
  const p = data.preferences || {};
  const kinds = {};
  const channels = [...NOTE_CHANNELS];
  for (const v of Object.values(p)) {
    const names = Array.isArray(v) ? v : Object.keys(v || {});
    for (const ch of names) if (!channels.includes(ch)) channels.push(ch);
  }
  for (const k of [...NOTE_KINDS, ...Object.keys(p).filter((k) => !NOTE_KINDS.includes(k))]) {
    const v = p[k];
    kinds[k] = {};
    for (const ch of channels) {
      if (Array.isArray(v)) kinds[k][ch] = v.includes(ch);
      else if (v && typeof v === 'object') kinds[k][ch] = !!v[ch];
      else kinds[k][ch] = ch === 'inbox' || ch === 'email';
    }
  }
  const q = data.quiet_hours || null;
  return { kinds, channels, quiet: q && (q.start || q.end) ? { start: q.start || '', end: q.end || '', time_zone: q.time_zone || '' } : null };
}

export async function saveNotificationPrefs(prefs) {
  const body = { preferences: {} };
  for (const [k, v] of Object.entries(prefs.kinds)) body.preferences[k] = { ...v };
  const q = prefs.quiet;
  body.quiet_hours = q && q.start && q.end ? { start: q.start, end: q.end, ...(q.time_zone ? { time_zone: q.time_zone } : {}) } : null;
  await put('/api/users/me/notifications', body);
}
