import { defineConfig } from 'vitest/config';
import LongestFirst from './test/sequencer.js';

// Two cores, three files at once: the socket, process and browser suites spend much of their time
// waiting, so a third file keeps both cores busy.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The web view is built once for every browser suite (test/global-setup.ts).
    globalSetup: ['./test/global-setup.ts'],
    sequence: { sequencer: LongestFirst },
    pool: 'forks',
    maxWorkers: 3,
    // Files share a worker's module cache instead of importing sharp, onnxruntime, fastify and the
    // scenes again for each of ~80 files: that import was about a third of the suite's CPU. Suites keep
    // no module-level state between files (each starts its own processes, servers and folders), and
    // the one that fakes timers restores them after each test.
    isolate: false,
    reporters: ['default', './test/summary-reporter.ts'],
    // expect.poll waits 1 s by default: too short for a page's first paint while ten simulators
    // start beside it on two cores. A poll whose condition never comes still fails, 10 s later.
    expect: { poll: { timeout: 10_000 } },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
