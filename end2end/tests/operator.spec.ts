import { test, expect, signIn } from './fixtures';

test('an alnoor operator searches and opens a patient; a shifa user gets "not found" for it', async ({ page, browser }) => {
  await signIn(page, 'alnoor', 'operator');
  await expect(page.getByRole('heading', { name: 'Patients' })).toBeVisible();
  await expect(page.getByLabel('Search patients')).toBeFocused();

  // Search by MR number: exactly one row under the header.
  await page.getByLabel('Search patients').fill('MR-000042');
  const rows = page.getByRole('table').getByRole('row');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(1)).toContainText('MR-000042');
  const link = rows.nth(1).getByRole('link');
  const name = (await link.textContent())!.trim();

  await link.click();
  await expect(page).toHaveURL(/\/patients\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { name })).toBeVisible();
  await expect(page.getByText('MR-000042')).toBeVisible();
  const patientUrl = page.url();

  // Another clinic's user, in a separate browser context, opens the same URL.
  const other = await browser.newContext();
  const page2 = await other.newPage();
  await signIn(page2, 'shifa', 'operator');
  await page2.goto(patientUrl);
  await expect(page2.getByRole('heading', { name: 'Patient not found' })).toBeVisible();
  await expect(page2.getByText(name)).toHaveCount(0);
  await other.close();
});

test('name search finds patients by the start of their name', async ({ page }) => {
  await signIn(page, 'alnoor', 'operator');
  const links = page.getByRole('table').getByRole('link');
  await expect(links.first()).toBeVisible();
  const listed = (await links.allTextContents()).map((n) => n.trim());
  // A name from further down the list, so the first row changes when the
  // search answers (the box waits for typing to pause before it asks).
  const firstPrefix = listed[0].slice(0, 3).toLowerCase();
  const wanted = listed.find((n) => n.slice(0, 3).toLowerCase() !== firstPrefix);
  expect(wanted, 'a name with another start on the first page').toBeDefined();
  const prefix = wanted!.slice(0, 3).toLowerCase();
  await page.getByLabel('Search patients').fill(prefix);
  await expect(links.first()).toHaveText(new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'i'));

  // Names starting with the text come first, in one run; names merely
  // similar to it (typo tolerance) may follow, never come before.
  const names = (await links.allTextContents()).map((n) => n.trim());
  const starts = names.map((n) => n.toLowerCase().startsWith(prefix));
  const run = starts.indexOf(false) === -1 ? starts.length : starts.indexOf(false);
  expect(run).toBeGreaterThan(0);
  expect(starts.slice(run), `prefix matches after other names: ${names.join(', ')}`).not.toContain(true);
  expect(names).toContain(wanted);

  // Enter opens the first result (keyboard-first front desk).
  await page.getByLabel('Search patients').press('Enter');
  await expect(page).toHaveURL(/\/patients\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { name: names[0] })).toBeVisible();
});

test('a search with no match says so', async ({ page }) => {
  await signIn(page, 'alnoor', 'operator');
  await page.getByLabel('Search patients').fill('zzzz no such patient');
  await expect(page.getByText('No patients match')).toBeVisible();
});
