// Date helpers: deadlines, ISO weeks (YYYY-Www) and months (YYYY-MM), all in local time.

const pad = (n) => String(n).padStart(2, '0');

/** "2026-11-27" for a Date in local time. */
export function ymd(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Parse a deadline ("2026-11-27" or RFC 3339) to a Date; date-only means the end of that local day. */
export function parseDeadline(s) {
  if (!s) return null;
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) {
    const [y, m, d] = s.split('-').map(Number);
    return new Date(y, m - 1, d, 23, 59, 59);
  }
  const d = new Date(s);
  return isNaN(d) ? null : d;
}

/** The date part of a deadline for <input type=date>. */
export function deadlineInput(s) {
  const d = parseDeadline(s);
  return d ? ymd(d) : '';
}

export function isOverdue(task, now = new Date()) {
  const d = parseDeadline(task.deadline);
  return !!d && task.status !== 'done' && d < now;
}

/** ISO week of a date: {year, week}. */
export function isoWeek(date) {
  const d = new Date(Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
  return { year: d.getUTCFullYear(), week: Math.ceil(((d - yearStart) / 86400000 + 1) / 7) };
}

export function weekKey(date) {
  const { year, week } = isoWeek(date);
  return `${year}-W${pad(week)}`;
}

export function monthKey(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}`;
}

/** Monday (local) of an ISO week key. */
export function weekStart(key) {
  const m = /^(\d{4})-W(\d{2})$/.exec(key);
  if (!m) return null;
  const year = Number(m[1]);
  const week = Number(m[2]);
  const jan4 = new Date(year, 0, 4);
  const day = jan4.getDay() || 7;
  const monday = new Date(year, 0, 4 - day + 1);
  monday.setDate(monday.getDate() + (week - 1) * 7);
  return monday;
}

/** The days of a period key, as Dates. */
export function periodDays(kind, key) {
  const out = [];
  if (kind === 'weekly') {
    const start = weekStart(key);
    if (!start) return out;
    for (let i = 0; i < 7; i++) out.push(new Date(start.getFullYear(), start.getMonth(), start.getDate() + i));
  } else {
    const [y, m] = key.split('-').map(Number);
    const n = new Date(y, m, 0).getDate();
    for (let i = 1; i <= n; i++) out.push(new Date(y, m - 1, i));
  }
  return out;
}

/** Step a period key by n periods. */
export function shiftPeriod(kind, key, n) {
  if (kind === 'weekly') {
    const start = weekStart(key) || new Date();
    start.setDate(start.getDate() + 7 * n);
    return weekKey(start);
  }
  const [y, m] = key.split('-').map(Number);
  return monthKey(new Date(y, m - 1 + n, 1));
}

export function currentPeriod(kind, now = new Date()) {
  return kind === 'weekly' ? weekKey(now) : monthKey(now);
}

export function fmtDate(s, locale, withTime = false) {
  if (!s) return '';
  const d = typeof s === 'string' ? (/^\d{4}-\d{2}-\d{2}$/.test(s) ? parseDeadline(s) : new Date(s)) : s;
  if (!d || isNaN(d)) return String(s);
  const opts = withTime
    ? { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }
    : { year: 'numeric', month: 'short', day: 'numeric' };
  return new Intl.DateTimeFormat(locale, opts).format(d);
}

export function fmtShort(d, locale) {
  return new Intl.DateTimeFormat(locale, { month: 'numeric', day: 'numeric' }).format(d);
}

/** "3분 전" / "3 minutes ago". */
export function fmtRelative(s, locale, now = Date.now()) {
  const d = new Date(s);
  if (isNaN(d)) return '';
  const sec = Math.round((d - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const abs = Math.abs(sec);
  if (abs < 60) return rtf.format(sec, 'second');
  if (abs < 3600) return rtf.format(Math.round(sec / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(sec / 3600), 'hour');
  if (abs < 86400 * 14) return rtf.format(Math.round(sec / 86400), 'day');
  return fmtDate(d, locale);
}

/** A deadline for a card: "12월 7일" (year only when not this year). */
export function fmtDue(s, locale, now = new Date()) {
  const d = parseDeadline(s);
  if (!d) return '';
  const opts = d.getFullYear() === now.getFullYear() ? { month: 'short', day: 'numeric' } : { year: 'numeric', month: 'short', day: 'numeric' };
  return new Intl.DateTimeFormat(locale, opts).format(d);
}

/** Whole days from today to the deadline's day (negative when past). */
export function daysLeft(s, now = new Date()) {
  const d = parseDeadline(s);
  if (!d) return null;
  const a = Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
  const b = Date.UTC(d.getFullYear(), d.getMonth(), d.getDate());
  return Math.round((b - a) / 86400000);
}
