// Session tokens.
//
// - The access token (short-lived JWT) lives only in memory: a reload drops it.
// - The refresh token is kept in IndexedDB so that a reload (or tomorrow
//   morning's visit) resumes the session: at start the app trades it at
//   POST /api/token/refresh for a new access token AND a new refresh token
//   (rotation: each refresh token works once; the server revokes the whole
//   sign-in when a spent one is presented). The API answers tokens in JSON
//   bodies, so an httpOnly cookie — which page scripts cannot read — is not
//   available; see web/README.md for the trade-off.
// - Tabs share the stored token. Refreshes are serialised across tabs with the
//   Web Locks API, and the token is read inside the lock from IndexedDB, whose
//   committed transactions every tab sees at once. (localStorage is not enough
//   here: Chromium propagates its writes to other tabs' processes
//   asynchronously, so a tab could read the token another tab just spent.)
// - localStorage holds only a flag ("a session exists") for synchronous checks;
//   removing it (sign-out) signs out every tab through the `storage` event.
import { API_BASE } from '../config.js';

const FLAG = 'taskd.session';
const DB_NAME = 'taskd';
const STORE = 'session';
const KEY = 'refresh_token';
const SKEW_MS = 20_000; // refresh this long before the access token expires

let access = null;
let accessExp = 0;
let inflight = null;
let memoryToken = null; // when IndexedDB is not available
let memoryFlag = false;
const listeners = new Set();

function local() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
function setFlag(on) {
  memoryFlag = on;
  const s = local();
  if (!s) return;
  if (on) s.setItem(FLAG, '1');
  else s.removeItem(FLAG);
}

let dbPromise = null;
function db() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      if (typeof indexedDB === 'undefined') return reject(new Error('no IndexedDB'));
      const rq = indexedDB.open(DB_NAME, 1);
      rq.onupgradeneeded = () => rq.result.createObjectStore(STORE);
      rq.onsuccess = () => resolve(rq.result);
      rq.onerror = () => reject(rq.error);
      rq.onblocked = () => reject(new Error('IndexedDB blocked'));
    });
  }
  return dbPromise;
}

async function readToken() {
  let d;
  try {
    d = await db();
  } catch {
    return memoryToken;
  }
  return new Promise((resolve, reject) => {
    const rq = d.transaction(STORE, 'readonly').objectStore(STORE).get(KEY);
    rq.onsuccess = () => resolve(rq.result || null);
    rq.onerror = () => reject(rq.error);
  });
}

async function writeToken(v) {
  let d;
  try {
    d = await db();
  } catch {
    memoryToken = v || null;
    return;
  }
  await new Promise((resolve, reject) => {
    const tx = d.transaction(STORE, 'readwrite');
    if (v) tx.objectStore(STORE).put(v, KEY);
    else tx.objectStore(STORE).delete(KEY);
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('aborted'));
  });
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
    if (e.key === FLAG && !e.newValue) {
      access = null;
      accessExp = 0;
      emit('signed-out');
    }
  });
}

/** Whether a stored session exists (synchronous hint; the token itself is checked on use). */
export function hasSession() {
  const s = local();
  return s ? s.getItem(FLAG) === '1' : memoryFlag;
}

/** Store the tokens of a sign-in or refresh answer. */
export async function setTokens(body) {
  if (body.access_token) {
    access = body.access_token;
    const ttl = Number(body.expires_in) > 0 ? Number(body.expires_in) : 300;
    accessExp = Date.now() + ttl * 1000;
  }
  if (body.refresh_token) {
    await writeToken(body.refresh_token);
    setFlag(true);
  }
}

export function currentRefreshToken() {
  return readToken();
}

/** Forget every token (after sign-out or account deletion). */
export async function clear() {
  access = null;
  accessExp = 0;
  setFlag(false);
  await writeToken(null).catch(() => {});
}

/** The session could not be renewed: forget it and tell the app. */
export async function expire() {
  const had = !!access || hasSession();
  await clear();
  if (had) emit('expired');
}

/** A valid access token, refreshing first when it is missing or about to expire. */
export async function accessToken() {
  if (access && Date.now() < accessExp - SKEW_MS) return access;
  if (!hasSession()) return access;
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
    // An earlier call in this tab may have refreshed while we waited.
    if (access && access !== before && Date.now() < accessExp - SKEW_MS) return true;
    const rt = await readToken();
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
        if ((await readToken()) === rt) await writeToken(null);
        access = null;
        return false;
      }
      throw new Error(`token refresh failed: HTTP ${res.status}`);
    }
    // Stored (transaction committed) before the lock is released.
    await setTokens(await res.json());
    return true;
  }).finally(() => {
    inflight = null;
  });
  return inflight;
}
