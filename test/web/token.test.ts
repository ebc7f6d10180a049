import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load.js';
import { SimRobot } from '../../sim/robot-node.js';
import { freePort, launchChromium, newRunsDir, ServeProcess } from './browser.js';

/*
 * The web view against `keystep serve --token-file` in Debian's Chromium: the page asks for the
 * token, and once it has it, fetches carry it as a header and the run's event WebSocket and images
 * as the cookie the service admits for reads.
 */

let browser: Browser;
let api: ServeProcess;
let robot: SimRobot;
const token = randomBytes(16).toString('hex');
const bearer = { authorization: `Bearer ${token}` };

beforeAll(async () => {
  browser = await launchChromium();
  const runsDir = newRunsDir();
  const file = join(runsDir, 'token');
  writeFileSync(file, `${token}\n`);
  // --log: every request is logged, so the test can check the token is not.
  api = new ServeProcess(await freePort(), runsDir, ['--token-file', file, '--log']);
  await api.start();
  robot = await SimRobot.start({ profile: loadProfile('aloha-agilex'), scene: 'tshirt', task: 'fold the t-shirt', seed: 3, missRate: 0, port: 0, stepMs: 150 });
});
afterAll(async () => {
  await browser?.close();
  await api?.kill();
  await robot?.close();
});

describe('web view with a token, in Chromium', () => {
  it('says it needs a token, refuses a wrong one, and with the right one lists the runs', async () => {
    expect((await api.request('GET', '/v1/runs')).status).toBe(401);
    const page = await browser.newPage();
    await page.goto(`${api.base}/ui/#/`);
    await expect.poll(() => page.getByTestId('token-needed').textContent()).toMatch(/^\s*This service was started with --token-file: every request must carry its token/);
    expect(await page.getByRole('heading', { name: 'This service needs a token' }).isVisible()).toBe(true);
    expect(await page.getByRole('table', { name: 'runs' }).count()).toBe(0);

    await page.getByRole('form', { name: 'give the token' }).getByLabel('token').fill('not-the-token-at-all');
    await page.getByRole('button', { name: 'Use token' }).click();
    await expect.poll(() => page.getByTestId('token-needed').textContent()).toMatch(/refused the token this page has/);

    await page.getByRole('form', { name: 'give the token' }).getByLabel('token').fill(token);
    await page.getByRole('button', { name: 'Use token' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Runs' }).count()).toBe(1);
    expect(await page.getByTestId('token-needed').count()).toBe(0);
    await page.close();
  });

  it('with ?token= on the address, the runs list loads, the token leaves the address bar, and a run page follows its event WebSocket to the end', async () => {
    const started = await api.request('POST', '/v1/runs', { robot: 'aloha-agilex', task: 'fold the t-shirt', rosbridge: robot.url, backend: 'oracle', runId: 'fold-token' }, bearer);
    expect(started.status).toBe(201);

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => console.error('page error:', e));
    await page.goto(`${api.base}/ui/?token=${token}#/`);
    await expect.poll(() => page.locator('tr[data-run=fold-token]').count()).toBe(1);
    expect(page.url()).toBe(`${api.base}/ui/#/`);

    await page.locator('tr[data-run=fold-token]').getByRole('link', { name: 'fold-token' }).click();
    await expect.poll(() => page.getByTestId('outcome').textContent(), { timeout: 60_000 }).toBe('SUCCEEDED');
    // The finished record shows first; the socket's close after it marks the log complete.
    await expect.poll(() => page.getByTestId('feed').textContent(), { timeout: 10_000 }).toBe('log complete');
    // Every record came over the WebSocket, which carried the token as the cookie.
    const log = (await (await fetch(`${api.base}/v1/runs/fold-token/events.jsonl`, { headers: bearer })).text()).trimEnd().split('\n');
    const shown = await page.evaluate(() => (window.keystepShown ?? []).map((s) => s.seq));
    expect(shown).toEqual(log.map((_, i) => i));
    // Images cannot send a header either: the keyframes load through the cookie.
    await page.waitForFunction(() => {
      const imgs = [...document.querySelectorAll<HTMLImageElement>('[data-testid=keyframe] img')];
      return imgs.length === 7 && imgs.every((i) => i.complete && i.naturalWidth > 0);
    });

    // A reload keeps the token; the service logged every request and never the token.
    await page.reload();
    await expect.poll(() => page.getByTestId('outcome').textContent()).toBe('SUCCEEDED');
    expect(api.output).toContain('/v1/runs/fold-token/events');
    expect(api.output).toContain('/ui/?token=[redacted]');
    expect(api.output).not.toContain(token);
    await page.close();
  });
});
