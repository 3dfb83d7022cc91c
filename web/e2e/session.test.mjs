// Sessions, errors next to fields, languages, keyboard use and the first-load
// budget, in a real browser.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { step, storedRefreshToken, apiAs, eventually, foreignRequests, gzipSize, openBrowser, PASSWORD, signUpUI, startTarget, TARGET, unique } from './harness.mjs';


describe(`sessions and UI basics (${process.env.E2E_BASE_URL || TARGET})`, () => {
  // it() that saves screenshots of every open page when it fails
  const test = (name, fn) => it(name, step(name, () => [U], fn));
  let target;
  let U;
  const who = { name: 'Park Seoyeon', email: `seoyeon.${unique('s')}@example.com` };

  before(async () => {
    target = await startTarget();
    U = await openBrowser(target.base);
  });
  after(async () => {
    await U?.close();
    await target?.stop();
  });

  test('first load stays within 200 KiB of compressed JavaScript, all from taskd', async () => {
    const B = await openBrowser(target.base);
    try {
      const bodies = [];
      B.page.on('response', async (r) => {
        if (r.request().resourceType() === 'script') bodies.push(r.body().then((b) => [r.url(), b]));
      });
      await B.page.goto(target.base + '/');
      await B.page.waitForSelector('#signin-email');
      const scripts = await Promise.all(bodies);
      const total = scripts.reduce((n, [, b]) => n + gzipSize(b), 0);
      console.log(`# first load: ${scripts.length} scripts, ${(total / 1024).toFixed(1)} KiB gzipped`);
      assert.ok(scripts.length >= 2, 'config.js and the app bundle');
      assert.ok(total <= 200 * 1024, `first load is ${total} bytes of gzipped JavaScript`);
      assert.deepEqual(foreignRequests(B.requests, target.base), []);
    } finally {
      await B.close();
    }
  });

  test('sign-up shows the API field error next to the field', async () => {
    const p = U.page;
    await p.goto(target.base + '/sign-up');
    await p.fill('#signup-name', who.name);
    await p.fill('#signup-email', who.email);
    await p.fill('#signup-password', 'short');
    await p.fill('#signup-password2', 'short');
    await p.click('form button[type=submit]');
    const err = await p.waitForSelector('[data-field-error=signup-password]');
    assert.ok((await err.textContent()).length > 3);
    assert.equal(await p.getAttribute('#signup-password', 'aria-invalid'), 'true');
    await p.fill('#signup-password', PASSWORD);
    await p.fill('#signup-password2', PASSWORD);
    await p.click('form button[type=submit]');
    await p.waitForSelector('#board-title');
  });

  test('a reload keeps the session and rotates the refresh token', async () => {
    const p = U.page;
    const before = await storedRefreshToken(p);
    assert.ok(before, 'the refresh token is stored');
    const refreshed = p.waitForResponse((r) => r.url().endsWith('/api/token/refresh') && r.status() === 200);
    await p.reload();
    await refreshed;
    await p.waitForSelector('#board-title');
    const afterTok = await storedRefreshToken(p);
    assert.ok(afterTok && afterTok !== before, 'a new refresh token replaced the old one');
    // (Presenting the spent token now would end this sign-in: see the replay test below.)
  });

  test('two tabs reloading at once both stay signed in (refreshes are serialised)', async () => {
    const p2 = await U.context.newPage();
    try {
      await p2.goto(target.base + '/inbox');
      await p2.waitForSelector('#inbox-title');
      for (let round = 0; round < 5; round++) {
        await Promise.all([U.page.reload(), p2.reload()]);
        await U.page.waitForSelector('#board-title');
        await p2.waitForSelector('#inbox-title');
      }
      // And the session is still good afterwards.
      await U.page.reload();
      await U.page.waitForSelector('#board-title');
    } finally {
      await p2.close();
    }
  });

  test('an edit the API refuses shows its error next to the field', async () => {
    const api = await apiAs(target.base, who.email);
    const r = await api.call('POST', '/api/tasks', { Task_name: '끝난 작업', Task_contents: '', Task_status: 'done' });
    assert.equal(r.status, 201, r.text);
    const p = U.page;
    await p.goto(`${target.base}/tasks/${r.json.Task_id}/edit`);
    await p.selectOption('#task-status', 'waiting'); // done → waiting is not a transition the API allows
    await p.click('[data-testid=save-task]');
    const err = await p.waitForSelector('[data-field-error=task-status]');
    assert.ok((await err.textContent()).trim().length > 0);
  });

  test('works from the keyboard: n opens the editor, Enter saves, Enter on a move button moves', async () => {
    const p = U.page;
    await p.goto(target.base + '/');
    await p.waitForSelector('#board-title');
    await p.keyboard.press('n');
    await p.waitForSelector('#task-name');
    await p.waitForFunction(() => document.activeElement && document.activeElement.id === 'task-name');
    await p.keyboard.type('키보드로 만든 작업');
    await p.keyboard.press('Enter');
    await p.waitForURL(/\/tasks\/[0-9a-f-]{36}$/);
    const id = p.url().split('/').pop();
    await p.goto(target.base + '/');
    const btn = p.locator(`[data-task-id="${id}"] [data-move=in_progress]`);
    await btn.focus();
    await p.keyboard.press('Enter');
    await p.waitForSelector(`[data-column=in_progress] [data-task-id="${id}"]`);
  });

  test('notification preferences are saved', async () => {
    const p = U.page;
    await p.goto(target.base + '/profile');
    const box = p.locator('.prefs tr:has(th:has-text("기한 지남")) input[type=checkbox]').nth(2); // SMS column
    await box.waitFor();
    const was = await box.isChecked();
    await box.click();
    await p.click('form[aria-labelledby=prefs-title] button[type=submit]');
    await p.waitForSelector('.toast:has-text("저장했습니다")');
    await p.reload();
    await p.locator('.prefs').waitFor();
    assert.equal(await p.locator('.prefs tr:has(th:has-text("기한 지남")) input[type=checkbox]').nth(2).isChecked(), !was);
  });

  test('sign-out ends the session everywhere and the old token is refused', async () => {
    const p = U.page;
    const rt = await storedRefreshToken(p);
    const other = await U.context.newPage();
    await other.goto(target.base + '/reports');
    await other.waitForSelector('#rep-title');
    await p.click('.topbar button:has-text("로그아웃")');
    await p.waitForSelector('[data-testid=auth-notice]');
    await other.waitForSelector('#signin-email'); // the other tab follows
    await other.close();
    assert.equal(await storedRefreshToken(p), null);
    await p.reload();
    await p.waitForSelector('#signin-email');
    const r = await fetch(target.base + '/api/token/refresh', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refresh_token: rt }) });
    assert.equal(r.status, 401);
  });

  test('a replayed refresh token ends the session: back to sign-in cleanly, then back to the page', async () => {
    const p = U.page;
    await p.fill('#signin-email', who.email);
    await p.fill('#signin-password', PASSWORD);
    await p.click('form button[type=submit]');
    await p.waitForSelector('#board-title');
    // Someone else uses the page's refresh token first (as a thief would): the
    // page's copy is now spent, and presenting it ends the whole sign-in.
    const rt = await storedRefreshToken(p);
    const stolen = await fetch(target.base + '/api/token/refresh', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refresh_token: rt }) });
    assert.equal(stolen.status, 200);
    await p.goto(target.base + '/inbox');
    await p.waitForSelector('#signin-email');
    assert.match(p.url(), /next=%2Finbox/);
    await p.fill('#signin-email', who.email);
    await p.fill('#signin-password', PASSWORD);
    await p.click('form button[type=submit]');
    await p.waitForSelector('#inbox-title');
  });

  test('speaks English when asked, Korean by default', async () => {
    const B = await openBrowser(target.base, { locale: 'en-US' });
    try {
      await B.page.goto(target.base + '/sign-in');
      assert.equal((await B.page.textContent('h1')).trim(), '로그인');
      await B.page.selectOption('#auth-lang', 'en');
      await B.page.waitForSelector('h1:has-text("Sign in")');
      await B.page.click('a[href="/sign-up"]');
      await B.page.waitForSelector('h1:has-text("Sign up")');
      await B.page.fill('#signup-name', 'Jamie Lee');
      await B.page.fill('#signup-email', `jamie.${unique('en')}@example.com`);
      await B.page.fill('#signup-password', PASSWORD);
      await B.page.fill('#signup-password2', PASSWORD);
      await B.page.click('form button[type=submit]');
      await B.page.waitForSelector('#board-title:has-text("Task board")');
      assert.equal(await B.page.getAttribute('html', 'lang'), 'en');
      // The language chosen before signing up became the account's locale.
      await B.page.click('a[href="/profile"]');
      assert.equal(await B.page.inputValue('#p-locale'), 'en');
    } finally {
      await B.close();
    }
  });

  test('renews an expired access token without the person noticing (mock: short token lifetime)', async (t) => {
    if (TARGET !== 'mock') return t.skip('needs a short access-token lifetime: mock only');
    const short = await startTarget({ accessTtl: 22 }); // renewed 20 s before expiry → after ~2 s
    const B = await openBrowser(short.base);
    try {
      await signUpUI(B.page, short.base, { name: 'Short', email: `short.${unique('t')}@example.com` });
      let refreshes = 0;
      B.page.on('response', (r) => r.url().endsWith('/api/token/refresh') && r.ok() && refreshes++);
      await B.page.waitForTimeout(2500);
      await B.page.click('a[href="/inbox"]');
      await B.page.waitForSelector('#inbox-title');
      await eventually(() => assert.ok(refreshes >= 1));
      await B.page.click('a[href="/"]');
      await B.page.waitForSelector('[data-testid=board-summary]');
      assert.ok(!B.page.url().includes('sign-in'));
    } finally {
      await B.close();
      await short.stop();
    }
  });

  test('password change and account deletion check the password, next to the field', async () => {
    const p = U.page;
    await p.goto(target.base + '/profile');
    await p.fill('#pw-old', 'not-my-password-1');
    await p.fill('#pw-new', 'another-good-password-2');
    await p.click('form[aria-labelledby=pw-title] button[type=submit]');
    await p.waitForSelector('[data-field-error=pw-old]');
    await p.fill('#del-password', 'not-my-password-1');
    await p.click('form[aria-labelledby=del-title] button[type=submit]');
    await p.click('dialog[open] [data-testid=confirm]');
    await p.waitForSelector('[data-field-error=del-password]');
    assert.ok(p.url().endsWith('/profile'), 'still signed in after a wrong password');
    await p.fill('#del-password', PASSWORD);
    await p.click('form[aria-labelledby=del-title] button[type=submit]');
    await p.click('dialog[open] [data-testid=confirm]');
    await p.waitForSelector('[data-testid=auth-notice]');
    assert.match(p.url(), /notice=deleted/);
    // A token issued before the deletion stops working at once.
    const api = await apiAs(target.base, who.email);
    assert.equal((await api.call('GET', '/api/users/me')).status, 401);
  });

  it('no request went to any host but taskd, and no CSP violation or page error', () => {
    assert.deepEqual(foreignRequests(U.requests, target.base), []);
    assert.deepEqual(U.problems, []);
  });
});
