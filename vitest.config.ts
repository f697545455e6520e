import { defineConfig } from 'vitest/config';

// unit: pure logic, in parallel. integration: core against the real lab (SoftHSM2, pcscd with
// emulated cards, SQLite, the Secret Service), one file at a time because they share the lab.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/integration/lab-setup.ts'],
          setupFiles: ['tests/integration/lab-environment.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
