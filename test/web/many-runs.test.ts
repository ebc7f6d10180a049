import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess } from '../helpers/cli.js';
import { buildWeb, freePort, launchChromium, newRunsDir, ServeProcess } from './browser.js';

/*
 * Ten live runs in the web view: ten oracle runs started through the API, each against its own
 * `keystep sim` process, one `keystep serve`, Debian's Chromium watching the runs list and one run.
 */

const RUNS = [
  ...[1, 2, 3, 4, 5].map((seed) => ({ robot: 'aloha-agilex', scene: 'tshirt', task: 'fold the t-shirt', seed, runId: `live-tshirt-${seed}` })),
  ...[11, 12, 13, 14, 15].map((seed) => ({ robot: 'agibot-g1', scene: 'table', task: 'clear the table', seed, runId: `live-table-${seed}` })),
];

let browser: Browser;
let api: ServeProcess;
const sims: CliProcess[] = [];

beforeAll(async () => {
  buildWeb();
  browser = await launchChromium();
  api = new ServeProcess(await freePort(), newRunsDir());
  await api.start();
});
afterAll(async () => {
  await browser?.close();
  await api?.kill();
  for (const s of sims) if (s.child.exitCode === null && s.child.signalCode === null) s.interrupt();
  await Promise.all(sims.map((s) => s.exited));
});

describe('ten live runs in the web view, in Chromium', () => {
  it('the runs list shows all ten and follows them to SUCCEEDED; a run page shows that run alone', async () => {
    for (const r of RUNS) {
      sims.push(new CliProcess(['sim', '--robot', r.robot, '--scene', r.scene, '--seed', String(r.seed), '--miss-rate', '0.15', '--step-ms', '150', '--camera-hz', '1', '--port', '0']));
    }
    const urls = await Promise.all(
      sims.map(async (s) => {
        await s.waitFor(/rosbridge (ws:\/\/\S+)/);
        return /rosbridge (ws:\/\/\S+)/.exec(s.stdout)![1]!;
      }),
    );
    const list = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    list.on('pageerror', (e) => console.error('page error:', e));
    await list.goto(`${api.base}/ui/#/`);
    await expect.poll(() => list.getByText('No runs yet.').count()).toBe(1);

    const t0 = performance.now();
    const started = await Promise.all(RUNS.map((r, i) => api.request('POST', '/v1/runs', { robot: r.robot, task: r.task, rosbridge: urls[i], backend: 'oracle', runId: r.runId, seed: r.seed })));
    expect(started.map((s) => s.status)).toEqual(RUNS.map(() => 201));

    // The list, as the page shows it, sampled until every run reads succeeded.
    const statesOf = () => list.locator('tr[data-run]').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-run'), r.querySelector('[data-testid=run-state]')?.textContent ?? '']));
    const seen: string[][][] = [];
    await expect
      .poll(
        async () => {
          const states = await statesOf();
          seen.push(states as string[][]);
          return states.length === RUNS.length && states.every(([, s]) => s === 'succeeded');
        },
        { timeout: 200_000, interval: 250 },
      )
      .toBe(true);
    console.log(`10 live runs: all succeeded on the runs list ${Math.round(performance.now() - t0)} ms after they were started (${seen.length} samples)`);
    expect((await statesOf()).map(([id]) => id).sort()).toEqual(RUNS.map((r) => r.runId).sort());
    // The list changed while the page stayed open: runs were shown running before they succeeded.
    expect(seen.some((states) => states.some(([, s]) => s === 'running'))).toBe(true);
    await list.close();

    // One run's page: its own records, steps and pictures, and no word of the other nine.
    const one = RUNS[2]!;
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${api.base}/ui/#/runs/${one.runId}`);
    await expect.poll(() => page.getByTestId('outcome').textContent(), { timeout: 30_000 }).toBe('SUCCEEDED');
    const log = (await (await fetch(`${api.base}/v1/runs/${one.runId}/events.jsonl`)).text())
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; type: string; runId?: string });
    const shown = await page.evaluate(() => (window.keystepShown ?? []).map((s) => [s.seq, s.type]));
    expect(shown).toEqual(log.map((e) => [e.seq, e.type]));
    const text = (await page.locator('main').textContent()) ?? '';
    for (const other of RUNS.filter((r) => r !== one)) expect(text, other.runId).not.toMatch(new RegExp(`\\b${other.runId}\\b`));
    const pictures = await page.locator('main img').evaluateAll((imgs) => imgs.map((i) => i.getAttribute('src') ?? ''));
    expect(pictures.length).toBeGreaterThan(0);
    for (const src of pictures) expect(src.startsWith(`/v1/runs/${one.runId}/files/`), src).toBe(true);
    // The steps of the plan it ended on are ones its own log dispatched.
    const dispatched = new Set(log.filter((e) => e.type === 'step_dispatched').map((e) => (e as unknown as { instruction: string }).instruction));
    const done = await page.locator('[data-testid=step][data-state=done]').allTextContents();
    expect(done.length).toBeGreaterThan(0);
    for (const step of done) expect([...dispatched].some((i) => step.includes(i)), step).toBe(true);
    await page.close();
  }, 300_000);
});
