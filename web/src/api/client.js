// HTTP plumbing: JSON in and out, the bearer token, one retry after a token
// refresh on 401, and the API's error shape {"error": {"code", "message", "field"}}.
import { API_BASE } from '../config.js';
import * as session from './session.js';

export class ApiError extends Error {
  constructor(status, code, message, field = '') {
    super(message || code);
    this.status = status;
    this.code = code;
    this.field = field;
  }
  /** Someone else changed the resource first (If-Match failed). */
  get conflict() {
    return this.status === 412 || /version|precondition|conflict_stale/.test(this.code);
  }
  get forbidden() {
    return this.status === 403;
  }
  get notFound() {
    return this.status === 404;
  }
}

function qs(query) {
  if (!query) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  }
  const s = p.toString();
  return s ? '?' + s : '';
}

async function toError(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  const e = (body && typeof body.error === 'object' && body.error) || {};
  const err = new ApiError(
    res.status,
    e.code || (typeof body?.error === 'string' ? body.error : `http_${res.status}`),
    e.message || body?.message || res.statusText || `HTTP ${res.status}`,
    e.field || '',
  );
  if (res.status === 429) err.retryAfter = Number(res.headers.get('Retry-After')) || 0;
  return err;
}

const PASSWORD_ERRORS = new Set(['wrong_password', 'invalid_credentials']);

/**
 * request(method, path, opts) → {data, headers, status}
 * opts: body (JSON), query, headers, auth (default true), accept ('json' | 'text'),
 */
export async function request(method, path, opts = {}) {
  const { body, query, headers = {}, auth = true, accept = 'json' } = opts;
  const h = { Accept: accept === 'json' ? 'application/json' : accept, ...headers };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (auth) {
    let tok = null;
    try {
      tok = await session.accessToken();
    } catch {
      throw new ApiError(0, 'network', '');
    }
    if (tok) h.Authorization = 'Bearer ' + tok;
    else if (!opts._retried) {
      await session.expire();
      throw new ApiError(401, 'session_expired', '');
    }
  }
  let res;
  try {
    res = await fetch(API_BASE + path + qs(query), {
      method,
      headers: h,
      body: body !== undefined ? JSON.stringify(body) : undefined,
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', '');
  }
  if (res.status === 401 && auth && !opts._retried) {
    // A wrong password (account deletion, password change) is an answer, not
    // an expired session: no refresh for those.
    const err = await toError(res.clone());
    if (PASSWORD_ERRORS.has(err.code)) throw err;
    let ok = false;
    try {
      ok = await session.refresh();
    } catch {
      throw new ApiError(0, 'network', '');
    }
    if (ok) return request(method, path, { ...opts, _retried: true });
    await session.expire();
    throw new ApiError(401, 'session_expired', '');
  }
  if (!res.ok) throw await toError(res);
  let data = null;
  if (res.status !== 204) {
    if (accept === 'json') data = await res.json().catch(() => ({}));
    else data = await res.text();
  }
  return { data: data ?? {}, headers: res.headers, status: res.status };
}

export const get = (path, opts) => request('GET', path, opts);
export const post = (path, body, opts = {}) => request('POST', path, { ...opts, body });
export const put = (path, body, opts = {}) => request('PUT', path, { ...opts, body });
export const patch = (path, body, opts = {}) => request('PATCH', path, { ...opts, body });
export const del = (path, body, opts = {}) => request('DELETE', path, { ...opts, body });

/** A random Idempotency-Key for POSTs that create something. */
export function idempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
