// The whole journey of one complaint, in real headless Chromium, through the pages people use:
// the customer complains on the web; Customer Services offers a resolution (and a team
// manager adds a note for managers only); the customer says they are still not happy; the
// Escalation Team transfers it to the Customer Resolution department, which asks the customer
// for evidence; the customer uploads a PDF; the department issues its formal response; the
// customer asks for the Customer Resolution Manager's review (stage 4).
//
// Every field is found by its label and every button by its name, so the journey also proves
// the labels and names work. The visible state is checked in plain words at each step, the
// customer's page never shows the managers' note, and each page visited is saved as a
// screenshot under target/e2e/journey-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { launch, newPage, shot } from '../lib/browser.mjs';
import { ANN, complain, customerSignIn, staffPage, commandForm, offers, mainText, exactly } from '../lib/site.mjs';
import { tinyPdf } from '../lib/files.mjs';

const SECRET_NOTE = 'Managers only: the customer was promised a callback that never happened (internal ref QX-77).';
const OFFER = 'We will credit your account with £15 and send an engineer on Friday.';
const NOT_HAPPY = 'An engineer came before and nothing changed. I want the line fixed for good.';
const TRANSFER = 'Repeat fault; needs a detailed investigation.';
const EVIDENCE_ASK = 'A copy of your router fault log';
const EVIDENCE_FILE = 'router-fault-log.pdf';
const RESPONSE = 'We found a faulty line card at the exchange and replaced it; we will credit £40.';
const REVIEW = 'The credit does not cover three weeks without broadband.';

let server;
let browser;
let customer; // the customer's page (their own browser context)
let reference;
let n = 0;
/** Saves a numbered screenshot of the page: journey-01-complain-form.png and so on. */
const snap = (page, name) => shot(page, `journey-${String(++n).padStart(2, '0')}-${name}`);

/** A London date some days from today, as the pages write it ("7 April 2026"). */
function londonDate(days = 0) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', year: 'numeric', month: 'numeric', day: 'numeric' })
    .formatToParts(new Date()).map((p) => [p.type, p.value]));
  const day = new Date(Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day) + days));
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'long', year: 'numeric' }).format(day);
}

/** Checks the customer's page never shows the managers' note, nor anything of it. */
async function noStaffNotes(page) {
  const html = await page.content();
  for (const piece of [SECRET_NOTE, 'QX-77', 'callback that never happened', 'note for managers', 'Taylor Lead', 'lead@kinex.test', 'cs@kinex.test']) {
    assert.ok(!html.includes(piece), `the customer's page must not show "${piece}"`);
  }
}

/** What the customer's page says against a term of its summary ("Where it is now"). */
function detail(page, term) {
  return page.getByRole('term').filter({ hasText: exactly(term) }).locator('xpath=following-sibling::dd[1]').innerText();
}

/** The "Where it is now" and "Status" of the customer's complaint page, and all it says. */
async function customerState(page) {
  return { where: await detail(page, 'Where it is now'), status: await detail(page, 'Status'), main: await mainText(page) };
}

/** One step of the journey: skipped once an earlier step has failed (its state is missing). */
let broken = false;
function step(name, fn) {
  test(name, async (t) => {
    if (broken) {
      t.skip('an earlier step failed');
      return;
    }
    try {
      await fn(t);
    } catch (error) {
      broken = true;
      throw error;
    }
  });
}

before(async () => {
  server = await startServer();
  browser = await launch();
  customer = await newPage(browser);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

step('1. the customer makes a complaint on the web, with an accessibility need', async () => {
  await customer.goto(`${server.url}/`);
  await snap(customer, 'home');
  await customer.getByRole('link', { name: 'Make a complaint' }).first().click();
  await customer.getByRole('heading', { level: 1, name: 'Make a complaint' }).waitFor();
  await snap(customer, 'complain-form');
  reference = await complain(customer, server.url, ANN);
  const text = await mainText(customer);
  assert.match(reference, /^CMP-\d{4}-\d{6}$/);
  assert.ok(text.includes(`Your reference is ${reference}`));
  assert.ok(text.includes(`We received your complaint on ${londonDate()}. We will contact you by email.`), text);
  assert.ok(text.includes('What happens next'));
  assert.ok(text.includes('Customer Services will look into your complaint and contact you by email.'), text);
  await snap(customer, 'complain-confirmation');
});

step('2. a Customer Services handler finds it in the queue and offers a resolution', async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}/staff/sign-in`);
  await snap(page, 'staff-sign-in');
  await page.close();

  const cs = await staffPage(browser, server.url, 'cs@kinex.test');
  await cs.getByRole('heading', { level: 1, name: 'Queue: Customer Services' }).waitFor();
  const row = cs.getByRole('row').filter({ has: cs.getByRole('link', { name: reference }) });
  assert.equal(await row.count(), 1, 'the complaint is in the queue');
  const cells = await row.innerText();
  assert.ok(cells.includes(ANN.name) && cells.includes(ANN.account) && cells.includes('1: Customer Services') && cells.includes('Open'), cells);
  // Search finds it too, by postcode.
  await cs.getByLabel('Search').fill(ANN.postcode);
  await cs.getByRole('button', { name: 'Show complaints' }).click();
  await cs.getByRole('link', { name: reference }).waitFor();
  await snap(cs, 'cs-queue');

  await cs.getByRole('link', { name: reference }).click();
  await cs.getByRole('heading', { level: 1, name: `Complaint ${reference}` }).waitFor();
  const needs = cs.getByRole('region', { name: "The customer's needs: read before you contact them" });
  assert.ok((await needs.innerText()).includes('Large print'), 'the needs come first');
  let text = await mainText(cs);
  assert.ok(text.includes('Stage 1: Customer Services'));
  assert.ok(text.includes('8 weeks pass in 56 days'), text);
  await snap(cs, 'cs-case');

  const form = await commandForm(cs, 'Offer a resolution');
  await form.getByLabel('The resolution offered').fill(OFFER);
  await form.getByRole('button', { name: 'Record the offer' }).click();
  await cs.getByRole('status').filter({ hasText: 'The resolution offered was recorded.' }).waitFor();
  text = await mainText(cs);
  assert.ok(text.includes('Stage 1: Customer Services · Resolution offered'), text);
  assert.ok(text.includes(`offered a resolution: ${OFFER}`), text);
  await snap(cs, 'cs-offer-recorded');
  await cs.context().close();
});

step('3. a Customer Services team manager adds a note for managers only', async () => {
  const lead = await staffPage(browser, server.url, 'lead@kinex.test');
  await lead.getByRole('link', { name: reference }).click();
  const form = await commandForm(lead, 'Add a note');
  await form.getByLabel('Note', { exact: true }).fill(SECRET_NOTE);
  await form.getByLabel('For managers only').check();
  await form.getByRole('button', { name: 'Add the note' }).click();
  await lead.getByRole('status').filter({ hasText: 'Your note was added.' }).waitFor();
  const text = await mainText(lead);
  assert.ok(text.includes('added a note for managers'), text);
  assert.ok(text.includes(SECRET_NOTE), 'a manager sees the text');
  await snap(lead, 'lead-restricted-note');
  await lead.context().close();

  // A handler of the same team sees that there is such a note, but not its text.
  const cs = await staffPage(browser, server.url, 'cs@kinex.test');
  await cs.goto(`${server.url}/staff/complaints/${reference}`);
  const handlerText = await mainText(cs);
  assert.ok(handlerText.includes('A note for managers only'));
  assert.ok(!handlerText.includes(SECRET_NOTE) && !(await cs.content()).includes('QX-77'));
  await cs.context().close();
});

step('4. the customer signs in with reference and postcode, rejects the offer and escalates', async () => {
  await customer.goto(`${server.url}/my`);
  await snap(customer, 'customer-sign-in');
  await customerSignIn(customer, server.url, reference, ANN.postcode);
  const list = customer.getByRole('row').filter({ has: customer.getByRole('link', { name: reference }) });
  const row = await list.innerText();
  assert.ok(row.includes('Stage 1: Customer Services'), row);
  assert.ok(row.includes('We have offered a resolution and are waiting for your answer'), row);
  await noStaffNotes(customer);
  await snap(customer, 'customer-complaints');

  await customer.getByRole('link', { name: reference }).click();
  await customer.getByRole('heading', { level: 1, name: `Your complaint ${reference}` }).waitFor();
  let state = await customerState(customer);
  assert.equal(state.where, 'Stage 1 of 5: Customer Services');
  assert.equal(state.status, 'We have offered a resolution and are waiting for your answer');
  assert.ok(state.main.includes('We have offered a resolution. Please tell us below whether you accept it.'));
  const offer = customer.getByRole('region', { name: 'Our offer' });
  assert.ok((await offer.innerText()).includes(OFFER));
  assert.ok(state.main.includes('I’m still not happy'));
  await customer.getByRole('button', { name: 'I accept this offer' }).waitFor();
  await noStaffNotes(customer);
  await snap(customer, 'customer-offer');

  await customer.getByLabel('Tell us why you are not happy (optional)').fill(NOT_HAPPY);
  await customer.getByRole('button', { name: 'Escalate my complaint' }).click();
  await customer.getByRole('status').filter({ hasText: 'Your complaint has been escalated to the Escalation Team. They will be in touch.' }).waitFor();
  state = await customerState(customer);
  assert.equal(state.where, 'Stage 2 of 5: Escalation Team');
  assert.equal(state.status, 'Open: we are working on it');
  assert.ok(state.main.includes('The Escalation Team are looking into your complaint and will contact you by email.'), state.main);
  assert.ok(state.main.includes('You did not accept the resolution'));
  assert.ok(state.main.includes('Confirmation that your complaint was escalated'));
  assert.equal(await customer.getByRole('button', { name: 'I accept this offer' }).count(), 0, 'the offer is no longer open');
  await noStaffNotes(customer);
  await snap(customer, 'customer-escalated');
});

step('5. an Escalation Team handler transfers it to the Customer Resolution department', async () => {
  const esc = await staffPage(browser, server.url, 'esc@kinex.test');
  await esc.getByRole('heading', { level: 1, name: 'Queue: The Escalation Team' }).waitFor();
  const row = await esc.getByRole('row').filter({ has: esc.getByRole('link', { name: reference }) }).innerText();
  assert.ok(row.includes('2: Escalation Team'), row);
  await snap(esc, 'esc-queue');
  await esc.getByRole('link', { name: reference }).click();
  assert.ok((await mainText(esc)).includes(NOT_HAPPY), 'the customer’s reason reaches the Escalation Team');
  await snap(esc, 'esc-case');
  const form = await commandForm(esc, 'Transfer to the Customer Resolution department');
  await form.getByLabel('Why it cannot be resolved here (optional)').fill(TRANSFER);
  await form.getByRole('button', { name: 'Transfer the complaint' }).click();
  await esc.getByRole('status').filter({ hasText: 'The complaint was transferred to the Customer Resolution department.' }).waitFor();
  const text = await mainText(esc);
  assert.ok(text.includes('Stage 3: Customer Resolution department'), text);
  assert.ok(text.includes('formal response due in 28 days'), text);
  assert.ok(text.includes(londonDate(28)), text);
  assert.ok(!(await offers(esc, 'Transfer to the Customer Resolution department')), 'nothing left for the Escalation Team');
  await snap(esc, 'esc-transferred');
  await esc.context().close();

  await customer.reload();
  const state = await customerState(customer);
  assert.equal(state.where, 'Stage 3 of 5: Customer Resolution department');
  assert.ok(state.main.includes(`We will send our formal written response by ${londonDate(28)}.`), state.main);
  assert.ok(state.main.includes('Notice that the Customer Resolution Department is investigating your complaint'), state.main);
  await noStaffNotes(customer);
  await snap(customer, 'customer-transferred');
});

let crd;
step('6. a Customer Resolution department handler asks the customer for evidence', async () => {
  crd = await staffPage(browser, server.url, 'crd@kinex.test');
  await crd.getByRole('link', { name: reference }).click();
  await crd.getByRole('heading', { level: 1, name: `Complaint ${reference}` }).waitFor();
  const form = await commandForm(crd, 'Ask for evidence');
  await form.getByRole('group', { name: 'Who the evidence is from' }).getByRole('radio', { name: 'The customer' }).check();
  await form.getByLabel('Days allowed').fill('14');
  await form.getByLabel('What is needed (optional)').fill(EVIDENCE_ASK);
  await form.getByRole('button', { name: 'Record the request' }).click();
  await crd.getByRole('status').filter({ hasText: 'The request for evidence was recorded.' }).waitFor();
  const text = await mainText(crd);
  assert.ok(text.includes(`We asked the customer for evidence by ${londonDate(14)}: ${EVIDENCE_ASK}`), text);
  assert.ok(text.includes('evidence due in 14 days'), text);
  await snap(crd, 'crd-evidence-requested');

  await customer.reload();
  const state = await customerState(customer);
  assert.ok(state.main.includes(`We have asked you for more information: ${EVIDENCE_ASK}. Please send it by ${londonDate(14)}, using the form below.`), state.main);
  assert.ok(state.main.includes('Request for more information'), 'the letter is listed');
  await noStaffNotes(customer);
  await snap(customer, 'customer-evidence-asked');
});

step('7. the customer uploads a PDF on their complaint page', async () => {
  await customer.getByLabel('What would you like to tell us?').fill('Here is the fault log from my router.');
  await customer.getByLabel('A file (optional)').setInputFiles({ name: EVIDENCE_FILE, mimeType: 'application/pdf', buffer: tinyPdf() });
  await customer.getByRole('button', { name: 'Send', exact: true }).click();
  await customer.getByRole('status').filter({ hasText: 'Thank you. We have received what you sent and added it to your complaint.' }).waitFor();
  const files = await customer.getByRole('region', { name: 'Files you have sent' }).innerText();
  assert.ok(files.includes(EVIDENCE_FILE) && files.includes(`sent on ${londonDate()}`), files);
  const state = await customerState(customer);
  assert.ok(!state.main.includes('We have asked you for more information'), 'nothing is asked of the customer any more');
  assert.ok(state.main.includes('Evidence received'));
  await noStaffNotes(customer);
  await snap(customer, 'customer-evidence-sent');
});

step('8. the handler sees the file received and issues the formal response', async () => {
  await crd.reload();
  const files = await crd.getByRole('table', { name: 'Files' }).innerText();
  assert.ok(files.includes(EVIDENCE_FILE) && files.includes('customer'), files);
  let text = await mainText(crd);
  assert.ok(text.includes('Evidence received'), text);
  // What the customer wrote with the file reaches the handler, with the file's name.
  assert.ok(text.includes('Here is the fault log from my router.') && text.includes(`File sent: ${EVIDENCE_FILE}`), text);
  assert.ok(!text.includes('evidence due in 14 days'), 'the evidence clock stops');
  await snap(crd, 'crd-evidence-received');

  const form = await commandForm(crd, 'Issue the formal written response');
  await form.getByLabel('The response, or a summary of it (optional)').fill(RESPONSE);
  await form.getByRole('button', { name: 'Record the response as issued' }).click();
  await crd.getByRole('status').filter({ hasText: 'The formal written response was recorded as issued.' }).waitFor();
  text = await mainText(crd);
  assert.ok(text.includes('We sent our formal written response'), text);
  await snap(crd, 'crd-formal-response');
  await crd.context().close();

  await customer.reload();
  const state = await customerState(customer);
  assert.ok(state.main.includes('We have sent you our formal written response. If you are unhappy with the outcome, you can ask the Customer Resolution Manager to review your complaint (see below).'), state.main);
  assert.ok(state.main.includes('Our formal written response'));
  await noStaffNotes(customer);
  await snap(customer, 'customer-formal-response');
});

step('9. the customer asks for the Customer Resolution Manager’s review: stage 4', async () => {
  await customer.getByLabel('Your message to the Customer Resolution Manager (optional)').fill(REVIEW);
  await customer.getByRole('button', { name: 'Ask for a review' }).click();
  await customer.getByRole('status').filter({ hasText: 'We have passed your message to the Customer Resolution Manager, who will review your complaint.' }).waitFor();
  const state = await customerState(customer);
  assert.equal(state.where, 'Stage 4 of 5: Customer Resolution Manager');
  assert.ok(state.main.includes('The Customer Resolution Manager is reviewing your complaint.'), state.main);
  assert.ok(state.main.includes('You asked the Customer Resolution Manager to review the complaint'), state.main);
  await noStaffNotes(customer);
  await snap(customer, 'customer-review-requested');

  // And the Customer Resolution Manager has it, with the customer's letter.
  const crm = await staffPage(browser, server.url, 'crm@kinex.test');
  const row = await crm.getByRole('row').filter({ has: crm.getByRole('link', { name: reference }) }).innerText();
  assert.ok(row.includes('4: Customer Resolution Manager'), row);
  await crm.getByRole('link', { name: reference }).click();
  const text = await mainText(crm);
  assert.ok(text.includes('Stage 4: Customer Resolution Manager'), text);
  assert.ok(text.includes(REVIEW), 'the customer’s letter reaches the Customer Resolution Manager');
  assert.ok(text.includes(SECRET_NOTE), 'the Customer Resolution Manager is a manager and reads the note');
  await snap(crm, 'crm-case');
  await crm.context().close();
});

step('10. a handler records a complaint made by telephone; the customer reads its letter in the portal', async () => {
  const caller = { name: 'Ray Tanaka', account: 'KX-5150', postcode: 'LS1 4AP', telephone: '0113 496 0721' };
  const cs = await staffPage(browser, server.url, 'cs@kinex.test');
  await cs.getByRole('link', { name: 'Record a complaint' }).click();
  await cs.getByRole('heading', { level: 1, name: 'Record a complaint' }).waitFor();
  await snap(cs, 'cs-record-form');
  await cs.getByRole('group', { name: 'How did the complaint reach us?' }).getByLabel('Telephone').check();
  await cs.getByLabel('Full name').fill(caller.name);
  await cs.getByLabel('Account number', { exact: true }).fill(caller.account);
  await cs.getByLabel('Telephone number (optional unless we are to call them)').fill(caller.telephone);
  await cs.getByLabel('Postcode').fill(caller.postcode);
  await cs.getByLabel('Address (optional unless we are to write to them)').fill('4 Park Row\nLeeds');
  await cs.getByRole('group', { name: 'How would the customer like us to contact them?' }).getByLabel('Letter').check();
  await cs.getByLabel('What went wrong').fill('No dial tone since the storm on Tuesday.');
  await cs.getByRole('group', { name: 'What is it about?' }).getByRole('radio').first().check();
  await cs.getByRole('button', { name: 'Record the complaint' }).click();
  await cs.getByRole('status').filter({ hasText: 'The complaint is recorded.' }).waitFor();
  const heading = await cs.getByRole('heading', { level: 1 }).innerText();
  const phoned = heading.match(/CMP-\d{4}-\d{6}/)[0];
  await snap(cs, 'cs-recorded');

  const form = await commandForm(cs, 'Acknowledge the complaint');
  await form.getByRole('button', { name: 'Record the acknowledgement' }).click();
  await cs.getByRole('status').filter({ hasText: 'The acknowledgement was recorded.' }).waitFor();
  const letters = cs.getByRole('region', { name: 'Letters and emails' });
  assert.ok((await letters.innerText()).includes('Post'), 'the acknowledgement goes by post, as the customer asked');
  await cs.context().close();

  const ray = await newPage(browser);
  await customerSignIn(ray, server.url, phoned, caller.postcode);
  await ray.getByRole('link', { name: phoned }).click();
  const mine = ray.getByRole('region', { name: 'Letters and emails we have sent you' });
  await mine.getByRole('link').first().click();
  const text = await mainText(ray);
  assert.ok(text.includes(caller.name) && text.includes(phoned), text);
  assert.ok(text.includes('By post'), text);
  await snap(ray, 'customer-reads-letter');
  const pdf = await ray.getByRole('link', { name: 'Open the letter as a PDF' }).getAttribute('href');
  const answer = await ray.request.get(`${server.url}${pdf}`);
  assert.equal(answer.status(), 200);
  assert.equal(answer.headers()['content-type'], 'application/pdf');
  await ray.context().close();
});
