import { test, expect, signIn } from './fixtures';

// The demo doctors see patients Mon–Sat 09:00–13:00 (core/src/demo.rs). Book
// on the next such day in Pakistan time, so the slots are in the future.
function nextClinicDay(): string {
  const d = new Date(Date.now() + 5 * 3600 * 1000);
  do d.setUTCDate(d.getUTCDate() + 1);
  while (d.getUTCDay() === 0);
  return d.toISOString().slice(0, 10);
}

test('the operator books with the keyboard, gets a walk-in token, sees the queue and a conflict', async ({ page }) => {
  await signIn(page, 'alnoor', 'operator');
  await page.goto('/appointments');
  await page.waitForLoadState('networkidle');
  await expect(page.getByRole('heading', { name: 'Appointments', level: 1 })).toBeVisible();
  const day = nextClinicDay();
  const patientBox = page.getByLabel('Patient (MR number or name)');
  await expect(patientBox).toBeEnabled(); // interactive once hydrated

  // The desk may set a doctor's weekly hours: saving the demo hours again
  // (Mon–Sat 09:00–13:00, 15-minute slots) changes nothing else.
  await page.getByText("Doctor's weekly hours", { exact: true }).focus();
  await page.keyboard.press('Enter');
  const hoursDoctor = page.getByLabel('Doctor for hours');
  await hoursDoctor.focus();
  await page.keyboard.press('ArrowDown');
  await expect(hoursDoctor).not.toHaveValue('');
  await expect(page.getByLabel('Sat')).toBeChecked();
  await expect(page.getByLabel('Sun')).not.toBeChecked();
  await page.getByRole('button', { name: 'Save hours' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('status').filter({ hasText: 'Hours saved' })).toBeVisible();

  // Patient: type the MR number, Enter chooses the first match.
  await patientBox.focus();
  await page.keyboard.type('MR-000042');
  await expect(page.getByRole('button', { name: /^Choose .*\(MR-000042\)$/ })).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(page.getByText(/Patient: .*\(MR-000042\)/)).toBeVisible();

  // Doctor and date.
  const doctorPick = page.getByLabel('Doctor', { exact: true });
  await doctorPick.focus();
  await page.keyboard.press('ArrowDown');
  await expect(doctorPick).not.toHaveValue('');
  await page.getByLabel('Date', { exact: true }).fill(day);

  // Slot: into the group, arrow to the second free slot, Enter picks it.
  const slots = page.getByRole('group', { name: 'Slots' });
  const free = slots.locator('button:not([disabled])');
  await expect(free.first()).toBeVisible();
  const second = (await free.nth(1).textContent())!.trim();
  await free.first().focus();
  await page.keyboard.press('ArrowRight');
  await expect(free.nth(1)).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByText(`Slot: ${second}`)).toBeVisible();

  // Book with Enter.
  await page.getByRole('button', { name: 'Book', exact: true }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('status').filter({ hasText: `Booked` })).toContainText(`at ${second}`);
  await expect(slots.getByRole('button', { name: `${second} (taken)` })).toBeDisabled();

  // Another desk takes the next slot while this one is still choosing it.
  const third = (await free.nth(1).textContent())!.trim();
  await free.nth(1).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByText(`Slot: ${third}`)).toBeVisible();
  const doctorId = await doctorPick.inputValue();
  const other = await (await page.request.post('/api/patients/list', { form: { query: 'MR-000043', page: '0' } })).json();
  const otherPatient = other.patients[0];
  const open = await (await page.request.post('/api/appointments/slots', { form: { doctor: doctorId, day } })).json();
  const slot = open.find((s: { time: string }) => s.time === third);
  const taken = await page.request.post('/api/appointments/book', {
    form: { patient: otherPatient.id, doctor: doctorId, starts_at: slot.starts_at },
  });
  expect(taken.status()).toBe(200);
  await page.getByRole('button', { name: 'Book', exact: true }).focus();
  await page.keyboard.press('Enter');
  const conflict = page.getByRole('alert').filter({ hasText: 'already has' });
  await expect(conflict).toContainText(otherPatient.full_name);
  await expect(conflict).toContainText('Choose another slot');
  // The form kept its input.
  await expect(page.getByText(/Patient: .*\(MR-000042\)/)).toBeVisible();

  // A walk-in today: the token shows big.
  await patientBox.focus();
  await patientBox.fill('');
  await page.keyboard.type('MR-000044');
  await expect(page.getByRole('button', { name: /^Choose .*\(MR-000044\)$/ })).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(page.getByText(/Patient: .*\(MR-000044\)/)).toBeVisible();
  await page.getByRole('button', { name: 'Walk-in', exact: true }).focus();
  await page.keyboard.press('Enter');
  const issued = page.locator('.token-issued');
  await expect(issued).toContainText(/Token \d+: .*\(MR-000044\)/);
  const token = (await issued.locator('.token-big').textContent())!.trim();

  // Today's list shows the walk-in, and so does the doctor's queue.
  await expect(page.getByRole('table', { name: 'Appointments of the day' })).toContainText('MR-000044');
  await page.getByRole('link', { name: "Today's queue" }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: "Today's queue" })).toBeVisible();
  const queue = page.getByRole('list', { name: 'Queue by token' });
  await expect(queue.getByRole('listitem').filter({ hasText: 'MR-000044' })).toContainText(token);
  await expect(queue.getByRole('listitem').filter({ hasText: 'MR-000044' })).toContainText('arrived');

  // Call next: the lowest waiting token goes in.
  await page.getByRole('button', { name: 'Call next' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('status').filter({ hasText: 'please come in' })).toBeVisible();
});
