// An in-memory stand-in for the taskd API, written from the issues' documented
// shapes (issue 3: auth, users, tasks; issue 5: history and reports; issue 6:
// notifications and preferences). It also serves web/dist like taskd does (SPA
// fallback, the same security headers), so the browser tests can run against it
// as a fast UI harness: `node e2e/mock-server.mjs` then open http://127.0.0.1:8090.
//
// It is NOT the contract: the real e2e run is against the taskd binary. Where the
// issues leave a shape open, this mock picks the one web/src/api/endpoints.js
// expects first; keep them in step.
//
// Test hooks (mock only): POST /__mock/promote {email, role}.
import { createServer } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

const MSG = {
  signedUp: '회원가입이 완료되었습니다.',
  signedIn: '사용자가 성공적으로 로그인했습니다.',
  created: '작업이 성공적으로 생성되었습니다.',
  updated: '작업이 성공적으로 업데이트되었습니다.',
  deleted: '작업이 성공적으로 삭제되었습니다',
  listed: '전체 작업 조회',
};
const STATUS = { waiting: 'waiting', in_progress: 'in_progress', done: 'done', '대기 중': 'waiting', '진행 중': 'in_progress', 완료: 'done' };
const MOVES = { waiting: ['in_progress', 'done'], in_progress: ['waiting', 'done'], done: ['in_progress'] };
const PRIOS = ['low', 'medium', 'high', 'urgent'];
const PRIO_RANK = { urgent: 0, high: 1, medium: 2, low: 3 };
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json', '.md': 'text/plain; charset=utf-8' };

class HttpError extends Error {
  constructor(status, code, message, field = '') {
    super(message);
    Object.assign(this, { status, code, field });
  }
}

export async function serveStatic(req, res, url, distDir = join(HERE, '..', 'dist')) {
  const headers = {
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
  };
  let rel = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, '');
  if (rel.endsWith('/')) rel += 'index.html';
  let file = join(distDir, rel);
  let st = await stat(file).catch(() => null);
  if (!st || !st.isFile()) {
    if (extname(rel)) {
      res.writeHead(404, headers);
      return res.end('not found');
    }
    file = join(distDir, 'index.html');
  }
  const data = await readFile(file);
  res.writeHead(200, {
    ...headers,
    'Content-Type': TYPES[extname(file)] || 'application/octet-stream',
    'Cache-Control': file.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  res.end(req.method === 'HEAD' ? undefined : data);
}

export function createMock({ distDir = join(HERE, '..', 'dist'), accessTtl = 900, log = false } = {}) {
  const users = new Map(); // id → user
  const access = new Map(); // token → {userId, exp}
  const refresh = new Map(); // token → {userId, family, spent, exp}
  const tasks = new Map(); // id → task
  const events = []; // every task event
  const notes = new Map(); // userId → [note]
  const prefs = new Map(); // userId → prefs
  const idem = new Map();
  const seq = new Map(); // taskId → last sequence

  const now = () => new Date();
  const iso = (d) => (d ? new Date(d).toISOString() : null);
  const byEmail = (e) => [...users.values()].find((u) => u.email === String(e || '').trim().toLowerCase());
  const pub = (u) => u && { id: u.id, email: u.email, name: u.name, ...(u.phone ? { phone: u.phone } : {}), role: u.role, locale: u.locale, created_at: u.created_at };
  const emailOf = (id) => (id && users.get(id) ? users.get(id).email : '');

  function resolveUser(ref, field) {
    const s = String(ref || '').trim();
    const u = s.includes('@') ? byEmail(s) : users.get(s);
    if (!u) throw new HttpError(422, 'unknown_user', `no user with this e-mail or id: ${s}`, field);
    return u;
  }

  function issueTokens(userId, family) {
    const a = randomBytes(24).toString('base64url');
    const r = randomBytes(32).toString('base64url');
    access.set(a, { userId, exp: Date.now() + accessTtl * 1000 });
    refresh.set(r, { userId, family: family || r, spent: false, exp: Date.now() + 30 * 86400e3 });
    return { access_token: a, refresh_token: r, expires_in: accessTtl, token_type: 'Bearer' };
  }

  function auth(req) {
    const h = req.headers.authorization || '';
    const tok = h.startsWith('Bearer ') ? h.slice(7) : '';
    const a = access.get(tok);
    if (!a || a.exp < Date.now() || !users.has(a.userId)) throw new HttpError(401, 'unauthorized', 'missing or invalid access token');
    return users.get(a.userId);
  }

  function taskJSON(t) {
    return {
      Task_id: t.id,
      Task_name: t.name,
      Task_contents: t.contents,
      Task_status: t.status,
      Task_priority: t.priority,
      Deadline: t.deadline,
      PIC: emailOf(t.picId),
      Supervisor: emailOf(t.supervisorId),
      Creator: emailOf(t.creatorId),
      Created_at: iso(t.createdAt),
      Updated_at: iso(t.updatedAt),
      Started_at: iso(t.startedAt),
      Completed_at: iso(t.completedAt),
      Version: t.version,
    };
  }

  function parseDeadline(v) {
    if (v === null || v === '') return null;
    if (typeof v !== 'string') throw new HttpError(400, 'invalid_deadline', 'deadline must be a string', 'Deadline');
    if (/^\d{4}-\d{2}-\d{2}$/.test(v) && !isNaN(new Date(v))) return v;
    if (/^\d{4}-\d{2}-\d{2}T/.test(v) && !isNaN(new Date(v))) return new Date(v).toISOString();
    throw new HttpError(422, 'invalid_deadline', 'deadline must be RFC 3339 (2026-12-01T18:00:00+09:00) or a date (2026-12-01)', 'Deadline');
  }
  const deadlineEnd = (d) => (!d ? null : /^\d{4}-\d{2}-\d{2}$/.test(d) ? new Date(d + 'T23:59:59.999Z') : new Date(d));

  function record(task, type, actor, changes) {
    const n = (seq.get(task.id) || 0) + 1;
    seq.set(task.id, n);
    const e = { event_id: randomUUID(), event_type: type, occurred_at: iso(now()), actor_id: actor ? actor.id : '', task_id: task.id, sequence: n, changes, snapshot: { ...task } };
    events.push(e);
    notify(e, task, actor);
    return e;
  }

  // ---- notifications (issue 6 rules): never the actor; per recipient locale.
  function notify(e, task, actor) {
    const rcpt = new Set();
    const add = (id) => id && id !== (actor && actor.id) && users.has(id) && rcpt.add(id);
    let kind = '';
    if (e.event_type === 'TaskCreated') {
      add(task.picId);
      add(task.supervisorId);
      kind = 'task_assigned';
    } else if (e.event_type === 'TaskAssigned') {
      for (const c of e.changes) {
        add(c.newId);
        add(c.oldId);
      }
      kind = 'task_assigned';
    } else if (['TaskStatusChanged', 'TaskCompleted', 'TaskReopened'].includes(e.event_type)) {
      add(task.creatorId);
      add(task.picId);
      add(task.supervisorId);
      kind = 'status_changed';
    } else if (e.event_type === 'TaskUpdated' && e.changes.some((c) => c.field === 'deadline' || c.field === 'priority')) {
      add(task.picId);
      kind = 'task_updated';
    } else if (e.event_type === 'TaskDeleted') {
      add(task.picId);
      add(task.supervisorId);
      kind = 'task_deleted';
    }
    for (const uid of rcpt) {
      const u = users.get(uid);
      const p = prefs.get(uid);
      if (p && p.preferences && p.preferences[kind] && p.preferences[kind].inbox === false) continue;
      const list = notes.get(uid) || [];
      list.unshift({ id: randomUUID(), kind, event_type: e.event_type, message: noteText(u.locale, e, task, actor), task_id: task.id, task_name: task.name, actor: actor ? { id: actor.id, name: actor.name } : null, link: `/tasks/${task.id}`, read: false, created_at: e.occurred_at, read_at: null });
      notes.set(uid, list);
    }
  }

  function noteText(locale, e, task, actor) {
    const who = actor ? actor.name || actor.email : 'taskd';
    const st = e.changes.find((c) => c.field === 'status');
    const ko = { waiting: '대기 중', in_progress: '진행 중', done: '완료' };
    const en = { waiting: 'waiting', in_progress: 'in progress', done: 'done' };
    if (locale === 'en') {
      switch (e.event_type) {
        case 'TaskCreated': return `${who} assigned you “${task.name}”.`;
        case 'TaskAssigned': return `${who} changed who is on “${task.name}”.`;
        case 'TaskDeleted': return `${who} deleted “${task.name}”.`;
        case 'TaskUpdated': return `${who} changed the deadline or priority of “${task.name}”.`;
        default: return `${who} moved “${task.name}” from ${en[st?.old] || st?.old} to ${en[st?.new] || st?.new}.`;
      }
    }
    switch (e.event_type) {
      case 'TaskCreated': return `${who}님이 “${task.name}” 작업을 배정했습니다.`;
      case 'TaskAssigned': return `${who}님이 “${task.name}” 작업의 담당을 바꿨습니다.`;
      case 'TaskDeleted': return `${who}님이 “${task.name}” 작업을 삭제했습니다.`;
      case 'TaskUpdated': return `${who}님이 “${task.name}” 작업의 마감일 또는 우선순위를 바꿨습니다.`;
      default: return `${who}님이 “${task.name}” 작업을 ${ko[st?.old] || st?.old}에서 ${ko[st?.new] || st?.new}(으)로 옮겼습니다.`;
    }
  }

  // ---- reports (issue 5), computed from the event log on each request.
  function periodOf(q) {
    if (q.get('week')) {
      const m = /^(\d{4})-W(\d{2})$/.exec(q.get('week'));
      if (!m || +m[2] < 1 || +m[2] > 53) throw new HttpError(400, 'invalid_week', 'week must be YYYY-Www', 'week');
      const jan4 = new Date(Date.UTC(+m[1], 0, 4));
      const start = new Date(jan4.getTime() - ((jan4.getUTCDay() || 7) - 1) * 86400e3 + (+m[2] - 1) * 7 * 86400e3);
      return { kind: 'week', label: q.get('week'), start, end: new Date(start.getTime() + 7 * 86400e3) };
    }
    if (q.get('month')) {
      const m = /^(\d{4})-(\d{2})$/.exec(q.get('month'));
      if (!m || +m[2] < 1 || +m[2] > 12) throw new HttpError(400, 'invalid_month', 'month must be YYYY-MM', 'month');
      return { kind: 'month', label: q.get('month'), start: new Date(Date.UTC(+m[1], +m[2] - 1, 1)), end: new Date(Date.UTC(+m[1], +m[2], 1)) };
    }
    throw new HttpError(400, 'period_required', 'week or month is required', 'week');
  }

  function previous(p) {
    if (p.kind === 'week') return { ...p, start: new Date(p.start - 7 * 86400e3), end: p.start };
    const s = new Date(Date.UTC(p.start.getUTCFullYear(), p.start.getUTCMonth() - 1, 1));
    return { ...p, start: s, end: p.start };
  }

  function counters(p, match) {
    const inP = (e) => new Date(e.occurred_at) >= p.start && new Date(e.occurred_at) < p.end;
    const c = { created: 0, assigned: 0, started: 0, completed: 0, completed_on_time: 0, completed_late: 0, reopened: 0, overdue: 0 };
    const cycles = [];
    const taskIds = new Map(); // id → what it counted as
    const mark = (id, what) => taskIds.set(id, new Set([...(taskIds.get(id) || []), what]));
    const firstStart = new Map();
    for (const e of events) {
      if (e.event_type === 'TaskStatusChanged' && e.changes.some((x) => x.field === 'status' && x.new === 'in_progress') && !firstStart.has(e.task_id)) firstStart.set(e.task_id, new Date(e.occurred_at));
      if (!inP(e) || !match(e.snapshot)) continue;
      const st = e.changes.find((x) => x.field === 'status');
      if (e.event_type === 'TaskCreated') c.created++, mark(e.task_id, 'created');
      if (e.event_type === 'TaskCreated' || e.event_type === 'TaskAssigned') c.assigned++, mark(e.task_id, 'assigned');
      if (st && st.new === 'in_progress' && st.old === 'waiting') c.started++, mark(e.task_id, 'started');
      if (e.event_type === 'TaskReopened') c.reopened++;
      if (e.event_type === 'TaskCompleted') {
        c.completed++;
        const dl = deadlineEnd(e.snapshot.deadline);
        if (dl && new Date(e.occurred_at) > dl) c.completed_late++, mark(e.task_id, 'completed_late');
        else c.completed_on_time++, mark(e.task_id, 'completed_on_time');
        const fs = firstStart.get(e.task_id);
        if (fs) cycles.push((new Date(e.occurred_at) - fs) / 3600e3);
      }
    }
    const cut = new Date(Math.min(Date.now(), p.end.getTime()));
    for (const t of tasks.values()) {
      if (t.deleted || t.status === 'done' || !match(t)) continue;
      const dl = deadlineEnd(t.deadline);
      if (dl && dl < cut && dl >= p.start) c.overdue++, mark(t.id, 'overdue');
    }
    cycles.sort((a, b) => a - b);
    const mean = cycles.length ? cycles.reduce((a, b) => a + b, 0) / cycles.length : null;
    const median = cycles.length ? cycles[Math.floor(cycles.length / 2)] : null;
    return { c, cycle: { mean, median, count: cycles.length }, taskIds };
  }

  function reportBody(p, match, user) {
    const cur = counters(p, match);
    const prev = counters(previous(p), match).c;
    const delta = {};
    for (const k of Object.keys(cur.c)) delta[k] = cur.c[k] - prev[k];
    const done = cur.c.completed;
    return {
      message: '리포트 조회',
      period: { type: p.kind, label: p.label, start: iso(p.start), end: iso(p.end) },
      ...(user ? { user: pub(user) } : {}),
      ...cur.c,
      completion_rate: cur.c.assigned ? Math.min(1, done / cur.c.assigned) : 0,
      on_time_rate: done ? cur.c.completed_on_time / done : null,
      cycle_time_hours: { mean: cur.cycle.mean, median: cur.cycle.median },
      by_priority: {},
      delta,
      tasks: [...cur.taskIds].filter(([id]) => tasks.get(id)).map(([id, what]) => ({ id, name: tasks.get(id).name, priority: tasks.get(id).priority, counted_as: [...what] })),
    };
  }

  // ---- handlers
  async function api(req, res, url, body) {
    const p = url.pathname;
    const m = req.method;
    const q = url.searchParams;
    let mm;

    if (p === '/__mock/promote' && m === 'POST') {
      const u = byEmail(body.email);
      if (!u) throw new HttpError(404, 'user_not_found', 'user not found');
      u.role = body.role;
      return [200, { message: 'ok' }];
    }

    if (p === '/api/sign_up' && m === 'POST') {
      const email = String(body.email || '').trim().toLowerCase();
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw new HttpError(422, 'invalid_email', 'e-mail address is not valid', 'email');
      if (!String(body.name || '').trim()) throw new HttpError(422, 'name_required', 'name is required', 'name');
      const pw = String(body.password || '');
      if (pw.length < 10) throw new HttpError(422, 'password_too_short', 'password must be at least 10 characters', 'password');
      if (pw.toLowerCase() === email) throw new HttpError(422, 'password_is_email', 'password must not be the e-mail address', 'password');
      if (body.phone && !/^\+[1-9]\d{6,14}$/.test(body.phone)) throw new HttpError(422, 'invalid_phone', 'phone must be in E.164 form, e.g. +821012345678', 'phone');
      if (byEmail(email)) throw new HttpError(409, 'email_taken', 'an account with this e-mail address already exists', 'email');
      const u = { id: randomUUID(), email, name: String(body.name).trim(), phone: body.phone || '', role: 'member', locale: 'ko', created_at: iso(now()), password: pw };
      users.set(u.id, u);
      return [201, { message: MSG.signedUp, email, User_id: u.id }];
    }
    if (p === '/api/sign_in' && (m === 'POST' || m === 'GET')) {
      const u = byEmail(body.email);
      if (!u || u.password !== body.password) throw new HttpError(401, 'invalid_credentials', 'wrong e-mail or password');
      return [200, { message: MSG.signedIn, email: u.email, ...issueTokens(u.id) }];
    }
    if (p === '/api/token/refresh' && m === 'POST') {
      const r = refresh.get(body.refresh_token);
      if (!r || r.exp < Date.now() || !users.has(r.userId)) throw new HttpError(401, 'refresh_token_invalid', 'refresh token is not valid');
      if (r.spent) {
        for (const [k, v] of refresh) if (v.family === r.family) refresh.delete(k); // reuse: revoke the sign-in
        throw new HttpError(401, 'refresh_token_reused', 'refresh token was already used');
      }
      r.spent = true;
      return [200, { message: 'token refreshed', ...issueTokens(r.userId, r.family) }];
    }
    if (p === '/api/sign_out' && m === 'POST') {
      const r = refresh.get(body.refresh_token);
      if (r) for (const [k, v] of refresh) if (v.family === r.family) refresh.delete(k);
      return [200, { message: 'signed out' }];
    }

    const me = auth(req);

    if (p === '/api/users/me') {
      if (m === 'GET') return [200, { message: 'ok', user: pub(me) }];
      if (m === 'PATCH') {
        if (body.name !== undefined) {
          if (!String(body.name).trim()) throw new HttpError(422, 'name_required', 'name is required', 'name');
          me.name = String(body.name).trim();
        }
        if (body.phone !== undefined) {
          if (body.phone && !/^\+[1-9]\d{6,14}$/.test(body.phone)) throw new HttpError(422, 'invalid_phone', 'phone must be in E.164 form, e.g. +821012345678', 'phone');
          me.phone = body.phone;
        }
        if (body.locale !== undefined) {
          if (!['ko', 'en'].includes(body.locale)) throw new HttpError(422, 'invalid_locale', 'locale must be ko or en', 'locale');
          me.locale = body.locale;
        }
        return [200, { message: 'ok', user: pub(me) }];
      }
      if (m === 'DELETE') {
        if (body.password !== me.password) throw new HttpError(401, 'wrong_password', 'the password is incorrect', 'password');
        users.delete(me.id);
        for (const t of tasks.values()) {
          if (t.picId === me.id) t.picId = '';
          if (t.supervisorId === me.id) t.supervisorId = '';
        }
        return [200, { message: 'account deleted' }];
      }
    }
    if (p === '/api/users/me/password' && m === 'PUT') {
      if (body.old_password !== me.password) throw new HttpError(401, 'wrong_password', 'the password is incorrect', 'old_password');
      if (String(body.new_password || '').length < 10) throw new HttpError(422, 'password_too_short', 'password must be at least 10 characters', 'new_password');
      me.password = body.new_password;
      for (const [k, v] of refresh) if (v.userId === me.id) refresh.delete(k);
      return [200, { message: 'password changed' }];
    }
    if (p === '/api/users/me/notifications') {
      if (m === 'GET') return [200, prefs.get(me.id) || { preferences: {}, quiet_hours: null }];
      if (m === 'PUT') {
        prefs.set(me.id, { preferences: body.preferences || {}, quiet_hours: body.quiet_hours || null });
        return [200, prefs.get(me.id)];
      }
    }
    if (p === '/api/users' && m === 'GET') {
      const s = (q.get('q') || '').trim().toLowerCase();
      const limit = Math.min(50, Number(q.get('limit')) || 20);
      const list = [...users.values()].filter((u) => !s || u.email.includes(s) || u.name.toLowerCase().includes(s)).slice(0, limit);
      return [200, { message: 'ok', users: list.map(pub) }];
    }

    // ---- tasks
    if (p === '/api/tasks' && m === 'POST') {
      const key = req.headers['idempotency-key'];
      if (key && idem.has(me.id + key)) return idem.get(me.id + key);
      allowOnly(body, ['Task_name', 'Task_contents', 'Task_status', 'Task_priority', 'Deadline', 'PIC', 'Supervisor']);
      const name = String(body.Task_name ?? '').trim();
      if (!name) throw new HttpError(422, 'name_required', 'task name is required', 'Task_name');
      if (name.length > 200) throw new HttpError(422, 'name_too_long', 'task name is at most 200 characters', 'Task_name');
      const status = body.Task_status ? STATUS[body.Task_status] : 'waiting';
      if (!status) throw new HttpError(422, 'invalid_status', 'status must be waiting, in_progress or done', 'Task_status');
      const priority = body.Task_priority || 'medium';
      if (!PRIOS.includes(priority)) throw new HttpError(422, 'invalid_priority', 'priority must be low, medium, high or urgent', 'Task_priority');
      const t = {
        id: randomUUID(), name, contents: String(body.Task_contents || ''), status, priority,
        deadline: body.Deadline ? parseDeadline(body.Deadline) : null,
        picId: body.PIC ? resolveUser(body.PIC, 'PIC').id : '',
        supervisorId: body.Supervisor ? resolveUser(body.Supervisor, 'Supervisor').id : '',
        creatorId: me.id, createdAt: now(), updatedAt: now(), startedAt: status === 'in_progress' ? now() : null, completedAt: status === 'done' ? now() : null, version: 1, deleted: false,
      };
      tasks.set(t.id, t);
      record(t, 'TaskCreated', me, [
        { field: 'name', old: null, new: t.name },
        { field: 'status', old: null, new: t.status },
        { field: 'priority', old: null, new: t.priority },
        ...(t.deadline ? [{ field: 'deadline', old: null, new: t.deadline }] : []),
        ...(t.picId ? [{ field: 'pic', old: null, new: emailOf(t.picId) }] : []),
        ...(t.supervisorId ? [{ field: 'supervisor', old: null, new: emailOf(t.supervisorId) }] : []),
      ]);
      const out = [201, { message: MSG.created, Task_id: t.id }, { ETag: `"${t.version}"` }];
      if (key) idem.set(me.id + key, out);
      return out;
    }
    if (p === '/api/tasks' && m === 'GET') {
      let list = [...tasks.values()].filter((t) => !t.deleted);
      const userFilter = (param, key) => {
        const v = q.get(param);
        if (!v) return;
        const id = v === 'me' ? me.id : resolveUser(v, param).id;
        list = list.filter((t) => t[key] === id);
      };
      userFilter('pic', 'picId');
      userFilter('supervisor', 'supervisorId');
      userFilter('creator', 'creatorId');
      if (q.get('status')) {
        const s = STATUS[q.get('status')];
        if (!s) throw new HttpError(400, 'invalid_status', 'status must be waiting, in_progress or done', 'status');
        list = list.filter((t) => t.status === s);
      }
      if (q.get('priority')) {
        if (!PRIOS.includes(q.get('priority'))) throw new HttpError(400, 'invalid_priority', 'invalid priority', 'priority');
        list = list.filter((t) => t.priority === q.get('priority'));
      }
      if (q.get('q')) list = list.filter((t) => t.name.toLowerCase().includes(q.get('q').toLowerCase()));
      const dl = (t) => (t.deadline ? deadlineEnd(t.deadline).getTime() : Infinity);
      const sorts = {
        priority: (a, b) => PRIO_RANK[a.priority] - PRIO_RANK[b.priority] || dl(a) - dl(b),
        deadline: (a, b) => dl(a) - dl(b),
        created: (a, b) => a.createdAt - b.createdAt,
        '-created': (a, b) => b.createdAt - a.createdAt,
        updated: (a, b) => a.updatedAt - b.updatedAt,
        '-updated': (a, b) => b.updatedAt - a.updatedAt,
      };
      const sort = q.get('sort') || '-created';
      if (!sorts[sort]) throw new HttpError(400, 'invalid_sort', 'sort must be one of priority, deadline, created, -created, updated, -updated', 'sort');
      list.sort((a, b) => sorts[sort](a, b) || (a.id < b.id ? -1 : 1));
      const limit = Math.min(200, Number(q.get('limit')) || 50);
      const off = Number(q.get('cursor') || 0);
      const page = list.slice(off, off + limit);
      return [200, { message: MSG.listed, tasks: page.map(taskJSON), next_cursor: off + limit < list.length ? String(off + limit) : '' }];
    }
    if ((mm = /^\/api\/tasks\/([^/]+)\/history$/.exec(p)) && m === 'GET') {
      const id = mm[1];
      const t = tasks.get(id);
      if (!t || (t.deleted && !['manager', 'admin'].includes(me.role))) throw new HttpError(404, 'task_not_found', 'task not found');
      const history = events.filter((e) => e.task_id === id).map((e) => ({
        sequence: e.sequence, event_type: e.event_type, occurred_at: e.occurred_at,
        actor: pub(users.get(e.actor_id)) || (e.actor_id ? { id: e.actor_id } : null),
        changes: e.changes.map(({ field, old, new: nw }) => ({ field, old, new: nw })),
      }));
      return [200, { message: 'ok', task_id: id, history }];
    }
    if ((mm = /^\/api\/tasks\/([^/]+)$/.exec(p))) {
      const t = tasks.get(mm[1]);
      if (!t || t.deleted) throw new HttpError(404, 'task_not_found', 'task not found');
      const etag = { ETag: `"${t.version}"` };
      if (m === 'GET') return [200, { message: 'ok', task: taskJSON(t) }, etag];
      const im = req.headers['if-match'];
      const stale = im && im !== '*' && String(im).replace(/^W\//, '').replace(/"/g, '') !== String(t.version);
      if (m === 'PUT') {
        const canUpdate = me.role === 'admin' || [t.creatorId, t.picId, t.supervisorId].includes(me.id);
        if (!canUpdate) throw new HttpError(403, 'forbidden', 'only the creator, the PIC or the supervisor may change this task');
        if (stale) throw new HttpError(412, 'version_mismatch', 'the task was changed by someone else; reload it');
        allowOnly(body, ['Task_name', 'Task_contents', 'Task_status', 'Task_priority', 'Deadline', 'PIC', 'Supervisor']);
        const before = { ...t };
        const upd = [];
        const asg = [];
        if ('Task_name' in body) {
          const n = String(body.Task_name ?? '').trim();
          if (!n) throw new HttpError(422, 'name_required', 'task name is required', 'Task_name');
          if (n.length > 200) throw new HttpError(422, 'name_too_long', 'task name is at most 200 characters', 'Task_name');
          if (n !== t.name) upd.push({ field: 'name', old: t.name, new: n });
        }
        if ('Task_contents' in body && String(body.Task_contents ?? '') !== t.contents) upd.push({ field: 'contents', old: t.contents, new: String(body.Task_contents ?? '') });
        if ('Task_priority' in body) {
          if (!PRIOS.includes(body.Task_priority)) throw new HttpError(422, 'invalid_priority', 'priority must be low, medium, high or urgent', 'Task_priority');
          if (body.Task_priority !== t.priority) upd.push({ field: 'priority', old: t.priority, new: body.Task_priority });
        }
        if ('Deadline' in body) {
          const d = parseDeadline(body.Deadline);
          if (d !== t.deadline) upd.push({ field: 'deadline', old: t.deadline, new: d });
        }
        let picId = t.picId;
        let supId = t.supervisorId;
        if ('PIC' in body) picId = body.PIC ? resolveUser(body.PIC, 'PIC').id : '';
        if ('Supervisor' in body) supId = body.Supervisor ? resolveUser(body.Supervisor, 'Supervisor').id : '';
        if (picId !== t.picId) asg.push({ field: 'pic', old: emailOf(t.picId) || null, new: emailOf(picId) || null, oldId: t.picId, newId: picId });
        if (supId !== t.supervisorId) asg.push({ field: 'supervisor', old: emailOf(t.supervisorId) || null, new: emailOf(supId) || null, oldId: t.supervisorId, newId: supId });
        let to = null;
        if ('Task_status' in body) {
          to = STATUS[body.Task_status];
          if (!to) throw new HttpError(422, 'invalid_status', 'status must be waiting, in_progress or done', 'Task_status');
          if (to === t.status) to = null;
          else if (!MOVES[t.status].includes(to)) throw new HttpError(422, 'invalid_status_transition', `a task cannot move from ${t.status} to ${to}`, 'Task_status');
        }
        // apply (all validated)
        for (const c of upd) t[c.field === 'name' ? 'name' : c.field] = c.new;
        t.picId = picId;
        t.supervisorId = supId;
        const at = now();
        if (upd.length || asg.length || to) {
          t.version++;
          t.updatedAt = at;
        }
        if (upd.length) record(t, 'TaskUpdated', me, upd);
        if (asg.length) record(t, 'TaskAssigned', me, asg);
        if (to) {
          const from = t.status;
          t.status = to;
          if (to === 'in_progress' && !t.startedAt) t.startedAt = at;
          if (to === 'done') t.completedAt = at;
          else t.completedAt = null;
          const type = to === 'done' ? 'TaskCompleted' : from === 'done' ? 'TaskReopened' : 'TaskStatusChanged';
          record(t, type, me, [{ field: 'status', old: from, new: to }]);
        }
        void before;
        return [200, { message: MSG.updated }, { ETag: `"${t.version}"` }];
      }
      if (m === 'DELETE') {
        const canDelete = me.role === 'admin' || [t.creatorId, t.supervisorId].includes(me.id);
        if (!canDelete) throw new HttpError(403, 'forbidden', 'only the creator or the supervisor may delete this task');
        if (stale) throw new HttpError(412, 'version_mismatch', 'the task was changed by someone else; reload it');
        t.deleted = true;
        t.version++;
        record(t, 'TaskDeleted', me, []);
        return [200, { message: MSG.deleted, Task_id: t.id, Task_name: t.name }];
      }
    }

    // ---- notifications
    if (p === '/api/notifications' && m === 'GET') {
      let list = notes.get(me.id) || [];
      const unread = list.filter((n) => !n.read_at).length;
      if (q.get('unread') === 'true') list = list.filter((n) => !n.read_at);
      const limit = Math.min(100, Number(q.get('limit')) || 30);
      const off = Number(q.get('cursor') || 0);
      return [200, { message: 'ok', notifications: list.slice(off, off + limit), unread_count: unread, next_cursor: off + limit < list.length ? String(off + limit) : '' }];
    }
    const unreadOf = () => (notes.get(me.id) || []).filter((n) => !n.read_at).length;
    if (p === '/api/notifications/unread-count' && m === 'GET') return [200, { unread_count: unreadOf() }];
    if ((mm = /^\/api\/notifications\/([^/]+)\/read$/.exec(p)) && m === 'POST') {
      const n = (notes.get(me.id) || []).find((x) => x.id === mm[1]);
      if (!n) throw new HttpError(404, 'notification_not_found', 'notification not found');
      n.read_at = n.read_at || iso(now());
      n.read = true;
      return [200, { unread_count: unreadOf() }];
    }
    if (p === '/api/notifications/read-all' && m === 'POST') {
      for (const n of notes.get(me.id) || []) (n.read_at = n.read_at || iso(now())), (n.read = true);
      return [200, { unread_count: 0 }];
    }

    // ---- reports
    if ((mm = /^\/api\/reports\/(weekly|monthly)$/.exec(p)) && m === 'GET') {
      const per = periodOf(mm[1] === 'weekly' ? new URLSearchParams({ week: q.get('week') || '' }) : new URLSearchParams({ month: q.get('month') || '' }));
      let u = me;
      if (q.get('user') && q.get('user') !== 'me') {
        u = resolveUser(q.get('user'), 'user');
        if (u.id !== me.id && !['manager', 'admin'].includes(me.role)) throw new HttpError(403, 'forbidden', 'members may read only their own reports');
      }
      return [200, reportBody(per, (t) => t.picId === u.id, u)];
    }
    if (p === '/api/reports/team' && m === 'GET') {
      const per = periodOf(q);
      const mine = q.get('supervisor') === 'me';
      if (!mine && !['manager', 'admin'].includes(me.role)) throw new HttpError(403, 'forbidden', 'the team report is for managers');
      const people = mine ? [...users.values()].filter((u) => [...tasks.values()].some((t) => t.supervisorId === me.id && t.picId === u.id)) : [...users.values()];
      const scope = (t) => !mine || t.supervisorId === me.id;
      const rows = people.map((u) => reportBody(per, (t) => scope(t) && t.picId === u.id, u));
      const totals = reportBody(per, (t) => scope(t) && !!t.picId, null);
      const strip = (r) => ({ ...r, tasks: undefined, message: undefined });
      if ((req.headers.accept || '').includes('text/csv') || q.get('format') === 'csv') {
        const cols = ['created', 'assigned', 'started', 'completed', 'completed_on_time', 'completed_late', 'overdue'];
        const esc = (s) => (/[",\n]/.test(s) ? `"${String(s).replace(/"/g, '""')}"` : s);
        const lines = [['email', 'name', ...cols, 'cycle_time_hours_mean'].join(',')];
        for (const r of rows) lines.push([esc(r.user.email), esc(r.user.name), ...cols.map((k) => r[k]), r.cycle_time_hours.mean ?? ''].join(','));
        lines.push(['', 'TOTAL', ...cols.map((k) => totals[k]), totals.cycle_time_hours.mean ?? ''].join(','));
        return [200, lines.join('\n') + '\n', { 'Content-Type': 'text/csv; charset=utf-8' }];
      }
      return [200, { message: '팀 리포트', period: totals.period, rows: rows.map(strip), totals: strip(totals) }];
    }

    throw new HttpError(404, 'not_found', 'no such route');
  }

  function allowOnly(body, keys) {
    for (const k of Object.keys(body)) if (!keys.includes(k)) throw new HttpError(400, 'unknown_field', `unknown field ${k}`, k);
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (!url.pathname.startsWith('/api/') && !url.pathname.startsWith('/__mock/')) {
      return serveStatic(req, res, url, distDir).catch((e) => {
        res.writeHead(500);
        res.end(String(e));
      });
    }
    let raw = '';
    for await (const chunk of req) {
      raw += chunk;
      if (raw.length > 1 << 20) break;
    }
    let status;
    let out;
    let extra = {};
    try {
      let body = {};
      if (raw) {
        try {
          body = JSON.parse(raw);
        } catch {
          throw new HttpError(400, 'malformed_json', 'request body is not valid JSON');
        }
      }
      [status, out, extra = {}] = await api(req, res, url, body || {});
    } catch (e) {
      if (!(e instanceof HttpError)) console.error(e);
      status = e.status || 500;
      out = { error: { code: e.code || 'internal', message: e.message, ...(e.field ? { field: e.field } : {}) } };
    }
    if (log) console.log(req.method, url.pathname + url.search, status);
    const isText = typeof out === 'string';
    res.writeHead(status, { 'Content-Type': isText ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...extra });
    res.end(isText ? out : JSON.stringify(out));
  });
  return server;
}

/** Start on host:port (port 0 = any free port) → {server, url}. */
export async function startMock(opts = {}) {
  const server = createMock(opts);
  await new Promise((resolve) => server.listen(opts.port || 0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const port = Number(process.env.PORT || 8090);
  const { url } = await startMock({ port, accessTtl: Number(process.env.MOCK_ACCESS_TTL || 900), log: true });
  console.log(`taskd mock API + web app on ${url}`);
}
