// Session tokens.
//
// - The access token (short-lived JWT) lives only in memory: a reload drops it.
// - The refresh token is kept in localStorage so that a reload (or tomorrow
//   morning's visit) resumes the session: at start the app trades it at
//   POST /api/token/refresh for a new access token AND a new refresh token
//   (rotation: each refresh token works once; the server revokes the whole
//   sign-in when a spent one is reused). The API answers tokens in JSON bodies,
//   so an httpOnly cookie — which page scripts cannot read — is not available;
//   see web/README.md for the trade-off.
// - Several tabs share the stored token. Refreshes are serialised across tabs
//   with the Web Locks API and the token is re-read inside the lock, so two tabs
//   never spend the same token (which would look like theft to the server).
// - Sign-out in one tab (the stored token removed) signs out every tab.
import { API_BASE } from '../config.js';

const KEY = 'taskd.refresh_token';
const SKEW_MS = 20_000; // refresh this long before the access token expires

let access = null;
let accessExp = 0;
let inflight = null;
const listeners = new Set();

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null; // storage disabled: the session then lasts as long as the page
  }
}
let memoryRefresh = null;
function readRefresh() {
  const s = storage();
  return s ? s.getItem(KEY) : memoryRefresh;
}
function writeRefresh(v) {
  const s = storage();
  if (s) {
    if (v) s.setItem(KEY, v);
    else s.removeItem(KEY);
  } else memoryRefresh = v || null;
}

/** onSessionEvent(fn): fn('expired' | 'signed-out') when the session ends. */
export function onSessionEvent(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
function emit(kind) {
  for (const fn of listeners) fn(kind);
}

if (typeof window !== 'undefined') {
  window.addEventListener('storage', (e) => {
    if (e.key === KEY && !e.newValue) {
      access = null;
      emit('signed-out');
    }
  });
}

export function hasSession() {
  return !!readRefresh();
}

/** Store the tokens of a sign-in or refresh answer. */
export function setTokens(body) {
  if (body.access_token) {
    access = body.access_token;
    const ttl = Number(body.expires_in) > 0 ? Number(body.expires_in) : 300;
    accessExp = Date.now() + ttl * 1000;
  }
  if (body.refresh_token) writeRefresh(body.refresh_token);
}

export function currentRefreshToken() {
  return readRefresh();
}

/** Forget every token (after sign-out or account deletion). */
export function clear() {
  access = null;
  accessExp = 0;
  writeRefresh(null);
}

/** The session could not be renewed: forget it and tell the app. */
export function expire() {
  const had = !!access || hasSession();
  clear();
  if (had) emit('expired');
}

/** A valid access token, refreshing first when it is missing or about to expire. */
export async function accessToken() {
  if (access && Date.now() < accessExp - SKEW_MS) return access;
  if (!readRefresh()) return access;
  const ok = await refresh();
  return ok ? access : null;
}

function withLock(fn) {
  if (typeof navigator !== 'undefined' && navigator.locks && navigator.locks.request) {
    return navigator.locks.request('taskd-token-refresh', fn);
  }
  return fn();
}

/**
 * Trade the stored refresh token for new tokens. Resolves true on success,
 * false when the server refused it (the session is over); rejects on a network
 * failure (the session may still be fine).
 */
export function refresh() {
  if (inflight) return inflight;
  const before = access;
  inflight = withLock(async () => {
    // Another tab (or an earlier call) may have refreshed while we waited.
    if (access && access !== before && Date.now() < accessExp - SKEW_MS) return true;
    const rt = readRefresh();
    if (!rt) return false;
    const res = await fetch(API_BASE + '/api/token/refresh', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ refresh_token: rt }),
      credentials: 'omit',
      cache: 'no-store',
    });
    if (!res.ok) {
      if (res.status >= 400 && res.status < 500 && res.status !== 429) {
        if (readRefresh() === rt) writeRefresh(null);
        access = null;
        return false;
      }
      throw new Error(`token refresh failed: HTTP ${res.status}`);
    }
    setTokens(await res.json());
    return true;
  }).finally(() => {
    inflight = null;
  });
  return inflight;
}
