import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load.js';
import { SimWorld } from '../../sim/world.js';
import { freePort, launchChromium, newRunsDir, ServeProcess } from './browser.js';

/*
 * The plan preview in Debian's Chromium against `keystep serve` with its embedded model: the page
 * sends the picture to /v1/plans/stream and draws each DiDA pass as it comes.
 */

let browser: Browser;
let api: ServeProcess;
let picture: string;

beforeAll(async () => {
  browser = await launchChromium();
  const runsDir = newRunsDir();
  api = new ServeProcess(await freePort(), runsDir);
  await api.start();
  picture = join(runsDir, 'observation.png');
  writeFileSync(picture, await new SimWorld({ profile: loadProfile('aloha-agilex'), scene: 'tshirt', task: 'fold the t-shirt', seed: 100_003, missRate: 0 }).observe());
});
afterAll(async () => {
  await browser?.close();
  await api?.kill();
});

/** What the test saw added to the page, in order, with the DOM mutation batch it came in. */
interface Added {
  kind: 'pass' | 'keyframe';
  step: number;
  draw: number;
  pass: number;
  filled: number;
  batch: number;
}

describe('plan preview, in Chromium', () => {
  it("draws a keyframe's DiDA passes one by one, each before the kept keyframe, which is its draw's last pass", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => console.error('page error:', e));
    await page.goto(`${api.base}/ui/#/plan`);
    // Watch the page itself: every pass and keyframe figure as it is added, and in which batch of changes.
    await page.evaluate(() => {
      const added: unknown[] = [];
      let batch = 0;
      (window as unknown as { added: unknown[] }).added = added;
      new MutationObserver((records) => {
        batch++;
        for (const r of records) {
          for (const node of r.addedNodes) {
            if (!(node instanceof HTMLElement)) continue;
            for (const f of [node, ...node.querySelectorAll<HTMLElement>('figure')]) {
              const kind = f.dataset.testid === 'pass' ? 'pass' : f.dataset.testid === 'preview-keyframe' ? 'keyframe' : null;
              if (kind) added.push({ kind, step: Number(f.dataset.step), draw: Number(f.dataset.draw ?? -1), pass: Number(f.dataset.pass ?? -1), filled: Number(f.dataset.filled ?? -1), batch });
            }
          }
        }
      }).observe(document.body, { childList: true, subtree: true });
    });

    const form = page.getByRole('form', { name: 'preview a plan' });
    await form.getByLabel('scene').selectOption('tshirt');
    await form.getByLabel('observation').setInputFiles(picture);
    await form.getByLabel('DiDA passes').fill('4');
    await form.getByRole('button', { name: 'Draw plan' }).click();
    await expect.poll(() => page.getByTestId('preview-status').textContent(), { timeout: 200_000 }).toMatch(/^plan ready: \d+ steps/);

    const added = await page.evaluate(() => (window as unknown as { added: Added[] }).added);
    const steps = await page.getByTestId('preview-step').count();
    expect(steps).toBeGreaterThan(0);
    for (let step = 0; step < steps; step++) {
      const passes = added.filter((a) => a.kind === 'pass' && a.step === step);
      const kept = added.findIndex((a) => a.kind === 'keyframe' && a.step === step);
      // Four passes a draw, every one shown before the kept keyframe, in more than one go.
      expect(passes.length).toBeGreaterThanOrEqual(4);
      expect(kept).toBeGreaterThan(added.lastIndexOf(passes.at(-1)!));
      expect(new Set(passes.map((p) => p.batch)).size).toBeGreaterThan(1);
      const firstDraw = passes.filter((p) => p.draw === 0);
      expect(firstDraw.map((p) => p.pass)).toEqual([0, 1, 2, 3]);
      const filled = firstDraw.map((p) => p.filled);
      expect(filled).toEqual([...filled].sort((a, b) => a - b));
      expect(filled[0]).toBeLessThan(filled[3]!);
    }

    // Every picture decodes; each kept keyframe is the last pass of one of its draws.
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('[data-testid=pass] img, [data-testid=preview-keyframe] img')].every((i) => i.complete && i.naturalWidth > 0));
    for (let step = 0; step < steps; step++) {
      const row = page.locator(`[data-testid=preview-step][data-step="${step}"]`);
      const keyframe = await row.locator('[data-testid=preview-keyframe] img').getAttribute('src');
      const lastPasses = await row.locator('[data-testid=pass][data-pass="3"] img').evaluateAll((imgs) => imgs.map((i) => i.getAttribute('src')));
      expect(lastPasses).toContain(keyframe);
    }
    console.log(`plan preview: ${await page.getByTestId('preview-status').textContent()}; ${added.filter((a) => a.kind === 'pass').length} pass pictures in ${new Set(added.map((a) => a.batch)).size} DOM updates`);
    await page.close();
  }, 240_000);

  it('refuses a picture too large for the stream before sending it, saying what to do', async () => {
    const page = await browser.newPage();
    await page.goto(`${api.base}/ui/#/plan`);
    const form = page.getByRole('form', { name: 'preview a plan' });
    await form.getByLabel('observation').setInputFiles({ name: 'big.png', mimeType: 'image/png', buffer: Buffer.alloc(80 * 1024, 7) });
    await form.getByRole('button', { name: 'Draw plan' }).click();
    await expect.poll(() => page.getByTestId('preview-status').textContent()).toBe('big.png is 80 KiB: the plan stream takes a request of at most 64 KiB, so use a smaller picture (POST /v1/plans takes larger ones)');
    await page.close();
  });
});
