import { test, expect, signIn } from './fixtures';
import type { Page } from '@playwright/test';

// The front desk's morning with the keyboard only: a walk-in whose name is
// typed differently from the record on file gets the duplicate warning (very
// similar name, father's name and age), the operator opens the existing
// record, issues a token, and the doctor sees it in the queue. Also: an age
// instead of a date of birth, and the clinic's own MR prefix.

/** A made-up word, so the names of this run match nothing else on file. */
function word(): string {
  const letters = 'bcdfghjklmnpqrstvz';
  let s = '';
  for (let i = 0; i < 6; i++) s += letters[Math.floor(Math.random() * letters.length)];
  return s[0].toUpperCase() + s.slice(1);
}

/** Follows a link with the keyboard. */
async function follow(page: Page, name: string) {
  await page.getByRole('link', { name, exact: true }).first().focus();
  await page.keyboard.press('Enter');
}

/** Fills the registration form with the keyboard and submits it with Enter. */
async function registerByKeyboard(page: Page, p: { name: string; father: string; age: string }) {
  await follow(page, 'Register patient');
  await expect(page).toHaveURL(/\/patients\/new$/);
  await page.waitForLoadState('networkidle');
  const name = page.getByLabel('Full name');
  await expect(name).toBeFocused();
  await page.keyboard.type(p.name);
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Father / husband name')).toBeFocused();
  await page.keyboard.type(p.father);
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Sex')).toBeFocused();
  await page.keyboard.press('ArrowDown'); // Female
  await page.keyboard.press('ArrowDown'); // Male
  await expect(page.getByLabel('Sex')).toHaveValue('male');
  await page.getByLabel('or age, if the date is not known').focus();
  await page.keyboard.type(p.age);
  await page.keyboard.press('Enter');
}

function ageOnCard(page: Page) {
  return page.getByRole('article').locator('dt:text-is("Date of birth") + dd');
}

test('a walk-in typed differently is caught by name, father and age; token; the doctor sees it', async ({ page, browser }) => {
  test.setTimeout(90_000);
  const w = word();
  const f = word();
  await signIn(page, 'alnoor', 'operator');

  // On file since an earlier visit: registered by age.
  await registerByKeyboard(page, { name: `Muhammad ${w} Khan`, father: `Ghulam ${f} Khan`, age: '46' });
  await expect(page).toHaveURL(/\/patients\/[0-9a-f-]{36}$/);
  const url = page.url();
  const mr = (await page.locator('dt:text-is("MR number") + dd').textContent())!.trim();
  expect(mr).toMatch(/^MR-\d{6}$/);
  await expect(ageOnCard(page)).toHaveText('Not known (about 46 years)');

  // Today they walk in; the desk types the name another way and guesses the age.
  await page.goto('/patients');
  await page.waitForLoadState('networkidle');
  await registerByKeyboard(page, { name: `Mohamad ${w} Khan`, father: `Gulam ${f} Khan`, age: '45' });
  const warning = page.getByRole('region', { name: 'This patient may already be registered' });
  await expect(warning).toBeVisible();
  await expect(warning).toContainText(mr);
  await expect(warning).toContainText("Similar name, father's name and age");
  await expect(page).toHaveURL(/\/patients\/new$/);
  await expect(page.getByLabel('Full name')).toHaveValue(`Mohamad ${w} Khan`);
  await warning.getByRole('link', { name: new RegExp(`^Open existing ${mr}`) }).focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(url);

  // A token for today's walk-in.
  await follow(page, 'Appointments');
  await expect(page.getByRole('heading', { name: 'Appointments', level: 1 })).toBeVisible();
  await page.waitForLoadState('networkidle');
  const patientBox = page.getByLabel('Patient (MR number or name)');
  await expect(patientBox).toBeEnabled();
  await patientBox.focus();
  await page.keyboard.type(mr);
  await expect(page.getByRole('button', { name: new RegExp(`^Choose .*\\(${mr}\\)$`) })).toBeVisible();
  await page.keyboard.press('Enter');
  const doctorPick = page.getByLabel('Doctor', { exact: true });
  await doctorPick.focus();
  await page.keyboard.press('ArrowDown');
  await expect(doctorPick).not.toHaveValue('');
  await page.getByRole('button', { name: 'Walk-in', exact: true }).focus();
  await page.keyboard.press('Enter');
  const issued = page.locator('.token-issued');
  await expect(issued).toContainText(new RegExp(`Token \\d+: .*\\(${mr}\\)`));
  const token = (await issued.locator('.token-big').textContent())!.trim();

  // The doctor, on their own tablet, sees the token in the queue.
  const tablet = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 800, height: 1280 } });
  const doctor = await tablet.newPage();
  await signIn(doctor, 'alnoor', 'doctor');
  await doctor.goto('/appointments/queue');
  await doctor.waitForLoadState('networkidle');
  const doctorSelect = doctor.getByLabel('Doctor', { exact: true });
  if ((await doctorSelect.count()) > 0 && (await doctorSelect.inputValue()) === '') {
    await doctorSelect.focus();
    await doctor.keyboard.press('ArrowDown');
  }
  const mine = doctor.getByRole('list', { name: 'Queue by token' }).getByRole('listitem').filter({ hasText: mr });
  await expect(mine).toContainText(token);
  await expect(mine).toContainText('arrived');
  await tablet.close();
});

test('an age and a date of birth that disagree are refused beside the age, keeping what was typed', async ({ page }) => {
  await signIn(page, 'alnoor', 'operator');
  await follow(page, 'Register patient');
  await page.waitForLoadState('networkidle');
  await page.getByLabel('Full name').fill(`Sadia ${word()}`);
  await page.getByLabel('Sex').selectOption('female');
  await page.getByLabel('Date of birth').fill('1990-05-17');
  await page.getByLabel('or age, if the date is not known').fill('20');
  await page.getByLabel('Full name').press('Enter');
  const age = page.getByLabel('or age, if the date is not known');
  await expect(age).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#age-error')).toContainText('The date of birth makes the patient');
  await expect(age).toBeFocused();
  await expect(page.getByLabel('Date of birth')).toHaveValue('1990-05-17');
  await expect(page).toHaveURL(/\/patients\/new$/);

  // A baby's age in months.
  await age.fill('8m');
  await page.getByLabel('Date of birth').fill('');
  await page.getByLabel('Full name').press('Enter');
  await expect(page).toHaveURL(/\/patients\/[0-9a-f-]{36}$/);
  await expect(ageOnCard(page)).toHaveText('Not known (about 8 months)');
  // The edit form offers the age back, not a made-up date.
  await follow(page, 'Edit details');
  await expect(page.getByLabel('or age, if the date is not known')).toHaveValue('8m');
  await expect(page.getByLabel('Date of birth')).toHaveValue('');
});

test("the clinic admin sets the MR prefix; new patients get it and the count continues", async ({ page }) => {
  await signIn(page, 'shifa', 'admin');
  await page.goto('/admin/security');
  await page.waitForLoadState('networkidle');
  const prefix = page.getByLabel('MR number prefix');
  await expect(prefix).toHaveValue('MR-');
  await prefix.fill('SH1');
  await prefix.press('Enter');
  await expect(page.getByRole('region', { name: 'Patient numbers' }).getByRole('alert')).toContainText('1 to 6 letters');
  await prefix.fill('sh-');
  await prefix.press('Enter');
  await expect(page.getByRole('status').filter({ hasText: "New patients' numbers start with SH-" })).toBeVisible();
  try {
    await page.goto('/patients/new');
    await page.waitForLoadState('networkidle');
    await page.getByLabel('Full name').fill(`Prefix ${word()}`);
    await page.getByLabel('Sex').selectOption('other');
    await page.getByLabel('Full name').press('Enter');
    await expect(page).toHaveURL(/\/patients\/[0-9a-f-]{36}$/);
    const mr = (await page.locator('dt:text-is("MR number") + dd').textContent())!.trim();
    expect(mr).toMatch(/^SH-\d{6}$/);
    // Typing only the digits finds it under the clinic's prefix.
    await page.goto('/patients');
    await page.waitForLoadState('networkidle');
    await page.getByLabel('Search patients').fill(mr.slice(3));
    await expect(page.getByRole('table').getByRole('row').nth(1)).toContainText(mr);
  } finally {
    // Other tests of this clinic expect MR- numbers.
    await page.goto('/admin/security');
    await page.waitForLoadState('networkidle');
    await page.getByLabel('MR number prefix').fill('MR-');
    await page.getByLabel('MR number prefix').press('Enter');
    await expect(page.getByRole('status').filter({ hasText: "New patients' numbers start with MR-" })).toBeVisible();
  }
});
