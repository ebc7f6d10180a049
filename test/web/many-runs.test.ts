import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess } from '../helpers/cli.js';
import { freePort, launchChromium, newRunsDir, ServeProcess } from './browser.js';

/*
 * Ten live runs through one `keystep serve`, each against its own `keystep sim` process: all succeed,
 * nothing leaks from one run into another (a step sent to the wrong robot, a lease held by the wrong
 * run), and Debian's Chromium watches the runs list and one run's page while they go.
 */

const RUNS = [
  ...[1, 2, 3, 4, 5].map((seed) => ({ robot: 'aloha-agilex', scene: 'tshirt', task: 'fold the t-shirt', seed, runId: `live-tshirt-${seed}` })),
  ...[11, 12, 13, 14, 15].map((seed) => ({ robot: 'agibot-g1', scene: 'table', task: 'clear the table', seed, runId: `live-table-${seed}` })),
];

interface Sent {
  stepId: string;
  instruction: string;
}

/** What a sim's log says it executed: `[sim] step <run>/<index>/<attempt> "<instruction>": <status>`. */
function executed(simStdout: string): Sent[] {
  return [...simStdout.matchAll(/^\[sim\] step (\S+) "(.*)": \w+/gm)].map((m) => ({ stepId: m[1]!, instruction: m[2]! }));
}

/** What a run's log says it sent: every first dispatch of a step id (a redispatch is the same step again). */
function dispatched(eventsJsonl: string): Sent[] {
  return eventsJsonl
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; stepId?: string; instruction?: string; redispatch?: boolean })
    .filter((e) => e.type === 'step_dispatched' && !e.redispatch)
    .map((e) => ({ stepId: e.stepId!, instruction: e.instruction! }));
}

let browser: Browser;
let api: ServeProcess;
const sims: CliProcess[] = [];
let runsDir: string;

beforeAll(async () => {
  browser = await launchChromium();
  runsDir = newRunsDir();
  api = new ServeProcess(await freePort(), runsDir);
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
    const sentTexts = new Set(log.filter((e) => e.type === 'step_dispatched').map((e) => (e as unknown as { instruction: string }).instruction));
    const done = await page.locator('[data-testid=step][data-state=done]').allTextContents();
    expect(done.length).toBeGreaterThan(0);
    for (const step of done) expect([...sentTexts].some((i) => step.includes(i)), step).toBe(true);
    await page.close();

    // The robots' side: stop the sims so their logs are whole, then hold each against its run's log.
    for (const s of sims) s.interrupt();
    await Promise.all(sims.map((s) => s.exited));
    RUNS.forEach((r, i) => {
      const sent = dispatched(readFileSync(join(runsDir, r.runId, 'events.jsonl'), 'utf8'));
      const got = executed(sims[i]!.stdout);
      expect(sent.length, r.runId).toBeGreaterThanOrEqual(r.scene === 'tshirt' ? 7 : 12);
      // The same steps, texts and order: nothing of another run arrived, nothing of this one went elsewhere.
      expect(got, `${r.runId}: what sim ${urls[i]} executed`).toEqual(sent);
      expect(got.every((s) => s.stepId.startsWith(`${r.runId}/`))).toBe(true);
      // The robot's lease was held by this run alone.
      const holders = [...sims[i]!.stdout.matchAll(/lease: held by run (\S+)/g)].map((m) => m[1]);
      expect(new Set(holders), r.runId).toEqual(new Set([r.runId]));
    });
  }, 300_000);
});
