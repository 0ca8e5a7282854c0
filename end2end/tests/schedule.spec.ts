import { test, expect, signIn } from './fixtures';
import type { Page } from '@playwright/test';

// The front desk's schedule beyond booking (issue 8): leave refuses a
// booking with its reason until withdrawn, a booked appointment moves to
// another free slot (a taken one is a clear conflict), the printable day
// sheet lists the no-shows, and the "patients seen" report counts them.
// Runs in the Shifa demo clinic (front_desk.spec.ts uses Al-Noor) on a
// Mon–Sat day three weeks ahead, at tablet width.

test.use({ viewport: { width: 1024, height: 768 } });

/** A Mon–Sat clinic day (Pakistan time) `ahead` days or more from now. */
function clinicDayAhead(ahead: number): string {
  const d = new Date(Date.now() + 5 * 3600 * 1000);
  d.setUTCDate(d.getUTCDate() + ahead);
  while (d.getUTCDay() === 0) d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

async function pickFirstOption(page: Page, label: string) {
  const select = page.getByLabel(label, { exact: true });
  await select.focus();
  await page.keyboard.press('ArrowDown');
  await expect(select).not.toHaveValue('');
}

/** No sideways scrolling at this width. */
async function fitsWidth(page: Page) {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBeLessThanOrEqual(1);
}

test('leave refuses a booking until withdrawn; reschedule; day sheet; report', async ({ page }) => {
  const day = clinicDayAhead(21);
  await signIn(page, 'shifa', 'operator');
  await page.goto('/appointments');
  await page.waitForLoadState('networkidle');
  const patientBox = page.getByLabel('Patient (MR number or name)');
  await expect(patientBox).toBeEnabled(); // interactive once hydrated

  // The hours form loads the doctor's current hours (set here to differ
  // from the form's defaults): weekdays, from, to, slot minutes and fee.
  const doctors = await (await page.request.post('/api/appointments/doctors', { form: {} })).json();
  const saved = await page.request.post('/api/appointments/hours', {
    form: { doctor: doctors[0].id, weekdays: '1,2,3,4,5,6', starts: '10:00', ends: '14:00', slot_minutes: '20', fee: '1200' },
  });
  expect(saved.status()).toBe(200);
  await page.getByText("Doctor's weekly hours", { exact: true }).focus();
  await page.keyboard.press('Enter');
  await pickFirstOption(page, 'Doctor for hours');
  await expect(page.getByText("These are the doctor's current hours.")).toBeVisible();
  await expect(page.getByLabel('From', { exact: true })).toHaveValue('10:00');
  await expect(page.getByLabel('To', { exact: true })).toHaveValue('14:00');
  await expect(page.getByLabel('Slot minutes')).toHaveValue('20');
  await expect(page.getByLabel('Fee (PKR, optional)')).toHaveValue('1200');
  await expect(page.getByLabel('Sat')).toBeChecked();
  await expect(page.getByLabel('Sun')).not.toBeChecked();
  await page.getByText("Doctor's weekly hours", { exact: true }).press('Enter'); // closed again

  // The booking panel: patient, doctor, the day, a free slot.
  await patientBox.focus();
  await page.keyboard.type('MR-000021');
  await expect(page.getByRole('button', { name: /^Choose .*\(MR-000021\)$/ })).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(page.getByText(/Patient: .*\(MR-000021\)/)).toBeVisible();
  await pickFirstOption(page, 'Doctor');
  await page.getByLabel('Date', { exact: true }).fill(day);
  const bookSlots = page.locator('.book-panel').getByRole('group', { name: 'Slots' });
  const free = bookSlots.locator('button:not([disabled])');
  await expect(free.first()).toBeVisible();
  const slot = (await free.first().textContent())!.trim();
  await free.first().focus();
  await page.keyboard.press('Enter');
  await expect(page.getByText(`Slot: ${slot}`)).toBeVisible();

  // Meanwhile the doctor's leave on that day is entered (keyboard only).
  const leave = page.getByRole('region', { name: 'Leave and holidays' });
  await pickFirstOption(page, 'Doctor on leave');
  await page.getByLabel('First day').fill(day);
  await page.getByLabel('Reason', { exact: true }).focus();
  await page.keyboard.type('Annual leave');
  await page.keyboard.press('Enter');
  await expect(leave.getByRole('status')).toContainText('Added');
  const item = leave.getByRole('listitem').filter({ hasText: day }).filter({ hasText: 'Annual leave' });
  await expect(item).toBeVisible();
  await expect(page.locator('.book-panel')).toContainText('No slots on this day');

  // Booking the slot chosen before is refused with the reason.
  await page.getByRole('button', { name: 'Book', exact: true }).focus();
  await page.keyboard.press('Enter');
  const refused = page.locator('.book-panel').getByRole('alert');
  await expect(refused).toContainText('is away on');
  await expect(refused).toContainText('Annual leave');

  // Withdraw it, after a confirmation: the day books again.
  await item.getByRole('button', { name: /^Withdraw: / }).first().focus();
  await page.keyboard.press('Enter');
  const confirm = item.getByRole('button', { name: 'Confirm withdraw' });
  await expect(item.getByRole('group', { name: 'Confirm withdrawing' })).toContainText('bookable again');
  await expect(confirm).toBeFocused(); // Enter again confirms
  await page.keyboard.press('Enter');
  await expect(leave.getByRole('status')).toContainText('Withdrawn');
  await expect(item).toHaveCount(0);
  await expect(free.first()).toBeVisible();
  await page.getByRole('button', { name: 'Book', exact: true }).focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('.book-panel').getByRole('status').filter({ hasText: 'Booked' })).toContainText(`at ${slot}`);

  // Reschedule it from the day list.
  await page.getByLabel('Day', { exact: true }).fill(day);
  const table = page.getByRole('table', { name: 'Appointments of the day' });
  const row = table.getByRole('row').filter({ hasText: 'MR-000021' }).filter({ hasText: slot });
  await expect(row).toBeVisible();
  await row.getByRole('button', { name: /^Reschedule: / }).focus();
  await page.keyboard.press('Enter');
  const form = page.getByRole('form', { name: /^Reschedule .*\(MR-000021\)$/ });
  await expect(form).toBeVisible();
  const moveFree = form.getByRole('group', { name: 'Slots' }).locator('button:not([disabled])');
  await expect(moveFree.first()).toBeVisible();
  const target = (await moveFree.first().textContent())!.trim();
  await moveFree.first().focus();
  await page.keyboard.press('Enter');
  await expect(form.getByText(`New slot: ${target}`)).toBeVisible();

  // Another desk books that very slot first: a clear conflict, form kept.
  const doctorId = await page.getByLabel('Doctor', { exact: true }).inputValue();
  const other = await (await page.request.post('/api/patients/list', { form: { query: 'MR-000022', page: '0' } })).json();
  const open = await (await page.request.post('/api/appointments/slots', { form: { doctor: doctorId, day } })).json();
  const at = open.find((s: { time: string }) => s.time === target);
  const taken = await page.request.post('/api/appointments/book', {
    form: { patient: other.patients[0].id, doctor: doctorId, starts_at: at.starts_at },
  });
  expect(taken.status()).toBe(200);
  await form.getByRole('button', { name: 'Move here' }).focus();
  await page.keyboard.press('Enter');
  const conflict = form.getByRole('alert');
  await expect(conflict).toContainText('already has');
  await expect(conflict).toContainText(other.patients[0].full_name);
  await expect(form.getByText(`New slot: ${target}`)).toBeVisible();

  // Pick the next free one: moved.
  await expect(form.getByRole('group', { name: 'Slots' }).getByRole('button', { name: `${target} (taken)` })).toBeDisabled();
  const next = (await moveFree.first().textContent())!.trim();
  await moveFree.first().focus();
  await page.keyboard.press('Enter');
  await form.getByRole('button', { name: 'Move here' }).focus();
  await page.keyboard.press('Enter');
  await expect(form).toHaveCount(0);
  const moved = table.getByRole('row').filter({ hasText: 'MR-000021' }).filter({ hasText: next });
  await expect(moved).toBeVisible();

  // The patient does not come.
  await moved.getByRole('button', { name: /^No-show: / }).focus();
  await page.keyboard.press('Enter');
  await expect(table.getByRole('row').filter({ hasText: 'MR-000021' }).filter({ hasText: next })).toContainText('no-show');
  await fitsWidth(page);

  // The day sheet of that day lists the no-show; Print opens the dialog.
  await page.getByRole('link', { name: 'Day sheet' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Day sheet', level: 1 })).toBeVisible();
  await page.waitForLoadState('networkidle');
  await page.getByLabel('Day', { exact: true }).fill(day);
  await expect(page.getByText(`Day sheet — ${day}`)).toBeVisible();
  const sheet = page.getByRole('table', { name: /^Day sheet of / });
  await expect(sheet.getByRole('row').filter({ hasText: 'MR-000021' })).toContainText(next);
  await expect(sheet.getByRole('row').filter({ hasText: 'MR-000022' })).toContainText(target);
  await expect(page.getByRole('list', { name: 'No-shows of the day' })).toContainText('MR-000021');
  await fitsWidth(page);
  await page.evaluate(() => {
    (window as unknown as { printed: number }).printed = 0;
    window.print = () => {
      (window as unknown as { printed: number }).printed += 1;
    };
  });
  await page.getByRole('button', { name: 'Print' }).focus();
  await page.keyboard.press('Enter');
  expect(await page.evaluate(() => (window as unknown as { printed: number }).printed)).toBe(1);
  // Printed, the controls and navigation are hidden.
  await page.emulateMedia({ media: 'print' });
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeHidden();
  await expect(page.getByLabel('Day', { exact: true })).toBeHidden();
  await expect(sheet).toBeVisible();
  await page.emulateMedia({ media: 'screen' });

  // The report for that day counts the no-show for the doctor.
  await page.goto('/appointments/report');
  await page.waitForLoadState('networkidle');
  await expect(page.getByRole('heading', { name: 'Patients seen', level: 1 })).toBeVisible();
  await page.getByLabel('From').fill(day);
  await page.getByLabel('To', { exact: true }).fill(day);
  await page.getByRole('button', { name: 'Show' }).focus();
  await page.keyboard.press('Enter');
  const report = page.getByRole('table', { name: `Patients seen ${day} to ${day}` });
  await expect(report).toBeVisible();
  const line = report.getByRole('row').filter({ hasText: day });
  await expect(line).toHaveCount(1);
  const noShows = Number((await line.getByRole('cell').nth(3).textContent())!.trim());
  expect(noShows).toBeGreaterThanOrEqual(1);
});

test('the queue opens on the signed-in doctor; pages fit a portrait tablet', async ({ page }) => {
  await page.setViewportSize({ width: 800, height: 1280 });
  await signIn(page, 'shifa', 'doctor');
  await page.goto('/appointments/queue');
  await page.waitForLoadState('networkidle');
  const me = await (await page.request.post('/api/appointments/doctors', { form: {} })).json();
  const mine = me.find((d: { me: boolean }) => d.me);
  expect(mine).toBeTruthy();
  await expect(page.getByLabel('Doctor', { exact: true })).toHaveValue(mine.id);
  await fitsWidth(page);
  for (const path of ['/appointments', '/appointments/day', '/appointments/report']) {
    await page.goto(path);
    await page.waitForLoadState('networkidle');
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await fitsWidth(page);
  }
});
