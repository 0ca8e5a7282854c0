import { test, expect, signIn } from './fixtures';
import type { Page } from '@playwright/test';

// Patients' CNIC, phone and address: registered, shown formatted, found by
// exact search however they are typed, checked for duplicates, kept by edits.

function digits(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(Math.random() * 10).toString();
  return s;
}

/** A random valid CNIC (13 digits, first 1-7) and mobile number (03 + 9 digits). */
function identifiers() {
  const cnic = `${1 + Math.floor(Math.random() * 7)}${digits(12)}`;
  const phone = `03${digits(9)}`;
  return {
    cnic,
    cnicFormatted: `${cnic.slice(0, 5)}-${cnic.slice(5, 12)}-${cnic.slice(12)}`,
    phone,
    phoneFormatted: `${phone.slice(0, 4)}-${phone.slice(4)}`,
    phoneInternational: `+92 ${phone.slice(1, 4)} ${phone.slice(4)}`,
  };
}

async function openRegistration(page: Page) {
  await page.getByRole('link', { name: 'Register patient' }).click();
  await expect(page).toHaveURL(/\/patients\/new$/);
  await expect(page.getByRole('heading', { name: 'Register patient' })).toBeVisible();
  await page.waitForLoadState('networkidle');
}

/** Registers a patient through the form; returns the record page's URL and MR number. */
async function register(page: Page, p: { name: string; cnic: string; phone: string; address: string }) {
  await openRegistration(page);
  await expect(page.getByLabel('Full name')).toBeFocused();
  await page.getByLabel('Full name').fill(p.name);
  await page.getByLabel('Father / husband name').fill('Muhammad Aslam');
  await page.getByLabel('Sex').selectOption('female');
  await page.getByLabel('Date of birth').fill('1990-05-17');
  await page.getByLabel('CNIC').fill(p.cnic);
  await page.getByLabel('Phone').fill(p.phone);
  await page.getByLabel('Address').fill(p.address);
  await page.getByRole('button', { name: 'Register', exact: true }).click();
  await expect(page).toHaveURL(/\/patients\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { name: p.name })).toBeVisible();
  const mr = (await page.locator('dt:text-is("MR number") + dd').textContent())!.trim();
  expect(mr).toMatch(/^MR-\d+$/);
  return { url: page.url(), mr };
}

function card(page: Page) {
  return page.getByRole('article');
}

async function expectField(page: Page, term: string, value: string) {
  await expect(card(page).locator(`dt:text-is("${term}") + dd`)).toHaveText(value);
}

test('register with CNIC, phone and address; find by CNIC and phone however typed; duplicates are caught', async ({ page }) => {
  test.setTimeout(60_000);
  const id = identifiers();
  const name = `Zainab Testwali ${digits(4)}`;
  const address = 'House 12, Street 4\nGulberg III, Lahore';

  await signIn(page, 'alnoor', 'operator');
  const first = await register(page, { name, cnic: id.cnic, phone: id.phoneFormatted, address });
  await expectField(page, 'CNIC', id.cnicFormatted);
  await expectField(page, 'Phone', id.phoneFormatted);
  await expectField(page, 'Address', address);

  // Back to the list: the CNIC typed without dashes finds exactly this patient.
  await page.getByRole('link', { name: 'Back to patients' }).click();
  await expect(page).toHaveURL(/\/patients$/);
  const search = page.getByLabel('Search patients');
  await expect(search).toHaveAttribute('placeholder', 'Name, MR number, CNIC or phone');
  await search.fill(id.cnic);
  const rows = page.getByRole('table').getByRole('row');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(1)).toContainText(first.mr);
  await expect(rows.nth(1)).toContainText(id.cnicFormatted);
  await expect(rows.nth(1)).toContainText(id.phoneFormatted);

  // The phone typed internationally finds the same patient.
  await search.fill(id.phoneInternational);
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(1)).toContainText(first.mr);
  await expect(rows.nth(1).getByRole('link')).toHaveText(name);

  // Registering someone else with the same CNIC: nothing is saved, the first
  // patient is named, and "Open existing" opens them.
  await openRegistration(page);
  await page.getByLabel('Full name').fill(`Other ${name}`);
  await page.getByLabel('Sex').selectOption('male');
  await page.getByLabel('CNIC').fill(id.cnicFormatted);
  await page.getByLabel('Full name').press('Enter');
  const warning = page.getByRole('region', { name: 'This patient may already be registered' });
  await expect(warning).toBeVisible();
  await expect(warning).toContainText(first.mr);
  await expect(warning).toContainText(name);
  await expect(warning).toContainText(id.cnicFormatted);
  await expect(warning.getByRole('button', { name: 'Register anyway' })).toBeVisible();
  await expect(page).toHaveURL(/\/patients\/new$/);
  await expect(page.getByLabel('Full name')).toHaveValue(`Other ${name}`);
  await warning.getByRole('link', { name: new RegExp(`^Open existing ${first.mr}`) }).click();
  await expect(page).toHaveURL(first.url);
  await expect(page.getByRole('heading', { name })).toBeVisible();
});

test('"Register anyway" registers a second patient with the same phone', async ({ page }) => {
  const id = identifiers();
  const name = `Hina Familywali ${digits(4)}`;
  await signIn(page, 'alnoor', 'operator');
  const first = await register(page, { name, cnic: '', phone: id.phone, address: '' });
  await expectField(page, 'CNIC', 'Not recorded');

  await page.goto('/patients');
  await page.waitForLoadState('networkidle');
  await openRegistration(page);
  await page.getByLabel('Full name').fill(`Sister of ${name}`);
  await page.getByLabel('Sex').selectOption('female');
  await page.getByLabel('Phone').fill(id.phoneInternational);
  await page.getByRole('button', { name: 'Register', exact: true }).click();
  const warning = page.getByRole('region', { name: 'This patient may already be registered' });
  await expect(warning).toContainText(first.mr);
  await warning.getByRole('button', { name: 'Register anyway' }).click();
  await expect(page).toHaveURL(/\/patients\/[0-9a-f-]{36}$/);
  expect(page.url()).not.toBe(first.url);
  await expect(page.getByRole('heading', { name: `Sister of ${name}` })).toBeVisible();
  await expectField(page, 'Phone', id.phoneFormatted);
});

test('a pharmacist, who may only read patients, is not offered "Register patient"', async ({ page }) => {
  await signIn(page, 'alnoor', 'pharmacist');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Pharmacy' })).toBeVisible();
  await expect(page.getByRole('table')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Register patient' })).toHaveCount(0);
});

test('a CNIC typo is shown beside the field and keeps what was typed', async ({ page }) => {
  await signIn(page, 'alnoor', 'operator');
  await openRegistration(page);
  const name = `Typo Testwala ${digits(4)}`;
  await page.getByLabel('Full name').fill(name);
  await page.getByLabel('Sex').selectOption('male');
  await page.getByLabel('CNIC').fill('35202-123456-1');
  await page.getByLabel('Address').fill('Somewhere in Multan');
  await page.getByRole('button', { name: 'Register', exact: true }).click();
  const cnic = page.getByLabel('CNIC');
  await expect(cnic).toHaveAccessibleDescription(/A CNIC has 13 digits.*this one has 12/);
  await expect(cnic).toHaveAttribute('aria-invalid', 'true');
  await expect(cnic).toBeFocused();
  await expect(page).toHaveURL(/\/patients\/new$/);
  await expect(page.getByLabel('Full name')).toHaveValue(name);
  await expect(cnic).toHaveValue('35202-123456-1');
  await expect(page.getByLabel('Address')).toHaveValue('Somewhere in Multan');
});

test('editing the phone keeps the CNIC and address', async ({ page }) => {
  const id = identifiers();
  const other = identifiers();
  const name = `Amna Editwali ${digits(4)}`;
  const address = 'Flat 3, Block B\nSatellite Town, Rawalpindi';
  await signIn(page, 'alnoor', 'operator');
  const p = await register(page, { name, cnic: id.cnicFormatted, phone: id.phone, address });

  await page.getByRole('link', { name: 'Edit details' }).click();
  await expect(page).toHaveURL(/\/edit$/);
  await page.waitForLoadState('networkidle');
  await expect(page.getByLabel('CNIC')).toHaveValue(id.cnicFormatted);
  await expect(page.getByLabel('Phone')).toHaveValue(id.phoneFormatted);
  await expect(page.getByLabel('Address')).toHaveValue(address);
  await expect(page.getByLabel('Sex')).toHaveValue('female');
  await page.getByLabel('Phone').fill(other.phone);
  await page.getByRole('button', { name: 'Save' }).click();

  await expect(page).toHaveURL(p.url);
  await expectField(page, 'Phone', other.phoneFormatted);
  await expectField(page, 'CNIC', id.cnicFormatted);
  await expectField(page, 'Address', address);
  await expectField(page, 'Sex', 'Female');
});

test('the registration form and its duplicate warning fit a 10-inch tablet', async ({ page }) => {
  await signIn(page, 'alnoor', 'operator');
  const onFile = page.getByRole('table').locator('td.mono').filter({ hasText: /^\d{5}-\d{7}-\d$/ }).first();
  const cnic = (await onFile.textContent())!.trim();
  for (const viewport of [{ width: 1024, height: 768 }, { width: 768, height: 1024 }]) {
    await page.setViewportSize(viewport);
    await page.goto('/patients/new');
    await page.waitForLoadState('networkidle');
    await expect(page.getByLabel('Full name')).toBeFocused();
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(await overflow(), `horizontal overflow at ${viewport.width}x${viewport.height}`).toBeLessThanOrEqual(0);
    for (const label of ['Full name', 'Father / husband name', 'Sex', 'Date of birth', 'CNIC', 'Phone', 'Address']) {
      const box = (await page.getByLabel(label).boundingBox())!;
      expect(box.height, `${label} height`).toBeGreaterThanOrEqual(44);
    }
    for (const target of [page.getByRole('button', { name: 'Register', exact: true }), page.getByRole('link', { name: 'Cancel' })]) {
      const box = (await target.boundingBox())!;
      expect(box.height, 'touch target height').toBeGreaterThanOrEqual(44);
    }
  }

  // Portrait: the warning's "Open existing" is in view, not scrolled away.
  await page.getByLabel('Full name').fill('Tablet Testwala');
  await page.getByLabel('Sex').selectOption('male');
  await page.getByLabel('CNIC').fill(cnic);
  await page.getByLabel('CNIC').press('Enter');
  const warning = page.getByRole('region', { name: 'This patient may already be registered' });
  await expect(warning).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
  for (const target of [warning.getByRole('link', { name: /^Open existing/ }).first(), warning.getByRole('button', { name: 'Register anyway' })]) {
    const box = (await target.boundingBox())!;
    expect(box.height, 'touch target height').toBeGreaterThanOrEqual(44);
    expect(box.x + box.width, 'within the screen').toBeLessThanOrEqual(768);
  }
  await expect(warning.getByRole('link', { name: /^Open existing/ }).first()).toBeInViewport();
});
