// axe-core (WCAG 2.2 AA) on every kind of page, staff and public, including the error states:
// each must have no violations. On a failure the violations are printed (id, help, nodes).
// A screenshot of each page is saved as target/e2e/a11y-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { BIN } from '../lib/server.mjs';
import { launch, newPage, axe, shot, SHOTS } from '../lib/browser.mjs';
import { ANN, complain, fillComplaint, customerSignIn, staffPage, commandForm } from '../lib/site.mjs';

let server;
let browser;
let reference;
let customer; // a signed-in customer's page
let staff; // a signed-in Customer Services handler's page
const results = [];

before(async () => {
  server = await startServer();
  browser = await launch();
  const page = await newPage(browser);
  reference = await complain(page, server.url, ANN);
  await page.context().close();
});
after(async () => {
  // The results per page, also kept beside the screenshots.
  writeFileSync(`${SHOTS}/a11y-results.json`, `${JSON.stringify(results, null, 2)}\n`);
  console.log('\naxe (WCAG 2.2 AA) per page:');
  for (const r of results) console.log(`  ${r.violations === 0 ? 'ok  ' : 'FAIL'} ${r.name}: ${r.violations} violation(s) [HTTP ${r.status}]`);
  await browser?.close();
  await server?.stop();
});

/** Checks the page as it is now: the expected status, no axe violations, a screenshot. */
async function check(page, name, { status, response } = {}) {
  const code = response ? response.status() : undefined;
  if (status !== undefined) assert.equal(code, status, `${name}: HTTP status`);
  // Every page has a title naming the organisation, one h1, and the language set.
  const title = await page.title();
  assert.ok(!/–\s*$/.test(title), `${name}: the title "${title}" names the organisation`);
  assert.equal(await page.locator('h1').count(), 1, `${name}: one h1`);
  await shot(page, `a11y-${name}`);
  const violations = await axe(page);
  results.push({ name, violations: violations.length, status: code ?? '-' });
  if (violations.length > 0) {
    console.log(`axe violations on ${name}:\n${JSON.stringify(violations, null, 2)}`);
  }
  assert.deepEqual(violations, [], `${name}: ${violations.map((v) => `${v.id} (${v.help}) at ${v.nodes.join(', ')}`).join('; ')}`);
}

/** Opens every disclosure, so that axe checks the forms inside them too. */
async function openAll(page) {
  await page.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
}

/**
 * Posts a form the page does not offer, as a crafted request from the page would: with the
 * page's own CSRF token, so that the refusal comes from the application and not the token check.
 */
async function postFromPage(page, action, fields) {
  const navigation = page.waitForNavigation();
  await page.evaluate(({ action, fields }) => {
    const form = document.createElement('form');
    form.method = 'post';
    form.action = action;
    const csrf = document.querySelector('input[name=csrf]').value;
    for (const [name, value] of Object.entries({ csrf, ...fields })) {
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = name;
      input.value = value;
      form.append(input);
    }
    document.body.append(form);
    form.submit();
  }, { action, fields });
  return navigation;
}

// ----- Public pages -----

test('home', async () => {
  const page = await newPage(browser);
  const response = await page.goto(`${server.url}/`);
  await check(page, 'home', { status: 200, response });
  await page.context().close();
});

test('complain form, with validation errors, and the confirmation', async () => {
  const page = await newPage(browser);
  let response = await page.goto(`${server.url}/complain`);
  await check(page, 'complain-form', { status: 200, response });

  // Sent empty: the error summary links to each field, and each field says what is wrong.
  [response] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Send my complaint' }).click()]);
  assert.equal(await page.title(), `Error: Make a complaint – kinex`);
  const summary = page.getByRole('alert').filter({ has: page.getByRole('heading', { name: 'There is a problem' }) });
  for (const message of ['Enter your full name', 'Enter your postcode', 'Choose how you would like us to contact you', 'Tell us what went wrong']) {
    await summary.getByRole('link', { name: message }).waitFor();
  }
  // The link takes you to the field, and the field is described by its error.
  await summary.getByRole('link', { name: 'Enter your full name' }).click();
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'name');
  const name = page.getByLabel('Your full name');
  assert.equal(await name.getAttribute('aria-invalid'), 'true');
  assert.match(await name.getAttribute('aria-describedby'), /name-error/);
  await check(page, 'complain-form-errors', { status: 422, response });

  // Partly filled with a bad email and postcode: the values come back.
  await fillComplaint(page, { ...ANN, email: 'not-an-email', postcode: 'nowhere' });
  [response] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Send my complaint' }).click()]);
  assert.equal(await page.getByLabel('Your full name').inputValue(), ANN.name);
  await page.getByRole('link', { name: 'Enter an email address in the right form, like name@example.com' }).waitFor();
  await page.getByRole('link', { name: 'Enter a real postcode, like M22 4SY' }).waitFor();
  await check(page, 'complain-form-errors-kept-values', { status: 422, response });

  await page.getByLabel('Email address (optional if we are not emailing you)').fill(ANN.email);
  await page.getByLabel('Postcode').fill(ANN.postcode);
  [response] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Send my complaint' }).click()]);
  await page.getByRole('heading', { level: 1, name: 'We have your complaint' }).waitFor();
  await check(page, 'complain-confirmation', { status: 200, response });
  await page.context().close();
});

test('customer sign-in, with errors, and "check your email"', async () => {
  const page = await newPage(browser);
  let response = await page.goto(`${server.url}/my`);
  await check(page, 'customer-sign-in', { status: 200, response });

  await page.getByLabel('Complaint reference').fill(reference);
  await page.getByLabel('Postcode').fill('SW1A 1AA');
  [response] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
  await page.getByRole('link', { name: 'We could not find a complaint with that reference and postcode. Check both and try again' }).waitFor();
  await check(page, 'customer-sign-in-error', { status: 422, response });

  await page.getByLabel('Email address').fill(ANN.email);
  [response] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Email me a link' }).click()]);
  await page.getByRole('heading', { level: 1, name: 'Check your email' }).waitFor();
  await check(page, 'customer-link-sent', { status: 200, response });

  response = await page.goto(`${server.url}/my/link/not-a-real-token`);
  await check(page, 'customer-link-used', { status: 410, response });
  await page.context().close();
});

test('my complaints, my complaint page, and a refusal on it', async () => {
  customer = await newPage(browser);
  await customerSignIn(customer, server.url, reference, ANN.postcode);
  await check(customer, 'customer-complaints');

  let response = await customer.goto(`${server.url}/my/complaints/${reference}`);
  await check(customer, 'customer-complaint', { status: 200, response });

  // Asking to escalate before any offer: the core refuses, in a sentence.
  response = await postFromPage(customer, `/my/complaints/${reference}/escalate`, { reason: 'Too slow' });
  await customer.getByRole('alert').filter({ hasText: 'We could not do that:' }).waitFor();
  await check(customer, 'customer-complaint-refusal', { status: 409, response });

  // Sending nothing in the "send us more information" form: an error linked to the field.
  await customer.goto(`${server.url}/my/complaints/${reference}`);
  [response] = await Promise.all([customer.waitForNavigation(), customer.getByRole('button', { name: 'Send', exact: true }).click()]);
  await customer.getByRole('link', { name: 'Tell us what you are sending, or choose a file to send' }).waitFor();
  await check(customer, 'customer-complaint-evidence-error', { status: 422, response });

  // A file of a kind we do not take.
  await customer.getByLabel('A file (optional)').setInputFiles({ name: 'virus.exe', mimeType: 'application/octet-stream', buffer: Buffer.from('MZ not really') });
  [response] = await Promise.all([customer.waitForNavigation(), customer.getByRole('button', { name: 'Send', exact: true }).click()]);
  await customer.getByRole('link', { name: 'The file must be a PDF, a JPEG or PNG picture, or a plain text (.txt) file' }).waitFor();
  await check(customer, 'customer-complaint-file-error', { status: 422, response });
});

test('complaints code', async () => {
  const page = await newPage(browser);
  const response = await page.goto(`${server.url}/complaints-code`);
  await check(page, 'complaints-code', { status: 200, response });
  await page.context().close();
});

test('404 page, public and staff', async () => {
  const page = await newPage(browser);
  let response = await page.goto(`${server.url}/no-such-page`);
  await check(page, 'not-found', { status: 404, response });
  // A complaint that is not the customer's is the same "not found", on the customer's side.
  response = await customer.goto(`${server.url}/my/complaints/CMP-2026-999999`);
  await check(customer, 'customer-complaint-not-found', { status: 404, response });
  await page.context().close();
});

// ----- Staff pages -----

test('staff sign-in, and with an error', async () => {
  const page = await newPage(browser);
  let response = await page.goto(`${server.url}/staff/sign-in`);
  await check(page, 'staff-sign-in', { status: 200, response });

  await page.getByLabel('Email address').fill('cs@kinex.test');
  await page.getByLabel('Password').fill('wrong password');
  [response] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
  await page.getByRole('link', { name: 'The email address or password is not right' }).waitFor();
  await check(page, 'staff-sign-in-error', { status: 401, response });

  // Nothing typed: an error on each field.
  await page.getByLabel('Email address').fill('');
  [response] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
  await page.getByRole('link', { name: 'Enter your email address' }).waitFor();
  await page.getByRole('link', { name: 'Enter your password' }).waitFor();
  await check(page, 'staff-sign-in-empty', { status: 422, response });
  await page.context().close();
});

test('queue, and the queue with a filter error', async () => {
  staff = await staffPage(browser, server.url, 'cs@kinex.test');
  await staff.getByRole('link', { name: reference }).waitFor();
  await check(staff, 'staff-queue');
  const response = await staff.goto(`${server.url}/staff?stage=9&status=nonsense`);
  await check(staff, 'staff-queue-filter-error', { response });
});

test('search of every complaint', async () => {
  const response = await staff.goto(`${server.url}/staff/search?q=${encodeURIComponent(reference)}`);
  await staff.getByRole('link', { name: reference }).waitFor();
  await check(staff, 'staff-search', { status: 200, response });
});

test('case page with its forms open, a validation error and a refusal', async () => {
  let response = await staff.goto(`${server.url}/staff/complaints/${reference}`);
  await check(staff, 'staff-case', { status: 200, response });
  await openAll(staff);
  await check(staff, 'staff-case-forms-open');

  // A form sent with a value out of range: 422, an error summary linked to the field.
  const form = await commandForm(staff, 'Ask for evidence');
  await form.getByRole('radio', { name: 'The customer' }).check();
  await form.getByLabel('Days allowed').fill('0');
  [response] = await Promise.all([staff.waitForNavigation(), form.getByRole('button', { name: 'Record the request' }).click()]);
  const summary = staff.getByRole('alert').filter({ has: staff.getByRole('heading', { name: 'There is a problem' }) });
  await summary.getByRole('link', { name: 'The days allowed must be between 1 and 90' }).click();
  assert.equal(await staff.evaluate(() => document.activeElement?.id), 'request_evidence-due_days');
  await check(staff, 'staff-case-validation-error', { status: 422, response });

  // A deadlock letter is not offered at stage 1; posted anyway, the core refuses it.
  assert.equal(await staff.locator('summary', { hasText: 'Issue a deadlock letter' }).count(), 0);
  response = await postFromPage(staff, `/staff/complaints/${reference}/commands/issue_deadlock_letter`, { text: 'Final position' });
  const refusal = staff.getByRole('alert').filter({ has: staff.getByRole('heading', { name: 'That was not done' }) });
  await refusal.waitFor();
  await check(staff, 'staff-case-refusal', { status: 409, response });
});

test('dashboard', async () => {
  const lead = await staffPage(browser, server.url, 'lead@kinex.test');
  const response = await lead.goto(`${server.url}/staff/dashboard`);
  await check(lead, 'staff-dashboard', { status: 200, response });
  await lead.context().close();
});

test('staff error pages: no such complaint, and a form whose token expired', async () => {
  let response = await staff.goto(`${server.url}/staff/complaints/CMP-2026-999999`);
  await check(staff, 'staff-complaint-not-found', { status: 404, response });
  await staff.goto(`${server.url}/staff/complaints/${reference}`);
  await staff.evaluate(() => { document.querySelector('#form-add_note input[name=csrf]').value = 'stale'; });
  const form = await commandForm(staff, 'Add a note');
  await form.getByLabel('Note', { exact: true }).fill('A note');
  [response] = await Promise.all([staff.waitForNavigation(), form.getByRole('button', { name: 'Add the note' }).click()]);
  await check(staff, 'staff-form-expired', { status: 403, response });
});

test('recording a complaint, and the form with its errors', async () => {
  let response = await staff.goto(`${server.url}/staff/complaints/new?account=${encodeURIComponent(ANN.account)}`);
  await staff.getByRole('link', { name: reference }).waitFor();
  await check(staff, 'staff-record', { status: 200, response });
  [response] = await Promise.all([staff.waitForNavigation(), staff.getByRole('button', { name: 'Record the complaint' }).click()]);
  const summary = staff.getByRole('alert').filter({ has: staff.getByRole('heading', { name: 'There is a problem' }) });
  await summary.waitFor();
  await check(staff, 'staff-record-errors', { status: 422, response });
});

test('my cases, unassigned, and a letter read by staff and by the customer', async () => {
  let response = await staff.goto(`${server.url}/staff/my`);
  await check(staff, 'staff-my-cases', { status: 200, response });
  response = await staff.goto(`${server.url}/staff/unassigned`);
  await staff.getByRole('link', { name: reference }).waitFor();
  await check(staff, 'staff-unassigned', { status: 200, response });
  response = await staff.goto(`${server.url}/staff/approvals`);
  await check(staff, 'staff-approvals', { status: 200, response });

  // The letter an offer would send, shown before it is sent.
  await staff.goto(`${server.url}/staff/complaints/${reference}`);
  response = await postFromPage(staff, `/staff/complaints/${reference}/commands/offer_resolution`, { text: 'A new router by Friday', preview: '1' });
  await staff.getByRole('heading', { name: 'The letter this will send (not sent yet)' }).waitFor();
  await check(staff, 'staff-letter-preview', { status: 200, response });

  // Acknowledged: the acknowledgement is a letter both sides can read.
  await staff.goto(`${server.url}/staff/complaints/${reference}`);
  await postFromPage(staff, `/staff/complaints/${reference}/commands/acknowledge`, {});
  await staff.goto(`${server.url}/staff/complaints/${reference}`);
  const letter = staff.getByRole('region', { name: 'Letters and emails' }).getByRole('link').first();
  const href = await letter.getAttribute('href');
  response = await staff.goto(`${server.url}${href}`);
  await check(staff, 'staff-letter', { status: 200, response });
  const pdf = await staff.getByRole('link', { name: 'Open the letter as a PDF' }).getAttribute('href');
  const answer = await staff.request.get(`${server.url}${pdf}`);
  assert.equal(answer.headers()['content-type'], 'application/pdf');

  response = await customer.goto(`${server.url}/my/complaints/${reference}`);
  const mine = customer.getByRole('region', { name: 'Letters and emails we have sent you' }).getByRole('link').first();
  const portalHref = await mine.getAttribute('href');
  response = await customer.goto(`${server.url}${portalHref}`);
  await check(customer, 'portal-letter', { status: 200, response });
});

test('the email quarantine, a message in it with its errors, and the print queue', async () => {
  // A message with no usable sender whose subject and text try to be HTML, delivered as an MTA would.
  const raw = 'Subject: <script>alert(1)</script> about my bill\r\nMessage-ID: <e2e-hostile@x.example>\r\nContent-Type: text/html\r\n\r\n<p>Please <b>look</b></p><img src=x onerror="document.title=\'hacked\'">\r\n';
  execFileSync(BIN, ['ingest-mail', '--database', server.database, '--files-dir', join(server.dir, 'files')], { input: raw, stdio: ['pipe', 'ignore', 'inherit'] });
  let response = await staff.goto(`${server.url}/staff/quarantine`);
  await check(staff, 'staff-quarantine', { status: 200, response });
  const link = staff.locator('a.quarantined').first();
  response = await Promise.all([staff.waitForNavigation(), link.click()]).then(([r]) => r);
  assert.notEqual(await staff.title(), 'hacked');
  assert.equal(await staff.locator('main img').count(), 0, 'nothing of the message is rendered');
  await check(staff, 'staff-quarantine-message', { status: 200, response });
  // By keyboard: the reference field is reached and the form sent with Enter.
  await staff.getByLabel('Complaint reference').focus();
  await staff.keyboard.type('CMP-2026-999999');
  [response] = await Promise.all([staff.waitForNavigation(), staff.keyboard.press('Enter')]);
  const summary = staff.getByRole('alert').filter({ has: staff.getByRole('heading', { name: 'There is a problem' }) });
  await summary.waitFor();
  assert.equal(await staff.getByLabel('Complaint reference').inputValue(), 'CMP-2026-999999', 'what was typed is kept');
  await check(staff, 'staff-quarantine-message-error', { status: 422, response });

  response = await staff.goto(`${server.url}/staff/print-queue`);
  await check(staff, 'staff-print-queue', { status: 200, response });
});

test('compliance: the audit trail, the record check, and a subject access request with its error', async () => {
  const compliance = await staffPage(browser, server.url, 'comp@kinex.test');
  let response = await compliance.goto(`${server.url}/staff/complaints/${reference}`);
  await compliance.getByRole('heading', { name: 'Audit trail' }).waitFor();
  await check(compliance, 'staff-case-audit-trail', { status: 200, response });
  response = await compliance.goto(`${server.url}/staff/audit`);
  await check(compliance, 'staff-audit', { status: 200, response });
  [response] = await Promise.all([compliance.waitForNavigation(), compliance.getByRole('button', { name: 'Check the record now' }).click()]);
  await compliance.getByRole('heading', { name: 'The record is intact' }).waitFor();
  await check(compliance, 'staff-audit-checked', { status: 200, response });
  response = await compliance.goto(`${server.url}/staff/subject-access`);
  await check(compliance, 'staff-subject-access', { status: 200, response });
  // By keyboard: nothing typed, the form sent with Enter, the error summary says what to do.
  await compliance.getByLabel('Account number').focus();
  [response] = await Promise.all([compliance.waitForNavigation(), compliance.keyboard.press('Enter')]);
  await compliance.getByRole('link', { name: "Enter the customer's account number" }).waitFor();
  await check(compliance, 'staff-subject-access-error', { status: 422, response });
  // The complaint report: its form, figures, charts and tables; and a bad date's message.
  response = await compliance.goto(`${server.url}/staff/reports`);
  await compliance.getByRole('heading', { name: 'Complaints report' }).waitFor();
  await check(compliance, 'staff-reports', { status: 200, response });
  response = await compliance.goto(`${server.url}/staff/reports?from=2026-13-01`);
  await check(compliance, 'staff-reports-error', { status: 400, response });
  // The case page's automatic compensation calculator, answered.
  response = await compliance.goto(`${server.url}/staff/complaints/${reference}?quote_kind=missed_appointment&quote_date=2026-04-01#calculator-heading`);
  await compliance.getByText('Amount: £32.31').waitFor();
  await check(compliance, 'staff-case-calculator', { status: 200, response });
  for (const path of ['/staff/audit', '/staff/subject-access', '/staff/reports']) {
    await compliance.setViewportSize({ width: 320, height: 640 });
    await compliance.goto(`${server.url}${path}`);
    const width = await compliance.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 320, `${path} is ${width} px wide at 320`);
  }
  await compliance.context().close();
});

// ----- Reflow (WCAG 1.4.10): at 320 CSS pixels wide, no page scrolls sideways -----

test('pages reflow at 320 CSS pixels: wide tables scroll on their own, the page does not', async () => {
  const paths = {
    public: ['/', '/complain', '/my', '/complaints-code', '/no-such-page', '/staff/sign-in'],
    customer: ['/my/complaints', `/my/complaints/${reference}`],
    staff: ['/staff', `/staff/complaints/${reference}`, '/staff/dashboard', '/staff/my', '/staff/unassigned', '/staff/approvals', '/staff/search', '/staff/complaints/new', '/staff/quarantine', '/staff/print-queue'],
  };
  const anonymous = await newPage(browser);
  const pages = { public: anonymous, customer, staff };
  for (const [who, list] of Object.entries(paths)) {
    const page = pages[who];
    await page.setViewportSize({ width: 320, height: 640 });
    for (const path of list) {
      await page.goto(`${server.url}${path}`);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 320, `${path} is ${width} CSS pixels wide at 320`);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  }
  await staff.setViewportSize({ width: 320, height: 640 });
  await staff.goto(`${server.url}/staff`);
  await shot(staff, 'a11y-staff-queue-320px');
  // The scrolling table is a named region that keyboard users can reach and scroll.
  const region = staff.getByRole('region', { name: 'Complaints, soonest deadline first' });
  assert.equal(await region.getAttribute('tabindex'), '0');
  const violations = await axe(staff);
  assert.deepEqual(violations, [], JSON.stringify(violations, null, 2));
  results.push({ name: 'staff-queue-320px', violations: violations.length, status: '-' });
  await anonymous.context().close();
});
