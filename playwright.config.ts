import { defineConfig } from '@playwright/test';

// End-to-end: the renderer in Debian's Chromium, wired to the real core and lab through the IPC
// contract (tests/lab/chromium-app.ts), plus the Electron spec that runs where the binary exists.
export default defineConfig({
  testDir: 'tests/e2e',
  testMatch: '**/*.spec.ts',
  workers: 1,
  fullyParallel: false,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['./tests/e2e/skip-reasons.ts']],
  globalSetup: './tests/e2e/global-setup.ts',
  outputDir: 'test-results',
});
