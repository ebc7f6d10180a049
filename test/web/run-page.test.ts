import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load.js';
import { percentile } from '../../src/run/stats.js';
import { SimRobot } from '../../sim/robot-node.js';
import { freePort, launchChromium, newRunsDir, ServeProcess } from './browser.js';

/*
 * The web view in a real browser (Debian's Chromium through playwright-core) against `keystep serve`
 * running in its own process and `keystep sim` robots. Assertions are on what the page shows.
 */

let browser: Browser;
const robots: SimRobot[] = [];
const services: ServeProcess[] = [];

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.kill()));
  await Promise.all(robots.splice(0).map((r) => r.close()));
});

async function simRobot(seed: number, missRate: number, stepMs: number): Promise<SimRobot> {
  const robot = await SimRobot.start({ profile: loadProfile('aloha-agilex'), scene: 'tshirt', task: 'fold the t-shirt', seed, missRate, port: 0, stepMs });
  robots.push(robot);
  return robot;
}

async function serve(): Promise<ServeProcess> {
  const s = new ServeProcess(await freePort(), newRunsDir());
  services.push(s);
  await s.start();
  return s;
}

async function openPage(url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(url);
  return page;
}

/** The delay from each log record's `at` to the render that showed it, as the page recorded it, over the whole run. */
function latency(shown: { seq: number; at?: number; shownAt: number }[]) {
  const delays = shown.filter((s) => s.at !== undefined).map((s) => s.shownAt - s.at!);
  return { n: delays.length, p50: percentile(delays, 50), p95: percentile(delays, 95), max: Math.max(...delays) };
}

const SUCCEEDED = { timeout: 60_000 };

describe('web view, in Chromium', () => {
  it('starts a T-shirt run from the form and shows it to SUCCEEDED with every step done and its keyframes', async () => {
    const robot = await simRobot(3, 0, 120);
    const api = await serve();
    const page = await openPage(`${api.base}/`);

    await page.getByLabel('rosbridge URL').fill(robot.url);
    await page.getByLabel('backend').selectOption('oracle');
    await page.getByLabel('run id').fill('fold-ok');
    await page.getByRole('button', { name: 'Start run' }).click();

    await page.waitForURL(/#\/runs\/fold-ok$/);
    await expect.poll(() => page.getByTestId('outcome').textContent(), SUCCEEDED).toBe('SUCCEEDED');
    expect(await page.getByTestId('executor').textContent()).toBe('finished: succeeded');

    const states = await page.getByTestId('step').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
    expect(states).toHaveLength(7);
    expect(states.every((s) => s === 'done')).toBe(true);
    expect(await page.getByRole('tab').count()).toBe(1);
    expect(await page.getByTestId('validation').textContent()).toContain('accepted');

    // Every keyframe image loaded, at the camera's size, and the verdict under each says done.
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('[data-testid=keyframe] img, [data-testid=observation]')].every((i) => i.complete && i.naturalWidth > 0));
    const sizes = await page.locator('[data-testid=keyframe] img').evaluateAll((imgs) => (imgs as HTMLImageElement[]).map((i) => [i.naturalWidth, i.naturalHeight]));
    const observation = await page.getByTestId('observation').evaluate((i) => [(i as HTMLImageElement).naturalWidth, (i as HTMLImageElement).naturalHeight]);
    expect(sizes).toHaveLength(7);
    expect(observation[0]).toBeGreaterThan(0);
    for (const size of sizes) expect(size).toEqual(observation);
    const verdicts = await page.locator('[data-testid=keyframe] figcaption').allTextContents();
    expect(verdicts.every((v) => v.startsWith('done · d='))).toBe(true);
    // Nothing is left to reach: beside the latest observation, the last keyframe the robot reached.
    expect(await page.locator('figure:has([data-testid=last-keyframe]) figcaption').textContent()).toMatch(/^last keyframe reached: plan v1 step 6 — \S/);
    // The operator's buttons: abort was offered while it ran; now the run is over, all are off.
    expect(await page.locator('[data-control=abort]').isDisabled()).toBe(true);

    // Each record of the log reached the page once, in order; how long each took is printed.
    const log = (await (await fetch(`${api.base}/v1/runs/fold-ok/events.jsonl`)).text()).trimEnd().split('\n');
    const shown = await page.evaluate(() => window.keystepShown ?? []);
    expect(shown.map((s) => s.seq)).toEqual(log.map((_, i) => i));
    const l = latency(shown);
    console.log(`web view: log record -> on the page, over ${l.n} records: p50 ${l.p50} ms, p95 ${l.p95} ms, max ${l.max} ms`);

    // The runs list shows it, and its replay plays the log back with a time slider.
    await page.goto(`${api.base}/ui/#/`);
    await expect.poll(() => page.locator('tr[data-run=fold-ok] [data-testid=run-state]').textContent()).toBe('succeeded');
    await page.locator('tr[data-run=fold-ok]').getByRole('link', { name: 'replay' }).click();
    await expect.poll(() => page.getByTestId('outcome').textContent()).toBe('SUCCEEDED');
    const slider = page.getByLabel('time');
    await slider.fill('0');
    await expect.poll(() => page.getByTestId('outcome').textContent()).toBe('RUNNING');
    expect(await page.getByTestId('replay-time').textContent()).toMatch(/^0\.00 s \/ [\d.]+ s · 1\/\d+ records$/);
    expect(await page.getByTestId('step').count()).toBe(0);
    await page.close();
  });

  it('shows a missed step with its reason, and the replan it triggered as a new plan version', async () => {
    const robot = await simRobot(3, 0.3, 60);
    const api = await serve();
    const started = await api.request('POST', '/v1/runs', { robot: 'aloha-agilex', task: 'fold the t-shirt', rosbridge: robot.url, backend: 'oracle', runId: 'fold-miss' });
    expect(started.status).toBe(201);
    const page = await openPage(`${api.base}/ui/#/runs/fold-miss`);
    await expect.poll(() => page.getByTestId('outcome').textContent(), SUCCEEDED).toBe('SUCCEEDED');

    const replans = await page.getByTestId('replan').allTextContents();
    expect(replans.length).toBeGreaterThan(0);
    expect(replans[0]).toMatch(/^replan 1\/\d+ after step \d+ miss: slip: /);
    expect(await page.getByTestId('replan-count').textContent()).toBe(String(replans.length));
    expect(await page.getByRole('tab').count()).toBeGreaterThan(1);

    // The first plan's tab: the step that missed says so, with the robot's reason.
    await page.getByRole('tab').first().click();
    const missed = page.locator('[data-testid=step][data-state=missed]');
    expect(await missed.count()).toBeGreaterThan(0);
    expect(await missed.first().textContent()).toMatch(/missed .* — miss: slip: the \w+ gripper closed on nothing/);
    expect(await page.locator('[data-testid=keyframe][data-state=missed] figcaption').first().textContent()).toMatch(/^miss( · d=[\d.]+)?$/);
    // Keyboard: arrow keys move between plan versions.
    await page.getByRole('tab').first().focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.getByRole('tab', { selected: true }).textContent()).toMatch(/v2/);
    await page.close();
  });

  it('approve-plan: the robot receives nothing until Approve is pressed (from the keyboard)', async () => {
    const robot = await simRobot(3, 0, 60);
    const api = await serve();
    const page = await openPage(`${api.base}/ui/#/`);
    await page.getByLabel('rosbridge URL').fill(robot.url);
    await page.getByLabel('backend').selectOption('oracle');
    await page.getByLabel('autonomy').selectOption('approve-plan');
    await page.getByLabel('run id').fill('fold-approve');
    await page.getByRole('button', { name: 'Start run' }).click();

    await expect.poll(() => page.getByTestId('approval').textContent(), { timeout: 30_000 }).toMatch(/^\s*Waiting for approval of plan v1: tidy the collar/);
    expect(await page.getByTestId('executor').textContent()).toBe('waiting for approval of plan v1');
    await expect.poll(() => page.locator('[data-control=approve]').isEnabled()).toBe(true);
    expect(await page.locator('[data-control=reject]').isEnabled()).toBe(true);
    // Still nothing on the robot a while later, and every step waits.
    await new Promise((r) => setTimeout(r, 500));
    expect(robot.world.history).toEqual([]);
    const waiting = await page.getByTestId('step').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
    expect(waiting.length).toBeGreaterThan(0);
    expect(waiting.every((s) => s === 'waiting')).toBe(true);

    await page.locator('body').press('a');
    await expect.poll(() => page.getByTestId('outcome').textContent(), SUCCEEDED).toBe('SUCCEEDED');
    expect(await page.getByTestId('approval').count()).toBe(0);
    expect(robot.world.history.length).toBe(7);
    await page.close();
  });

  it('catches up without a reload when the service is killed mid-run and started again, and the run is resumed from the page', async () => {
    const robot = await simRobot(4, 0, 200);
    const api = await serve();
    expect((await api.request('POST', '/v1/runs', { robot: 'aloha-agilex', task: 'fold the t-shirt', rosbridge: robot.url, backend: 'oracle', runId: 'fold-restart' })).status).toBe(201);
    const page = await openPage(`${api.base}/ui/#/runs/fold-restart`);
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    await expect.poll(() => page.locator('[data-testid=step][data-state=done]').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);

    await api.kill();
    await expect.poll(() => page.getByTestId('feed').textContent()).toMatch(/^reconnecting \(from seq \d+\)/);
    await api.start();
    // The new service finds the run interrupted; the page says so and offers to resume it.
    await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 15_000 }).toBe('interrupted');
    await page.getByRole('form', { name: 'resume the interrupted run' }).getByLabel('rosbridge URL').fill(robot.url);
    await page.getByRole('button', { name: 'Resume run' }).click();
    await expect.poll(() => page.getByTestId('outcome').textContent(), SUCCEEDED).toBe('SUCCEEDED');

    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    const log = (await (await fetch(`${api.base}/v1/runs/fold-restart/events.jsonl`)).text()).trimEnd().split('\n');
    expect(log.some((l) => l.includes('"run_resumed"'))).toBe(true);
    // Every record, before and after the restart, reached the page exactly once.
    const shown = await page.evaluate(() => (window.keystepShown ?? []).map((s) => s.seq));
    expect(shown).toEqual(log.map((_, i) => i));
    const states = await page.getByTestId('step').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
    expect(states.every((s) => s === 'done')).toBe(true);
    await page.close();
  });
});
