import { defineConfig } from 'vitest/config';

// Two cores, three files at once: the socket, process and browser suites spend much of their time
// waiting, so a third file keeps both cores busy.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 3,
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
