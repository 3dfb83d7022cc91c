// Shared set-up for the browser tests: start the target (the real taskd binary,
// or the in-memory mock), open users in Debian's Chromium through playwright-core,
// and watch every request and console message.
//
//   E2E_TARGET=taskd (default)  go build ./cmd/taskd, run it on a free loopback port
//                               with a fresh TASKD_DATA_DIR (embedded mode)
//   E2E_TARGET=mock             e2e/mock-server.mjs serving web/dist (UI harness)
//   E2E_BASE_URL=http://…       use a server that is already running
//   CHROMIUM=/path              browser binary (default /usr/bin/chromium)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { serveStatic, startMock } from './mock-server.mjs';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, '..', '..');
export const ARTIFACTS = join(HERE, 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

export const TARGET = process.env.E2E_BASE_URL ? 'external' : process.env.E2E_TARGET || 'taskd';
export const PASSWORD = 'correct-horse-battery-9';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--lang=ko-KR',
];

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

async function waitHttp(url, proc, ms = 60_000) {
  const until = Date.now() + ms;
  let last = '';
  while (Date.now() < until) {
    if (proc && proc.exitCode !== null) throw new Error(`taskd exited with code ${proc.exitCode} before answering`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      return r;
    } catch (e) {
      last = String(e.cause || e);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no answer from ${url} within ${ms} ms: ${last}`);
}

/**
 * startTarget(opts) → {base, promote(email, role), stop()}
 * opts.accessTtl: access-token lifetime (mock only).
 */
export async function startTarget(opts = {}) {
  if (TARGET === 'external') {
    return { base: process.env.E2E_BASE_URL.replace(/\/$/, ''), promote: null, stop: async () => {}, kind: 'external' };
  }
  if (TARGET === 'mock') {
    const { server, url } = await startMock({ accessTtl: opts.accessTtl || 900 });
    return {
      kind: 'mock',
      base: url,
      async promote(email, role) {
        const r = await fetch(url + '/__mock/promote', { method: 'POST', body: JSON.stringify({ email, role }) });
        if (!r.ok) throw new Error('promote failed: ' + (await r.text()));
      },
      stop: () => new Promise((r) => server.close(r)),
    };
  }
  // The real thing: build and run taskd in embedded mode.
  const work = mkdtempSync(join(tmpdir(), 'taskd-e2e-'));
  const bin = join(work, 'taskd');
  const dataDir = join(work, 'data');
  execFileSync('go', ['build', '-o', bin, './cmd/taskd'], { cwd: ROOT, stdio: 'inherit' });
  const port = await freePort();
  const env = { ...process.env, TASKD_ADDR: `127.0.0.1:${port}`, TASKD_DATA_DIR: dataDir, ...(opts.env || {}) };
  const logFile = join(ARTIFACTS, `taskd-${port}.log`);
  const { openSync } = await import('node:fs');
  const out = openSync(logFile, 'a');
  const proc = spawn(bin, [], { cwd: work, env, stdio: ['ignore', out, out] });
  const taskdBase = `http://127.0.0.1:${port}`;
  await waitHttp(taskdBase + '/healthz', proc);
  // Until taskd mounts the web app at / (web.Handler()), put a same-origin
  // front in place — web/dist plus /api/ proxied to taskd — so that every
  // other test still drives the real API. The "serves the app" test checks
  // taskd itself and fails until then.
  let base = taskdBase;
  let front = null;
  const home = await fetch(taskdBase + '/').then((r) => r.text()).catch(() => '');
  if (!home.includes('<div id="app">')) {
    console.log(`# taskd does not serve the web app at / yet: using a same-origin front (web/dist + /api → taskd)`);
    front = await startFront(taskdBase);
    base = front.url;
  }
  return {
    kind: 'taskd',
    base,
    taskdBase,
    logFile,
    async promote(email, role) {
      execFileSync(bin, ['users', 'promote', email, role], { cwd: work, env, stdio: 'inherit' });
    },
    async stop() {
      if (front) await new Promise((r) => front.server.close(r));
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await Promise.race([new Promise((r) => proc.once('exit', r)), new Promise((r) => setTimeout(r, 5000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** web/dist with /api/ (and /healthz) proxied to upstream, on a free loopback port. */
async function startFront(upstream) {
  const up = new URL(upstream);
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (!url.pathname.startsWith('/api/') && url.pathname !== '/healthz') {
      serveStatic(req, res, url).catch((e) => {
        res.writeHead(500);
        res.end(String(e));
      });
      return;
    }
    const fwd = httpRequest(
      { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: { ...req.headers, host: up.host } },
      (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      },
    );
    fwd.on('error', (e) => {
      res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(fwd);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}

/**
 * A browser of its own for one person (a fresh --user-data-dir each), with
 * every request and every CSP violation or page error recorded.
 * → {context, page, requests: [url], problems: [string], close()}
 */
export async function openBrowser(base, { viewport = { width: 1440, height: 900 }, locale = 'ko-KR' } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'taskd-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    locale,
    acceptDownloads: true,
    timezoneId: process.env.E2E_TZ || 'UTC',
  });
  context.setDefaultTimeout(15_000);
  const requests = [];
  const problems = [];
  context.on('request', (r) => requests.push(r.url()));
  const watch = (page) => {
    page.on('console', (m) => {
      const text = m.text();
      if (/Content Security Policy|Refused to (load|execute|apply|connect)/i.test(text)) problems.push('CSP: ' + text);
    });
    page.on('pageerror', (e) => problems.push('page error: ' + (e.stack || e.message)));
  };
  context.on('page', watch);
  for (const p of context.pages()) watch(p);
  const page = context.pages()[0] || (await context.newPage());
  return {
    context,
    page,
    requests,
    problems,
    base,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Every request went to taskd's own origin (or stayed inside the page: data:, blob:). */
export function foreignRequests(requests, base) {
  const origin = new URL(base).origin;
  return requests.filter((u) => {
    if (/^(data|blob|about|chrome|chrome-extension|devtools):/.test(u)) return false;
    try {
      return new URL(u).origin !== origin;
    } catch {
      return true;
    }
  });
}

/**
 * Direct API access as a person, for seeding and for checks (not through the
 * UI). Sessions are reused per e-mail (sign-in is rate limited per e-mail and
 * per address); pass {fresh: true} for a new token.
 */
const apiSessions = new Map();
export async function apiAs(base, email, { password = PASSWORD, fresh = false } = {}) {
  const key = base + ' ' + email;
  if (!fresh && apiSessions.has(key)) return apiSessions.get(key);
  const s = await signInAPI(base, email, password);
  apiSessions.set(key, s);
  return s;
}

async function signInAPI(base, email, password) {
  const r = await fetch(base + '/api/sign_in', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (!r.ok) throw new Error(`sign in ${email}: ${r.status} ${await r.text()}`);
  const tok = (await r.json()).access_token;
  const call = async (method, path, body, headers = {}) => {
    const res = await fetch(base + path, {
      method,
      headers: { Authorization: 'Bearer ' + tok, 'Content-Type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, json, text, headers: res.headers };
  };
  return { call, token: tok };
}

/** Sign up through the UI and land on the board. */
export async function signUpUI(page, base, { name, email, password = PASSWORD }) {
  await page.goto(base + '/sign-up');
  await page.fill('#signup-name', name);
  await page.fill('#signup-email', email);
  await page.fill('#signup-password', password);
  await page.fill('#signup-password2', password);
  await page.click('form button[type=submit]');
  await page.waitForSelector('#board-title');
}

/** Retry fn until it stops throwing (for projections that lag behind a change). */
export async function eventually(fn, { timeout = 15_000, interval = 500 } = {}) {
  const until = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw last;
    await new Promise((r) => setTimeout(r, interval));
  }
}

export function gzipSize(buf) {
  return gzipSync(buf, { level: 9 }).length;
}

export function unique(prefix) {
  return `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

export const hasChromium = () => existsSync(process.env.CHROMIUM || '/usr/bin/chromium');

/**
 * step(name, browsers, fn): an it() body that, when it fails, saves a
 * screenshot of every open page to artifacts/fail-<name>-<n>.png and prints
 * where each page was, then rethrows.
 */
export function step(name, getBrowsers, fn) {
  return async (t) => {
    try {
      await fn(t);
    } catch (e) {
      const slug = name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').slice(0, 50);
      let n = 0;
      for (const b of getBrowsers().filter(Boolean)) {
        for (const p of b.context.pages()) {
          n++;
          const file = join(ARTIFACTS, `fail-${slug}-${n}.png`);
          await p.screenshot({ path: file, fullPage: true }).catch(() => {});
          console.error(`# failed step "${name}": page ${n} at ${p.url()} → ${file}`);
        }
        if (b.problems.length) console.error('# problems: ' + b.problems.join(' | '));
      }
      throw e;
    }
  };
}

/** The refresh token the app keeps (IndexedDB "taskd" / "session"), or null. */
export function storedRefreshToken(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('taskd', 1);
        open.onupgradeneeded = () => open.result.createObjectStore('session');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const rq = open.result.transaction('session').objectStore('session').get('refresh_token');
          rq.onsuccess = () => {
            resolve(rq.result || null);
            open.result.close();
          };
          rq.onerror = () => reject(rq.error);
        };
      }),
  );
}
