// Steps people take on Redress's pages, written with accessible locators (labels, roles and
// names), so that every step also proves the page's labels and names work.
import assert from 'node:assert/strict';
import { PASSWORD } from './server.mjs';
import { newPage } from './browser.mjs';

/** A customer who complains on the web. */
export const ANN = {
  name: 'Ann Example',
  account: 'KX-100200',
  email: 'ann@example.test',
  telephone: '0161 496 0000',
  postcode: 'M22 4SY',
  summary: 'My broadband has dropped out every evening for three weeks.\nI work from home and need it fixed.',
  category: 'Faults, service and provision',
  contact: 'Email',
  needs: ['Large print'],
};

/** Another customer, for the checks that one customer cannot see another's complaint. */
export const BOB = {
  name: 'Bob Otherperson',
  account: 'KX-900900',
  email: 'bob@example.test',
  telephone: '0161 496 0999',
  postcode: 'SW1A 1AA',
  summary: 'Bob-only secret: my bill doubled in March.',
  category: 'Billing, pricing and charges',
  contact: 'Email',
  needs: [],
};

/** Fills the complaint form at /complain (the page must be on it) by its labels. */
export async function fillComplaint(page, who) {
  await page.getByLabel('Your full name').fill(who.name);
  await page.getByLabel('Your account number').fill(who.account);
  await page.getByLabel('Email address (optional if we are not emailing you)').fill(who.email ?? '');
  await page.getByLabel('Telephone number (optional if we are not calling you)').fill(who.telephone ?? '');
  await page.getByLabel('Postcode').fill(who.postcode);
  await page.getByRole('group', { name: 'How would you like us to contact you?' })
    .getByRole('radio', { name: who.contact, exact: true }).check();
  await page.getByLabel('What went wrong?').fill(who.summary);
  await page.getByRole('group', { name: 'What is your complaint about?' })
    .getByRole('radio', { name: who.category, exact: true }).check();
  const needs = page.getByRole('group', { name: 'Do you need anything from us to make contact easier?' });
  for (const need of who.needs ?? []) {
    await needs.getByRole('checkbox', { name: need, exact: true }).check();
  }
}

/** Makes a complaint in the portal; returns its reference (the page is left on the confirmation). */
export async function complain(page, url, who) {
  await page.goto(`${url}/complain`);
  await fillComplaint(page, who);
  await page.getByRole('button', { name: 'Send my complaint' }).click();
  await page.getByRole('heading', { level: 1, name: 'We have your complaint' }).waitFor();
  const status = await page.getByRole('status').innerText();
  const match = status.match(/[A-Z]{2,}-\d{4}-\d{6}/);
  assert.ok(match, `a reference on the confirmation: ${status}`);
  return match[0];
}

/** Signs a customer in with reference and postcode on /my; leaves the page on their complaints. */
export async function customerSignIn(page, url, reference, postcode) {
  await page.goto(`${url}/my`);
  await page.getByLabel('Complaint reference').fill(reference);
  await page.getByLabel('Postcode').fill(postcode);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Your complaints' }).waitFor();
}

/** A new browser page with a member of staff signed in (left on the queue). */
export async function staffPage(browser, url, email) {
  const page = await newPage(browser);
  await page.goto(`${url}/staff/sign-in`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${url}/staff`);
  return page;
}

/**
 * A command's form on a staff case page: the disclosure whose summary is the command's title,
 * opened by clicking that summary as a person would. Its fields are then found by their labels.
 */
export async function commandForm(page, title) {
  const details = page.locator('details').filter({ has: page.locator(':scope > summary', { hasText: exactly(title) }) });
  await details.waitFor();
  if ((await details.getAttribute('open')) === null) await details.locator(':scope > summary').click();
  return details.locator('form');
}

/** A regular expression matching exactly this text (surrounding white space aside). */
export function exactly(text) {
  return new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
}

/** Whether the staff case page offers a command (a disclosure with that title). */
export async function offers(page, title) {
  return (await page.locator('details > summary', { hasText: exactly(title) }).count()) > 0;
}

/** The text of the page's main region. */
export async function mainText(page) {
  return page.getByRole('main').innerText();
}
