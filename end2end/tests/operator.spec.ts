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
  const firstName = (await page.getByRole('table').getByRole('link').first().textContent())!.trim();
  const prefix = firstName.slice(0, 3).toLowerCase();
  await page.getByLabel('Search patients').fill(prefix);
  await expect(page.getByRole('table').getByRole('link').first()).toBeVisible();
  const names = await page.getByRole('table').getByRole('link').allTextContents();
  expect(names.length).toBeGreaterThan(0);
  for (const n of names) expect(n.toLowerCase().startsWith(prefix)).toBeTruthy();

  // Enter opens the first result (keyboard-first front desk).
  await page.getByLabel('Search patients').press('Enter');
  await expect(page).toHaveURL(/\/patients\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { name: names[0].trim() })).toBeVisible();
});

test('a search with no match says so', async ({ page }) => {
  await signIn(page, 'alnoor', 'operator');
  await page.getByLabel('Search patients').fill('zzzz no such patient');
  await expect(page.getByText('No patients match')).toBeVisible();
});
