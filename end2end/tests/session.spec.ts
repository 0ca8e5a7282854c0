import { test, expect, signIn, loginFor } from './fixtures';

test('a signed-out visitor is sent to the sign-in page', async ({ page }) => {
  await page.goto('/patients');
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByLabel('Clinic code')).toBeVisible();
  await page.goto('/patients/00000000-0000-4000-8000-000000000001');
  await expect(page).toHaveURL(/\/login$/);
});

test('a wrong password shows a clear message and keeps what was typed', async ({ page }) => {
  const l = loginFor('alnoor', 'operator');
  await page.goto('/login');
  await page.waitForLoadState('networkidle');
  await page.getByLabel('Clinic code').fill(l.clinic_code);
  await page.getByLabel('Username').fill(l.username);
  await page.getByLabel('Password').fill('definitely not it');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('Clinic code, username or password is not right');
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByLabel('Clinic code')).toHaveValue(l.clinic_code);
  await expect(page.getByLabel('Username')).toHaveValue(l.username);
});

test('signing out ends the session and removes patient data from the page', async ({ page }) => {
  await signIn(page, 'alnoor', 'operator');
  await expect(page.getByRole('table')).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('table')).toHaveCount(0);
  await page.goto('/patients');
  await expect(page).toHaveURL(/\/login$/);
});

test('the patients page fits a 10-inch tablet in portrait and landscape', async ({ page }) => {
  await signIn(page, 'alnoor', 'doctor');
  for (const viewport of [{ width: 768, height: 1024 }, { width: 1024, height: 768 }]) {
    await page.setViewportSize(viewport);
    await expect(page.getByRole('table')).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, `horizontal overflow at ${viewport.width}x${viewport.height}`).toBeLessThanOrEqual(0);
    const link = page.getByRole('table').getByRole('link').first();
    const box = (await link.boundingBox())!;
    expect(box.height, 'touch target height').toBeGreaterThanOrEqual(44);
  }
});
