import { test, expect, signIn, loginFor } from './fixtures';

// An admin creates a pharmacist; the pharmacist signs in with the one-time
// password, must change it, and then sees only what a pharmacist may use.
// Hiding a navigation entry is convenience: the section's URL opened directly
// is refused by the server.
test('a new pharmacist sees Pharmacy but not Prescribe, and is refused the prescribe URL', async ({ page }) => {
  const clinic = loginFor('alnoor', 'admin').clinic_code;
  const username = `pharm${Date.now()}`;
  const newPassword = 'amber-falcon-Lahore-2026-indus';

  await signIn(page, 'alnoor', 'admin');
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'Admin' }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();
  await page.waitForLoadState('networkidle');

  // The matrix shows the built-in roles; this clinic's plan has no custom roles.
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Roles' }).click();
  await expect(page).toHaveURL(/\/admin\/roles$/);
  const matrix = page.getByRole('table', { name: 'Permissions of each role' });
  await expect(matrix.getByRole('columnheader', { name: 'Pharmacist' })).toBeVisible();
  const dispensing = matrix.getByRole('row', { name: /Dispense medicines/ });
  await expect(dispensing.getByRole('img', { name: 'allowed' })).toHaveCount(1);
  await expect(page.getByText('Custom roles are part of the hospital plan')).toBeVisible();
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Users' }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await page.waitForLoadState('networkidle');

  // Create the user; the one-time password is shown once.
  const form = page.getByRole('form', { name: 'New user' });
  await form.getByLabel('Username').fill(username);
  await form.getByLabel('Full name').fill('Rukhsana Baig');
  await form.getByRole('checkbox', { name: 'Pharmacist' }).check();
  await form.getByRole('button', { name: 'Create user' }).click();
  const oneTime = page.getByLabel(`One-time password for ${username}`);
  await expect(oneTime).toBeVisible();
  const temporary = await oneTime.inputValue();
  expect(temporary.length).toBeGreaterThanOrEqual(12);
  await expect(page.getByText('they must change it at first sign-in')).toBeVisible();
  const row = page.getByRole('row').filter({ hasText: username });
  await expect(row).toContainText('Pharmacist');
  await expect(row).toContainText('never');

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.waitForLoadState('networkidle');

  // First sign-in: the one-time password works once, for the forced change.
  await page.getByLabel('Clinic code').fill(clinic);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(temporary);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/account\/password$/);
  await page.waitForLoadState('networkidle');
  await page.getByLabel('Current password').fill(temporary);
  await page.getByLabel('New password', { exact: true }).fill(newPassword);
  await page.getByLabel('New password again').fill(newPassword);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page).toHaveURL(/\/patients$/);
  await page.waitForLoadState('networkidle');

  // The navigation follows the pharmacist's permissions.
  await expect(nav.getByRole('link', { name: 'Patients' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Pharmacy' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Prescribe' })).toHaveCount(0);
  await expect(nav.getByRole('link', { name: 'Admin' })).toHaveCount(0);

  await nav.getByRole('link', { name: 'Pharmacy' }).click();
  await expect(page).toHaveURL(/\/section\/pharmacy$/);
  await expect(page.getByRole('heading', { name: 'Pharmacy', level: 1 })).toBeVisible();
  await expect(page.getByText('Pharmacy arrives in a later release of Healipro')).toBeVisible();

  // Typing the hidden sections' URLs does not get past the server.
  await page.goto('/section/prescribe');
  await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible();
  await expect(page.getByRole('alert').filter({ hasText: 'Your role does not allow this' })).toBeVisible();
  await expect(page.getByText('arrives in a later release')).toHaveCount(0);
  await page.goto('/admin/users');
  await expect(page.getByRole('alert').filter({ hasText: 'Your role does not allow this' })).toBeVisible();
  await expect(page.getByText(username)).toHaveCount(0);
});
