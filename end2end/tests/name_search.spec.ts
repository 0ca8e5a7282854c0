import { test, expect, signIn } from './fixtures';

// The demo seed (core/src/demo.rs, names from shared/data) is deterministic:
// alnoor has "Alishba Hamdani". The operator types it misspelt, as a busy front
// desk does ("Alishbah" is a spelling variant, "Hamdany" a typo), and opens the
// record without touching the mouse.
const PATIENT = 'Alishba Hamdani';
const TYPED = 'alishbah hamdany';

test('a misspelt name finds the patient; arrows and Enter open the record, keyboard only', async ({ page }) => {
  await signIn(page, 'alnoor', 'operator');
  const box = page.getByRole('searchbox', { name: 'Search patients' });
  await expect(box).toBeFocused();
  const links = page.getByRole('table').getByRole('link');
  await expect(links.first()).toBeVisible();
  const unfiltered = (await links.first().textContent())!.trim();

  // Typing at front-desk speed asks the server once the typing pauses, not on
  // every keystroke.
  const searches: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/patients/list')) searches.push(r.url());
  });
  await page.keyboard.type(TYPED, { delay: 40 });
  await expect(links.first()).toHaveText(PATIENT);
  expect(searches.length, `searches sent while typing ${TYPED.length} characters`).toBeLessThanOrEqual(3);

  // Down highlights the first row (announced through aria-activedescendant).
  await page.keyboard.press('ArrowDown');
  const first = page.getByRole('table').getByRole('row').nth(1);
  await expect(first).toHaveAttribute('aria-current', 'true');
  await expect(box).toHaveAttribute('aria-activedescendant', (await first.getAttribute('id'))!);
  await expect(page.getByRole('status').filter({ hasText: `${PATIENT},` })).toHaveCount(1);

  // Escape clears the box and brings the whole list back.
  await page.keyboard.press('Escape');
  await expect(box).toHaveValue('');
  await expect(links.first()).toHaveText(unfiltered);
  await expect(box).not.toHaveAttribute('aria-activedescendant', /./);

  // Up from nothing highlighted reaches the last row; Down wraps to the first.
  const rows = page.getByRole('table').getByRole('row');
  await page.keyboard.press('ArrowUp');
  await expect(rows.last()).toHaveAttribute('aria-current', 'true');
  await expect(rows.last()).toHaveClass(/highlighted/);
  await page.keyboard.press('ArrowDown');
  await expect(first).toHaveAttribute('aria-current', 'true');
  await expect(rows.last()).not.toHaveAttribute('aria-current', 'true');
  await expect(first).toContainText(unfiltered);

  // Again, and open the record with Down + Enter.
  await page.keyboard.type(TYPED, { delay: 40 });
  await expect(links.first()).toHaveText(PATIENT);
  await page.keyboard.press('ArrowDown');
  await expect(first).toHaveAttribute('aria-current', 'true');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/patients\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { name: PATIENT })).toBeVisible();
});

test('Enter pressed before the results arrive opens the first result for what was typed', async ({ page }) => {
  await signIn(page, 'alnoor', 'operator');
  await expect(page.getByRole('table').getByRole('link').first()).toBeVisible();
  // No pause between typing and Enter: the debounced search has not run yet.
  await page.keyboard.type(TYPED);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/patients\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { name: PATIENT })).toBeVisible();
});
