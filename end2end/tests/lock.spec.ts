import { test, expect, signIn, loginFor } from './fixtures';

// The idle timer runs on the page's clock: Playwright's fake clock lets the
// test jump past the timeout instead of waiting 15 minutes. The server keeps
// its own (real) clock; the lock screen ends the old session on the server.
test('idle timeout locks the screen, removes patient data, and unlocking restores the unsaved draft', async ({ page }) => {
  await page.clock.install();
  await signIn(page, 'alnoor', 'operator');

  const first = page.getByRole('table').getByRole('link').first();
  const name = (await first.textContent())!.trim();
  await first.click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
  await page.getByRole('link', { name: 'Edit details' }).click();
  await expect(page).toHaveURL(/\/patients\/[0-9a-f-]+\/edit$/);
  await page.waitForLoadState('networkidle');
  const editUrl = page.url();

  const draftName = `${name} Draftwala`;
  await page.getByLabel('Full name').fill(draftName);
  // Autosave fires a few seconds after typing stops.
  await page.clock.fastForward(3_000);
  await expect(page.getByText(/Draft saved/)).toBeVisible();

  // Unbound browsers get the clinic default (15 min): warning first, then the lock.
  await page.clock.fastForward('14:10');
  await expect(page.getByRole('alertdialog')).toContainText('locks in');
  await page.clock.fastForward('01:00');
  await expect(page).toHaveURL(/\/locked\?/);
  await expect(page.getByRole('heading', { name: 'Screen locked' })).toBeVisible();

  // No patient data left in the DOM.
  const html = await page.content();
  expect(html).not.toContain(name);
  expect(html).not.toContain('Draftwala');
  await expect(page.getByLabel('Full name')).toHaveCount(0);

  // Unlock with the password: back on the same form, the draft is offered.
  await page.waitForLoadState('networkidle');
  await page.getByLabel('Password').fill(loginFor('alnoor', 'operator').password);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page).toHaveURL(editUrl);
  await page.waitForLoadState('networkidle');
  await page.getByRole('button', { name: 'Restore draft' }).click();
  await expect(page.getByLabel('Full name')).toHaveValue(draftName);
});
