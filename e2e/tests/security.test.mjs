// Security, seen from the browser: one customer cannot open another's complaint by changing
// the address; forms posted without their CSRF token are refused and change nothing; script in
// a complaint is shown as text and never runs; every page carries the security headers, and
// the browser obeys them (no framing).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startServer } from '../lib/server.mjs';
import { launch, newPage, shot } from '../lib/browser.mjs';
import { ANN, BOB, complain, customerSignIn, staffPage, commandForm, mainText } from '../lib/site.mjs';

let server;
let browser;
let ann; // Ann's reference
let bob; // Bob's reference
let annPage; // Ann, signed in

before(async () => {
  server = await startServer();
  browser = await launch();
  const page = await newPage(browser);
  ann = await complain(page, server.url, ANN);
  bob = await complain(page, server.url, BOB);
  await page.context().close();
  annPage = await newPage(browser);
  await customerSignIn(annPage, server.url, ann, ANN.postcode);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Everything about Bob that must never reach Ann. */
const BOBS_DETAILS = [BOB.name, BOB.account, BOB.email, BOB.postcode, BOB.summary, 'Bob-only secret', 'Otherperson'];

function assertNothingOfBob(html, where) {
  for (const detail of BOBS_DETAILS) {
    assert.ok(!html.includes(detail), `${where} must not show Bob's "${detail}"`);
  }
}

/** The entries of a staff case page's timeline, read afresh. */
async function staffTimeline(page, reference) {
  await page.goto(`${server.url}/staff/complaints/${reference}`);
  return page.locator('ol.timeline > li').allInnerTexts();
}

test('a customer cannot open another customer’s complaint by changing the address', async () => {
  // Ann's own list shows only hers.
  await annPage.goto(`${server.url}/my/complaints`);
  const list = await mainText(annPage);
  assert.ok(list.includes(ann));
  assert.ok(!list.includes(bob));
  assertNothingOfBob(await annPage.content(), 'Ann’s list');

  // Her own page works...
  let response = await annPage.goto(`${server.url}/my/complaints/${ann}`);
  assert.equal(response.status(), 200);

  // ...Bob's, with only the reference changed, is "not found", with nothing of Bob's on it.
  response = await annPage.goto(`${server.url}/my/complaints/${bob}`);
  assert.equal(response.status(), 404);
  assert.equal(await annPage.getByRole('heading', { level: 1 }).innerText(), 'Page not found');
  const html = await annPage.content();
  assertNothingOfBob(html, 'the page at Bob’s address');
  assert.ok(!(await mainText(annPage)).includes(bob), 'the page does not even repeat the reference');
  await shot(annPage, 'security-other-customers-complaint');

  // The same page as for a reference that does not exist: nothing tells them apart.
  const bobText = await mainText(annPage);
  response = await annPage.goto(`${server.url}/my/complaints/CMP-2026-999999`);
  assert.equal(response.status(), 404);
  assert.equal(await mainText(annPage), bobText);

  // Acting on Bob's complaint from Ann's session is refused the same way, and changes nothing.
  await annPage.goto(`${server.url}/my/complaints/${ann}`);
  const csrf = await annPage.locator('input[name=csrf]').first().inputValue();
  for (const action of ['escalate', 'accept', 'reject', 'review']) {
    const r = await annPage.request.post(`${server.url}/my/complaints/${bob}/${action}`, { form: { csrf, reason: 'hijack' }, maxRedirects: 0 });
    assert.equal(r.status(), 404, `${action} on Bob's complaint`);
    assertNothingOfBob(await r.text(), `the answer to ${action}`);
  }
  const upload = await annPage.request.post(`${server.url}/my/complaints/${bob}/evidence`, {
    multipart: { csrf, description: 'hijack', file: { name: 'x.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') } },
    maxRedirects: 0,
  });
  assert.equal(upload.status(), 404, 'evidence on Bob’s complaint');

  // Bob's complaint is as it was: received and acknowledged as it arrived (its letter sent,
  // perhaps, meanwhile), and no file.
  const staff = await staffPage(browser, server.url, 'cs@kinex.test');
  const timeline = (await staffTimeline(staff, bob)).filter((t) => !t.includes('a copy of it as sent is kept'));
  assert.equal(timeline.length, 2, timeline.join('\n'));
  assert.match(timeline.join('\n'), /We acknowledged the complaint/);
  assert.equal(await staff.getByRole('table', { name: 'Files' }).count(), 0);
  await staff.context().close();
});

test('a staff command posted without its CSRF token is refused and changes nothing', async () => {
  const staff = await staffPage(browser, server.url, 'cs@kinex.test');
  const before = await staffTimeline(staff, ann);
  const url = `${server.url}/staff/complaints/${ann}/commands/add_note`;
  // The signed-in browser's own cookies go with these requests: only the token is missing.
  for (const form of [{ text: 'Forged note' }, { text: 'Forged note', csrf: '' }, { text: 'Forged note', csrf: 'x'.repeat(64) }]) {
    const r = await staff.request.post(url, { form, maxRedirects: 0 });
    assert.equal(r.status(), 403, JSON.stringify(form));
    const body = await r.text();
    assert.ok(body.includes('nothing was changed'), body);
  }
  // Offering a resolution without the token: refused too.
  const offer = await staff.request.post(`${server.url}/staff/complaints/${ann}/commands/offer_resolution`, { form: { text: 'Forged offer' }, maxRedirects: 0 });
  assert.equal(offer.status(), 403);

  // In the browser: the form's hidden token removed, then sent as a person would.
  await staff.goto(`${server.url}/staff/complaints/${ann}`);
  const form = await commandForm(staff, 'Add a note');
  await form.locator('input[name=csrf]').evaluate((input) => input.remove());
  await form.getByLabel('Note', { exact: true }).fill('Forged note');
  const [response] = await Promise.all([staff.waitForNavigation(), form.getByRole('button', { name: 'Add the note' }).click()]);
  assert.equal(response.status(), 403);
  assert.equal(await staff.getByRole('heading', { level: 1 }).innerText(), 'You cannot do that');
  await shot(staff, 'security-staff-form-without-token');

  const after = await staffTimeline(staff, ann);
  assert.deepEqual(after, before, 'the timeline is unchanged');
  assert.ok(!(await staff.content()).includes('Forged'));
  await staff.context().close();
});

test('the portal’s complain form posted without its CSRF token is refused and records nothing', async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}/complain`);
  const fields = {
    submission: 'a'.repeat(64), name: 'Mallory Forger', account: 'KX-666', email: 'mallory@example.test', postcode: 'M1 1AA',
    contact: 'email', summary: 'Forged complaint', category: 'other',
  };
  // With the cookie but no token, and with a token that is not the cookie's.
  for (const csrf of [undefined, 'f'.repeat(64)]) {
    const form = csrf === undefined ? fields : { ...fields, csrf };
    const r = await page.request.post(`${server.url}/complain`, { form, maxRedirects: 0 });
    assert.equal(r.status(), 403);
    const body = await r.text();
    assert.ok(body.includes('we have not received your complaint yet'), body);
    assert.ok(!/CMP-\d{4}-\d{6}/.test(body), 'no reference is given');
  }
  // In the browser: the hidden token removed from the real form.
  await page.getByLabel('Your full name').fill('Mallory Forger');
  await page.locator('input[name=csrf]').evaluate((input) => input.remove());
  const [response] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Send my complaint' }).click()]);
  assert.equal(response.status(), 403);
  await page.getByRole('alert').filter({ hasText: 'For your security, this form had expired' }).waitFor();
  // What was typed comes back, so nothing is lost.
  assert.equal(await page.getByLabel('Your full name').inputValue(), 'Mallory Forger');
  await shot(page, 'security-complain-without-token');

  // A customer's own form without the session's token: refused.
  const annCsrfless = await annPage.request.post(`${server.url}/my/complaints/${ann}/escalate`, { form: { reason: 'x' }, maxRedirects: 0 });
  assert.equal(annCsrfless.status(), 403);

  // Nothing was recorded: the staff queue finds no such customer.
  const staff = await staffPage(browser, server.url, 'lead@kinex.test');
  await staff.getByLabel('Search').fill('Mallory');
  await staff.getByRole('button', { name: 'Show complaints' }).click();
  assert.ok((await mainText(staff)).includes('There are no complaints to show for these filters.'));
  await staff.context().close();
  await page.context().close();
});

test('script in a complaint is shown as text and never runs', async () => {
  const script = '<script>alert("xss-summary")</script>';
  const img = '<img src=x onerror=alert("xss-img")>';
  const evil = { ...ANN, name: `Eve <b>Bold</b> ${img}`, email: 'eve@example.test', summary: `${script}\n${img} and "quotes" & ampersands` };
  const dialogs = [];
  const watch = (page) => page.on('dialog', async (dialog) => { dialogs.push(dialog.message()); await dialog.dismiss(); });

  const page = await newPage(browser);
  watch(page);
  const reference = await complain(page, server.url, evil);
  await customerSignIn(page, server.url, reference, evil.postcode);
  await page.goto(`${server.url}/my/complaints/${reference}`);
  await page.getByText('What you told us').click();
  await page.getByText(script, { exact: true }).waitFor({ state: 'visible' });
  await page.getByText(`${img} and "quotes" & ampersands`, { exact: true }).waitFor({ state: 'visible' });
  assert.equal(await page.locator('main img, main script, main b').count(), 0, 'no element was made from the text');
  await shot(page, 'security-script-as-text-customer');

  const staff = await staffPage(browser, server.url, 'cs@kinex.test');
  watch(staff);
  // The queue shows the name as text...
  await staff.getByText(`Eve <b>Bold</b> ${img}`).first().waitFor({ state: 'visible' });
  // ...and so does the case page, with the summary.
  await staff.goto(`${server.url}/staff/complaints/${reference}`);
  await staff.getByText(script, { exact: true }).waitFor({ state: 'visible' });
  assert.equal(await staff.locator('main img, main script, main b').count(), 0, 'no element was made from the text');
  await shot(staff, 'security-script-as-text-staff');
  // Give any script a moment to run, had it been injected.
  await staff.waitForTimeout(300);
  assert.deepEqual(dialogs, [], 'no dialog ever opened');
  await staff.context().close();
  await page.context().close();
});

test('every page carries the security headers, and the browser obeys them', async () => {
  const staff = await staffPage(browser, server.url, 'cs@kinex.test');
  const pages = [
    ['/', annPage], ['/complain', annPage], ['/my', null], ['/my/complaints', annPage], [`/my/complaints/${ann}`, annPage],
    ['/complaints-code', null], ['/no-such-page', null], ['/staff/sign-in', null], ['/staff', staff], [`/staff/complaints/${ann}`, staff],
    ['/staff/dashboard', staff], ['/static/site.css', null],
  ];
  const anonymous = await newPage(browser);
  for (const [path, who] of pages) {
    const r = await (who ?? anonymous).request.get(`${server.url}${path}`, { maxRedirects: 0 });
    const h = r.headers();
    const csp = h['content-security-policy'] ?? '';
    assert.ok(csp, `${path}: a Content-Security-Policy`);
    assert.ok(!csp.includes("'unsafe-inline'"), `${path}: no 'unsafe-inline' in ${csp}`);
    assert.ok(!csp.includes("'unsafe-eval'"), `${path}: no 'unsafe-eval'`);
    assert.ok(csp.includes("frame-ancestors 'none'"), `${path}: frame-ancestors 'none'`);
    assert.match(csp, /script-src 'self'(;|$)/, `${path}: scripts only from the site`);
    assert.ok(csp.includes("object-src 'none'") && csp.includes("base-uri 'none'") && csp.includes("form-action 'self'"), `${path}: ${csp}`);
    assert.equal(h['referrer-policy'], 'no-referrer', `${path}: Referrer-Policy`);
    assert.equal(h['x-content-type-options'], 'nosniff', `${path}: X-Content-Type-Options`);
    assert.equal(h['x-frame-options'], 'DENY', `${path}: X-Frame-Options`);
    if (path.startsWith('/my') || path === '/complain') {
      assert.equal(h['cache-control'], 'no-store', `${path}: personal pages are not cached`);
    }
  }
  // Cookies are HttpOnly and SameSite.
  for (const cookie of [...(await annPage.context().cookies()), ...(await staff.context().cookies())]) {
    assert.ok(cookie.httpOnly, `${cookie.name} is HttpOnly`);
    assert.ok(['Lax', 'Strict'].includes(cookie.sameSite), `${cookie.name} is SameSite: ${cookie.sameSite}`);
  }

  // Framed by another site (a local one, so that only the page's own headers can stop it), the
  // page does not load: Chromium says the CSP's frame-ancestors refused it.
  const other = createServer((request, response) => {
    response.setHeader('content-type', 'text/html');
    response.end(`<!doctype html><title>framer</title><iframe src="${request.url === '/control' ? 'data:text/html,<p>Framed fine</p>' : `${server.url}/staff/sign-in`}"></iframe>`);
  });
  await new Promise((ok) => other.listen(0, '127.0.0.1', ok));
  try {
    const framer = await newPage(browser);
    const messages = [];
    framer.on('console', (message) => messages.push(message.text()));
    const framedText = async () => {
      await framer.waitForTimeout(300);
      const frame = framer.frames().find((f) => f !== framer.mainFrame());
      return frame.evaluate(() => document.body?.innerText ?? '').catch(() => '');
    };
    // The control: a frame that may be framed shows.
    await framer.goto(`http://localhost:${other.address().port}/control`);
    assert.equal(await framedText(), 'Framed fine');
    await framer.goto(`http://localhost:${other.address().port}/`);
    const framed = await framedText();
    assert.ok(!framed.includes('Sign in') && !framed.includes('Email address'), `the framed page must not render: "${framed.slice(0, 80)}"`);
    assert.ok(messages.some((m) => m.includes("frame-ancestors 'none'")), messages.join('\n'));
    await framer.context().close();
  } finally {
    other.close();
  }

  // No inline script on any page: the pages work without JavaScript, and carry none.
  for (const path of ['/', '/complain', `/staff/complaints/${ann}`]) {
    const page = path.startsWith('/staff') ? staff : anonymous;
    await page.goto(`${server.url}${path}`);
    assert.equal(await page.locator('script').count(), 0, `${path}: no script elements`);
    assert.equal(await page.locator('[style]').count(), 0, `${path}: no inline styles`);
  }
  await staff.context().close();
  await anonymous.context().close();
});
