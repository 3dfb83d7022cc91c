// The flow of issue 9, in a real browser: two people sign up; A creates a task for
// B; B sees it in the inbox and under "assigned to me", moves it to in progress
// (button) and to done (drag); the history shows both moves; B's weekly report
// counts one completed; A deletes a task; a stale edit shows the conflict
// message. Screenshots of the board and the report go to e2e/artifacts/.
// No request may leave taskd's own origin.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { step, apiAs, ARTIFACTS, eventually, foreignRequests, openBrowser, PASSWORD, signUpUI, startTarget, unique } from './harness.mjs';

const ymd = (d) => d.toISOString().slice(0, 10);
const inDays = (n) => ymd(new Date(Date.now() + n * 86400e3));

describe(`issue 9 flow (${process.env.E2E_BASE_URL || process.env.E2E_TARGET || 'taskd'})`, () => {
  // it() that saves screenshots of every open page when it fails
  const test = (name, fn) => it(name, step(name, () => [A, B], fn));
  let target;
  let A;
  let B;
  const run = unique('e2e');
  const alice = { name: '김민지', email: `minji.${run}@example.com` };
  const bob = { name: '이준호', email: `junho.${run}@example.com` };
  const taskName = `분기 보고서 초안 작성 ${run.slice(-4)}`;
  let taskId = '';

  before(async () => {
    target = await startTarget();
    A = await openBrowser(target.base);
    B = await openBrowser(target.base);
  });

  after(async () => {
    await A?.close();
    await B?.close();
    await target?.stop();
  });

  test('serves the app at / with its security headers', async () => {
    const origin = target.taskdBase || target.base; // taskd itself, not a stand-in front
    const r = await fetch(origin + '/');
    assert.equal(r.status, 200);
    const html = await r.text();
    assert.match(html, /<div id="app">/);
    assert.doesNotMatch(html, /<script>(?!\s*<\/script>)/, 'no inline script');
    const csp = r.headers.get('content-security-policy') || '';
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.ok(r.headers.get('referrer-policy'), 'Referrer-Policy is set');
    // SPA fallback: an app path that is not a file gets index.html.
    const deep = await fetch(origin + '/tasks/00000000-0000-0000-0000-000000000000');
    assert.equal(deep.status, 200);
    assert.match(await deep.text(), /<div id="app">/);
  });

  test('two people sign up', async () => {
    await signUpUI(A.page, target.base, alice);
    await signUpUI(B.page, target.base, bob);
    await assert.doesNotReject(A.page.waitForSelector(`.whoami:has-text("${alice.name}")`));
  });

  test('A creates a task for B, picking B by name', async () => {
    const p = A.page;
    await p.click('[data-testid=new-task]');
    await p.waitForSelector('#task-name');
    await p.fill('#task-name', taskName);
    await p.fill('#task-contents', '지난 분기 지표를 정리하고 다음 분기 목표 초안을 작성합니다.');
    await p.selectOption('#task-priority', 'high');
    await p.fill('#task-deadline', inDays(3));
    await p.fill('#task-pic', bob.name.slice(0, 2));
    await p.click(`#task-pic-list [role=option]:has-text("${bob.email}")`);
    await p.waitForSelector('[data-testid=task-pic-value]');
    await p.click('[data-testid=save-task]');
    await p.waitForURL(/\/tasks\/[0-9a-f-]{36}$/);
    taskId = p.url().split('/').pop();
    await p.waitForSelector(`#task-title:has-text("${taskName}")`);
  });

  test('B sees it in the inbox, with the unread count in the header', async () => {
    const p = B.page;
    await eventually(async () => {
      await p.goto(target.base + '/inbox');
      await p.waitForSelector(`[data-testid=notification]:has-text("${taskName}")`, { timeout: 2000 });
    });
    const badge = await p.textContent('[data-testid=unread-badge]');
    assert.ok(Number(badge) >= 1, `unread badge shows ${badge}`);
    await p.click('[data-testid=read-all]');
    await p.waitForSelector('[data-testid=unread-badge]', { state: 'detached' });
    assert.equal(await p.locator('[data-testid=notification].unread').count(), 0);
  });

  test('B sees it under "assigned to me" and moves it to in progress, then done (drag)', async () => {
    const p = B.page;
    await p.click('a[href="/"]');
    await p.click('[data-view=pic]');
    await p.waitForURL(/view=pic/);
    const card = `[data-testid=card][data-task-id="${taskId}"]`;
    await p.waitForSelector(`[data-column=waiting] ${card}`);
    await p.click(`${card} [data-move=in_progress]`);
    await p.waitForSelector(`[data-column=in_progress] ${card}`);
    // The other people on the card are there.
    assert.match(await p.textContent(card), new RegExp(alice.name));
    // Drag the card to "완료".
    await eventually(async () => {
      await p.locator(card).dragTo(p.locator('[data-column=done]'));
      await p.waitForSelector(`[data-column=done] ${card}`, { timeout: 3000 });
    }, { timeout: 12_000 });
    await p.waitForSelector(`[data-column=done] ${card} [data-move=in_progress]`);
  });

  test('the task history shows both moves', async () => {
    const p = B.page;
    await p.click(`[data-task-id="${taskId}"] .card-title`);
    await p.waitForSelector('#task-title');
    await eventually(async () => {
      await p.click('.history .panel-head button');
      const text = await p.textContent('[data-testid=history]', { timeout: 2000 });
      assert.match(text, /대기 중 → 진행 중/);
      assert.match(text, /진행 중 → 완료/);
    });
    await p.screenshot({ path: join(ARTIFACTS, 'task.png'), fullPage: true });
  });

  test("B's weekly report shows one completed", async () => {
    const p = B.page;
    await p.click('a[href="/reports"]');
    await eventually(async () => {
      await p.click('[data-testid=report-reload]');
      assert.equal((await p.textContent('[data-testid=stat-completed-value]', { timeout: 2000 })).trim(), '1');
    });
    await p.waitForSelector('[data-testid=chart] canvas');
    await p.waitForTimeout(300);
    await p.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
  });

  test('A deletes a task after confirming', async () => {
    const api = await apiAs(target.base, alice.email);
    const r = await api.call('POST', '/api/tasks', { Task_name: `지울 작업 ${run.slice(-4)}`, Task_contents: '', Task_status: 'waiting' });
    assert.equal(r.status, 201, r.text);
    const id = r.json.Task_id;
    const p = A.page;
    await p.goto(`${target.base}/tasks/${id}`);
    await p.click('[data-testid=delete-task]');
    await p.click('dialog[open] [data-testid=confirm]');
    await p.waitForSelector('#board-title');
    await p.waitForSelector('[data-testid=card]');
    assert.equal(await p.locator(`[data-task-id="${id}"]`).count(), 0);
    const gone = await api.call('GET', `/api/tasks/${id}`);
    assert.equal(gone.status, 404);
  });

  test('a stale edit shows the conflict message and offers a reload', async () => {
    const first = A.page;
    await first.goto(`${target.base}/tasks/${taskId}/edit`);
    await first.waitForSelector('#task-contents');
    // Meanwhile, in another tab, the same person saves a change.
    const second = await A.context.newPage();
    await second.goto(`${target.base}/tasks/${taskId}/edit`);
    await second.fill('#task-contents', '다른 탭에서 먼저 저장한 내용');
    await second.click('[data-testid=save-task]');
    await second.waitForURL(new RegExp(`/tasks/${taskId}$`));
    await second.close();
    // The first tab still holds the old version.
    await first.fill('#task-contents', '오래된 화면에서 저장하려는 내용');
    await first.click('[data-testid=save-task]');
    const banner = await first.waitForSelector('[data-testid=conflict]');
    assert.match(await banner.textContent(), /다른 사람이 먼저 이 작업을 변경했습니다/);
    await first.click('[data-testid=conflict] button:has-text("새로고침")');
    await first.waitForFunction(() => document.querySelector('#task-contents')?.value === '다른 탭에서 먼저 저장한 내용');
  });

  test('the board looks like something a team opens every morning (screenshot)', async () => {
    // A few more tasks so the board shows its range of cards.
    const api = await apiAs(target.base, alice.email);
    const seed = [
      ['배포 체크리스트 점검', 'urgent', inDays(-1), bob.email, 'waiting'],
      ['고객 인터뷰 일정 조율', 'medium', inDays(5), alice.email, 'waiting'],
      ['API 문서 개정', 'low', null, bob.email, 'in_progress'],
      ['로그인 오류 재현 및 수정', 'high', inDays(1), alice.email, 'in_progress'],
      ['신규 입사자 온보딩 자료', 'medium', inDays(10), bob.email, 'waiting'],
    ];
    for (const [name, prio, dl, pic, status] of seed) {
      const body = { Task_name: name, Task_contents: '', Task_status: status, Task_priority: prio, PIC: pic, Supervisor: alice.email };
      if (dl) body.Deadline = dl;
      const r = await api.call('POST', '/api/tasks', body);
      assert.equal(r.status, 201, r.text);
    }
    const p = A.page;
    await p.goto(target.base + '/');
    await p.waitForSelector(`[data-task-id="${taskId}"]`);
    await p.screenshot({ path: join(ARTIFACTS, 'board.png'), fullPage: true });
    await p.setViewportSize({ width: 390, height: 844 });
    await p.reload();
    await p.waitForSelector(`[data-task-id="${taskId}"]`);
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling on a phone (overflow ${overflow}px)`);
    await p.screenshot({ path: join(ARTIFACTS, 'board-phone.png'), fullPage: false });
    await p.setViewportSize({ width: 1440, height: 900 });
  });

  test('a manager reads the team table and downloads it as CSV', async () => {
    await target.promote(alice.email, 'manager');
    // The server may cache who a token belongs to for a few seconds: wait until a
    // fresh token carries the new role before the page asks.
    const fresh = await apiAs(target.base, alice.email, { fresh: true });
    await eventually(async () => {
      const r = await fresh.call('GET', '/api/users/me');
      assert.equal(r.status, 200);
      assert.equal(r.json.user.role, 'manager');
    });
    const p = A.page;
    await p.goto(target.base + '/reports/team');
    await p.waitForSelector('[data-testid=team-table]');
    assert.match(await p.textContent('[data-testid=team-table]'), new RegExp(bob.name));
    const [download] = await Promise.all([p.waitForEvent('download'), p.click('[data-testid=csv]')]);
    const csv = readFileSync(await download.path(), 'utf8');
    assert.match(csv, new RegExp(bob.email.replace(/[.]/g, '\\.')));
    await p.screenshot({ path: join(ARTIFACTS, 'team.png'), fullPage: true });
  });

  it('no request went to any host but taskd, and no CSP violation or page error', () => {
    for (const who of [A, B]) {
      assert.deepEqual(foreignRequests(who.requests, target.base), []);
      assert.deepEqual(who.problems, []);
    }
    assert.ok(A.requests.length > 10);
  });
});

export { PASSWORD };
