import { test as base, expect, Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';

export type Login = {
  clinic_code: string;
  username: string;
  password: string;
  roles: string[];
  display_name: string;
  totp_secret?: string | null;
};

function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of text.replace(/=+$/, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 TOTP (SHA-1, 6 digits) for a 30-second time step. */
export function totpAt(secret: string, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  return ((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).toString().padStart(6, '0');
}

// The server accepts each time step once per user (no replay). Tests sign in
// as the same user more than once, so use the next step (±1 is accepted) or
// wait for a fresh one. (One worker: this map sees every sign-in.)
const lastStep = new Map<string, number>();
async function freshCode(l: Login): Promise<string> {
  const key = `${l.clinic_code}/${l.username}`;
  for (;;) {
    const now = Math.floor(Date.now() / 1000 / 30);
    const used = lastStep.get(key) ?? -1;
    const step = used < now ? now : used < now + 1 ? now + 1 : -1;
    if (step >= 0) {
      lastStep.set(key, step);
      return totpAt(l.totp_secret!, step);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

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
  if (l.totp_secret) {
    await expect(page).toHaveURL(/\/signin\/code$/);
    await page.waitForLoadState('networkidle');
    await page.getByLabel('Authenticator code').fill(await freshCode(l));
    await page.getByRole('button', { name: 'Continue' }).click();
  }
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
