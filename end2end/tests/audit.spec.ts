import { test, expect, signIn, loginFor } from './fixtures';
import type { Page } from '@playwright/test';
import { readFileSync } from 'node:fs';

// The audit log (issue 7): "who opened patient X" answered in the demo, each
// entry's details decrypted, the record's own access history for audit roles
// only, and the admin's signed export.

/** Opens the first patient of the list; returns the record's URL, id and MR number. */
async function openFirstPatient(page: Page) {
  await page.goto('/patients');
  await page.waitForLoadState('networkidle');
  await page.getByRole('table').getByRole('link').first().click();
  await expect(page).toHaveURL(/\/patients\/[0-9a-f-]{36}$/);
  const article = page.getByRole('article');
  await expect(article).toBeVisible();
  const mr = (await article.locator('dt:text-is("MR number") + dd').textContent())!.trim();
  expect(mr).toMatch(/^MR-\d+$/);
  const name = (await page.getByRole('heading', { level: 1 }).textContent())!.trim();
  await page.waitForLoadState('networkidle');
  return { url: page.url(), id: page.url().split('/').pop()!, mr, name };
}

async function openAuditLog(page: Page) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  await expect(page.getByRole('heading', { name: 'Audit log', level: 1 })).toBeVisible();
  await expect(page.getByRole('table', { name: 'Audit entries' })).toBeVisible();
  await page.waitForLoadState('networkidle');
}

async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(page).toHaveURL(/\/login$/);
}

test('the admin finds who opened a patient, with workstation, address and decrypted details', async ({ page }) => {
  test.setTimeout(120_000);
  const admin = loginFor('alnoor', 'admin');

  // Bind this browser to a workstation; the next sign-in works from it.
  await signIn(page, 'alnoor', 'admin');
  await page.goto('/admin');
  await page.waitForLoadState('networkidle');
  await page.getByRole('button', { name: 'Bind this browser to Front desk PC' }).click();
  await expect(page.getByRole('row').filter({ hasText: 'Front desk PC' })).toContainText('Yes');
  await signOut(page);
  await signIn(page, 'alnoor', 'admin');

  const patient = await openFirstPatient(page);
  // The record lists who accessed it — this very visit included.
  const history = page.getByRole('region', { name: 'Who accessed this record' });
  await expect(history).toBeVisible();
  await expect(history.getByRole('row').filter({ hasText: 'patient.opened' }).first()).toContainText(admin.display_name);

  // The audit log, filtered by the MR number as typed (lower case).
  await openAuditLog(page);
  const filters = page.getByRole('search', { name: 'Audit log filters' });
  await filters.getByLabel('Patient MR number').fill(patient.mr.toLowerCase());
  await filters.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByText(`Entries about patient ${patient.mr} (${patient.name}).`)).toBeVisible();
  const entries = page.getByRole('table', { name: 'Audit entries' });
  const opened = entries.getByRole('row').filter({ hasText: 'patient.opened' }).filter({ hasText: admin.display_name }).first();
  await expect(opened).toContainText('Front desk PC');
  await expect(opened).toContainText('127.0.0.1');
  await expect(opened).toContainText(patient.mr);
  // Every entry shown is about this patient.
  const rows = entries.locator('tbody tr.entry');
  const count = await rows.count();
  expect(count).toBeGreaterThan(0);
  for (let i = 0; i < count; i++) await expect(rows.nth(i)).toContainText(patient.mr);

  // Expanding an entry shows all of it.
  const toggle = opened.getByRole('button', { name: /^Details of entry \d+$/ });
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  const details = page.locator(`#${await toggle.getAttribute('aria-controls')}`);
  await expect(details).toBeVisible();
  await expect(details).toContainText('admin');
  await expect(details).toContainText(patient.id);
  await expect(details).toContainText('None recorded.');

  // Details are decrypted: the admin's own patient searches record the query.
  await filters.getByRole('button', { name: 'Clear filters' }).click();
  await filters.getByLabel('Person', { exact: true }).selectOption({ label: `${admin.display_name} (admin)` });
  await filters.getByLabel('Action', { exact: true }).selectOption('patients.searched');
  await filters.getByRole('button', { name: 'Search' }).click();
  const searched = entries.getByRole('row').filter({ hasText: 'patients.searched' }).first();
  await expect(searched).toBeVisible();
  await expect(entries.locator('tbody tr.entry').filter({ hasNotText: 'patients.searched' })).toHaveCount(0);
  await searched.getByRole('button', { name: /^Details of entry/ }).click();
  const json = page.locator('tr.entry-details:not([hidden]) pre');
  await expect(json).toContainText('"kind"');
  await expect(json).toContainText('"results"');

  // Mistakes are explained.
  await filters.getByRole('button', { name: 'Clear filters' }).click();
  await filters.getByLabel('Patient MR number').fill('MR-999999');
  await filters.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'No patient with MR number “MR-999999” in this clinic' })).toBeVisible();
  await filters.getByLabel('Patient MR number').fill('');
  await filters.getByLabel('From', { exact: true }).fill('2026-03-02');
  await filters.getByLabel('To', { exact: true }).fill('2026-03-01');
  await filters.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByRole('alert').filter({ hasText: '“From” is after “to”' })).toBeVisible();

  // The record's link opens the log filtered to this patient.
  await page.goto(patient.url);
  await page.waitForLoadState('networkidle');
  await page.getByRole('link', { name: 'All audit entries about this patient' }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/audit\\?patient=${patient.id}$`));
  await expect(page.getByText(`Entries about patient ${patient.mr}`)).toBeVisible();
  await page.waitForLoadState('networkidle');
  await expect(page.getByLabel('Patient MR number')).toHaveValue(patient.mr);
});

test('the access history is for audit roles only; an auditor reads the log but cannot export', async ({ page }) => {
  test.setTimeout(90_000);
  await signIn(page, 'alnoor', 'operator');
  await openFirstPatient(page);
  await expect(page.getByRole('region', { name: 'Who accessed this record' })).toHaveCount(0);
  await expect(page.getByText('Who accessed this record')).toHaveCount(0);
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' })).toHaveCount(0);
  await signOut(page);

  await signIn(page, 'alnoor', 'doctor');
  await openFirstPatient(page);
  await expect(page.getByText('Who accessed this record')).toHaveCount(0);
  await signOut(page);

  await signIn(page, 'alnoor', 'auditor');
  const patient = await openFirstPatient(page);
  const history = page.getByRole('region', { name: 'Who accessed this record' });
  await expect(history).toBeVisible();
  await expect(history.getByRole('row').filter({ hasText: 'patient.opened' }).first()).toBeVisible();
  await openAuditLog(page);
  await expect(page.getByRole('table', { name: 'Audit entries' }).getByRole('row').filter({ hasText: patient.mr }).first()).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Export' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Download export' })).toHaveCount(0);
});

test('the admin downloads a signed JSON Lines export', async ({ page }) => {
  test.setTimeout(90_000);
  await signIn(page, 'alnoor', 'admin');
  await openAuditLog(page);
  const exportForm = page.getByRole('region', { name: 'Export' });
  await expect(exportForm.getByLabel('Export from')).toBeVisible();
  const downloading = page.waitForEvent('download');
  await exportForm.getByRole('button', { name: 'Download export' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('audit-alnoor-start-now.jsonl');
  const text = readFileSync((await download.path())!, 'utf8');
  const lines = text.split('\n').filter((l) => l.length > 0);
  const parsed = lines.map((l) => JSON.parse(l));
  expect(parsed.length).toBeGreaterThan(2);
  expect(parsed[0].format).toBe('healipro-audit-export/v1');
  expect(parsed[0].clinic_code).toBe('alnoor');
  expect(parsed.some((l) => l.action === 'patient.opened' || l.action === 'login.succeeded')).toBe(true);
  expect(parsed[parsed.length - 1].signature).toBeTruthy();
  await expect(exportForm.getByRole('status')).toContainText('Saved audit-alnoor-start-now.jsonl');

  // The export is itself in the log.
  const filters = page.getByRole('search', { name: 'Audit log filters' });
  await filters.getByLabel('Action', { exact: true }).selectOption('export.created');
  await filters.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByRole('table', { name: 'Audit entries' }).getByRole('row').filter({ hasText: 'export.created' }).first()).toBeVisible();
});

test('the audit log fits a 10-inch tablet, details open, without sideways scrolling', async ({ page }) => {
  await signIn(page, 'alnoor', 'auditor');
  await openAuditLog(page);
  const table = page.getByRole('table', { name: 'Audit entries' });
  await table.getByRole('button', { name: /^Details of entry/ }).first().click();
  await expect(page.locator('tr.entry-details:not([hidden])')).toBeVisible();
  for (const viewport of [{ width: 768, height: 1024 }, { width: 1024, height: 768 }]) {
    await page.setViewportSize(viewport);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, `page overflow at ${viewport.width}x${viewport.height}`).toBeLessThanOrEqual(0);
    const tableOverflow = await table.evaluate((t) => t.scrollWidth - t.parentElement!.clientWidth);
    expect(tableOverflow, `table overflow at ${viewport.width}x${viewport.height}`).toBeLessThanOrEqual(0);
    const box = (await table.getByRole('button', { name: /^Details of entry/ }).first().boundingBox())!;
    expect(box.height, 'touch target height').toBeGreaterThanOrEqual(44);
  }
});
