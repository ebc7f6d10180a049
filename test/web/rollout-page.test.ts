import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, launchChromium, newRunsDir, ServeProcess } from './browser.js';

/*
 * The rollout page in Debian's Chromium against `keystep serve` in its own process: the rollout is
 * started from the page's form and runs against the keystep sim the service starts.
 */

let browser: Browser;
let api: ServeProcess;

beforeAll(async () => {
  browser = await launchChromium();
  api = new ServeProcess(await freePort(), newRunsDir());
  await api.start();
});
afterAll(async () => {
  await browser?.close();
  await api?.kill();
});

describe('rollout page, in Chromium', () => {
  it('starts a 5-episode oracle rollout from the form and shows 5/5 done, the success rate with its interval, a bar per episode and every sheet', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => console.error('page error:', e));
    await page.goto(`${api.base}/ui/#/`);
    // What is typed in the runs form stays through the list's polls (each one renders the page again).
    const runForm = page.getByRole('form', { name: 'start a run' });
    await runForm.getByLabel('task').fill('clear the table');
    for (let i = 0; i < 2; i++) await page.waitForResponse((r) => r.url().endsWith('/v1/runs'));
    await page.waitForTimeout(50);
    expect(await runForm.getByLabel('task').inputValue()).toBe('clear the table');
    await page.getByRole('link', { name: 'Start a rollout' }).click();

    const form = page.getByRole('form', { name: 'start a rollout' });
    await form.getByLabel('scene').selectOption('tshirt');
    await form.getByLabel('task').fill('fold the t-shirt');
    await form.getByLabel('episodes').fill('5');
    await form.getByLabel('seed').fill('0');
    await form.getByLabel('miss rate').fill('0.15');
    await form.getByLabel('backend').selectOption('oracle');
    await form.getByRole('button', { name: 'Start rollout' }).click();

    await page.waitForURL(/#\/rollouts\/rollout-[\w-]+$/);
    const id = decodeURIComponent(page.url().split('#/rollouts/')[1]!);
    await expect.poll(() => page.getByTestId('rollout-progress').textContent(), { timeout: 120_000 }).toBe('5/5 episodes done');
    await expect.poll(() => page.getByTestId('rollout-state').textContent()).toBe('finished');

    // The page's figures are the service's: 5 of 5 (the oracle replans past every miss), and
    // Wilson's 95 % interval for 5 / 5 is 0.566-1.
    const status = await api.request('GET', `/v1/rollouts/${id}`);
    expect(status.json.progress).toEqual({ done: 5, episodes: 5, successes: 5 });
    expect(await page.getByTestId('success-rate').textContent()).toBe('5/5 succeeded: 100 % (95 % CI 57–100 %, Wilson)');
    expect(await page.getByTestId('failure-reasons').textContent()).toBe('None: every episode succeeded.');

    // One green bar per episode, as tall as its steps done.
    const bars = await page.locator('[data-testid=steps-chart] [data-testid=bar]').evaluateAll((els) =>
      els.map((e) => ({ value: Number(e.getAttribute('data-value')), height: Number(e.getAttribute('height')), ok: e.classList.contains('ok') })),
    );
    const doneSteps = status.json.episodes.map((e: { doneSteps: number }) => e.doneSteps);
    expect(bars.map((b) => b.value)).toEqual(doneSteps);
    expect(bars.every((b) => b.ok && b.height > 0)).toBe(true);
    const tallest = Math.max(...doneSteps);
    for (const b of bars) expect(b.height / bars.find((t) => t.value === tallest)!.height).toBeCloseTo(b.value / tallest, 5);
    // Missed steps are stacked on the bars of the episodes that had them.
    const missed = await page.locator('[data-testid=steps-chart] g').evaluateAll((gs) => gs.map((g) => Number(g.querySelector('[data-testid=bar-missed]')?.getAttribute('data-value') ?? 0)));
    expect(missed).toEqual(status.json.episodes.map((e: { misses: number }) => e.misses));

    // Every episode's contact sheet loads (lazy images load once scrolled to).
    const sheets = page.locator('[data-testid=episode] img');
    expect(await sheets.count()).toBe(5);
    for (const img of await sheets.all()) await img.scrollIntoViewIfNeeded();
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('[data-testid=episode] img')].every((i) => i.complete && i.naturalWidth > 0), undefined, { timeout: 10_000 });
    const widths = await sheets.evaluateAll((imgs) => (imgs as HTMLImageElement[]).map((i) => i.naturalWidth));
    expect(widths.every((w) => w > 100)).toBe(true);

    // The rollouts page lists it, finished, and its link leads back to it.
    await page.goto(`${api.base}/ui/#/rollouts`);
    const row = page.locator(`tr[data-rollout="${id}"]`);
    await expect.poll(() => row.getByTestId('rollout-state').textContent()).toBe('finished');
    expect(await row.textContent()).toContain('5/5 done');
    await row.getByRole('link').click();
    await expect.poll(() => page.getByTestId('rollout-id').textContent()).toBe(id);
    await page.close();
  });

  it('refuses a bad form with the field the service names, and leaves the page where it was', async () => {
    const page = await browser.newPage();
    await page.goto(`${api.base}/ui/#/rollouts`);
    const form = page.getByRole('form', { name: 'start a rollout' });
    await form.getByLabel('scene').selectOption('table');
    await form.getByLabel('task').fill('fold the t-shirt');
    await form.getByRole('button', { name: 'Start rollout' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toMatch(/body\.task: .*fold the t-shirt/);
    expect(page.url()).toMatch(/#\/rollouts$/);
    await page.close();
  });
});
