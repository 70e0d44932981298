// The published complaints code: everything the seed says, accessible.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { launch, newPage, axe, shot } from '../lib/browser.mjs';

let server;
let browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); await server?.stop(); });

test('the published complaints code carries everything the seed says', async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}/complaints-code`);
  const text = await page.locator('main').innerText();
  for (const fact of ['Stage 1', 'Stage 2', 'Stage 3', 'Stage 4', 'Stage 5', '0161 465 6655', '0161 465 6600',
    'Longley House', 'M22 4SY', '28 days', '8 weeks', 'Ombudsman Services: Communications', 'PO Box 730',
    '0330 440 1614', '0330 440 1615', '0330 440 1600', 'Compensation will be considered where appropriate, if genuine fault can be established.']) {
    assert.ok(text.includes(fact), `the code should say "${fact}"`);
  }
  await shot(page, 'public-complaints-code');
  assert.deepEqual(await axe(page), []);
});

test('an unknown page is a consistent, accessible error page', async () => {
  const page = await newPage(browser);
  const response = await page.goto(`${server.url}/no-such-page`);
  assert.equal(response.status(), 404);
  assert.equal(await page.locator('h1').innerText(), 'Page not found');
  await shot(page, 'public-not-found');
  assert.deepEqual(await axe(page), []);
});
