import { defineConfig, devices } from '@playwright/test';

// `cargo xtask test` starts the server and passes its URL and the seeded logins.
// The server speaks HTTPS only (TLS 1.3), with xtask's self-signed development
// certificate: the `__Host-` session cookie is Secure.
const baseURL = process.env.HEALIPRO_URL ?? 'https://127.0.0.1:3000';

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL,
    ignoreHTTPSErrors: true, // the self-signed development certificate
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      // Debian's Chromium; never `npx playwright install` (no downloads here).
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    },
  },
  projects: [
    { name: 'desktop', use: { ...devices['Desktop Chrome'], channel: undefined } },
  ],
});
