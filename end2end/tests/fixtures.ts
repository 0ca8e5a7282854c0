import { test as base, expect, Page } from '@playwright/test';
import { readFileSync } from 'node:fs';

export type Login = { clinic_code: string; username: string; password: string; roles: string[]; display_name: string };

export function logins(): Login[] {
  const path = process.env.HEALIPRO_LOGINS;
  if (!path) throw new Error('HEALIPRO_LOGINS is not set: run through `cargo xtask test`');
  return JSON.parse(readFileSync(path, 'utf8'));
}

export function loginFor(clinic: string, username: string): Login {
  const l = logins().find((x) => x.clinic_code === clinic && x.username === username);
  if (!l) throw new Error(`no demo login ${clinic}/${username}`);
  return l;
}

export async function signIn(page: Page, clinic: string, username: string) {
  const l = loginFor(clinic, username);
  await page.goto('/login');
  await page.waitForLoadState('networkidle'); // hydration finished, or clicks race the WASM
  await page.getByLabel('Clinic code').fill(l.clinic_code);
  await page.getByLabel('Username').fill(l.username);
  await page.getByLabel('Password').fill(l.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/patients$/);
  await page.waitForLoadState('networkidle');
}

// Every page must run without console errors: a hydration mismatch or a panic in
// the WASM shows only there. Failed HTTP statuses we provoke on purpose (401, 404)
// are reported by Chromium as "Failed to load resource" and are allowed.
export const test = base.extend<{ consoleErrors: string[] }>({
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
      });
      await use(errors);
      expect(errors, 'console errors').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
