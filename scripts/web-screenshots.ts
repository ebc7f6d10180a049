// Screenshots of the web view for the README: a T-shirt run with a miss and its replan against
// keystep sim, its run page and its replay half-way; a 10-episode rollout started from its form;
// a plan preview with its DiDA passes. `npx tsx scripts/web-screenshots.ts`
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { SimWorld } from '../sim/world.js';
import { loadProfile } from '../src/profile/load.js';
import { SimRobot } from '../sim/robot-node.js';
import buildWeb from '../test/global-setup.js';
import { freePort, launchChromium, newRunsDir, ServeProcess } from '../test/web/browser.js';

const DOCS = resolve(import.meta.dirname, '..', 'docs');

/** docs/<name>, as a 256-colour PNG: a page is flat colours and small pictures, and README's images stay under 300 KB. */
async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  const png = await page.screenshot({ fullPage });
  await sharp(png).png({ palette: true, colours: 256, dither: 0, compressionLevel: 9, effort: 10 }).toFile(join(DOCS, name));
}
buildWeb();
const robot = await SimRobot.start({ profile: loadProfile('aloha-agilex'), scene: 'tshirt', task: 'fold the t-shirt', seed: 3, missRate: 0.3, port: 0, stepMs: 60 });
const api = new ServeProcess(await freePort(), newRunsDir());
await api.start();
const browser = await launchChromium();
try {
  await api.request('POST', '/v1/runs', { robot: 'aloha-agilex', task: 'fold the t-shirt', rosbridge: robot.url, backend: 'oracle', runId: 'fold-demo' });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await page.goto(`${api.base}/ui/#/runs/fold-demo`);
  await page.getByTestId('outcome').filter({ hasText: 'SUCCEEDED' }).waitFor({ timeout: 60_000 });
  await page.getByRole('tab').first().click();
  await page.waitForFunction(() => [...document.images].every((i) => i.complete));
  await shot(page, 'web-run.png');
  await page.goto(`${api.base}/ui/#/runs/fold-demo/replay`);
  await page.getByLabel('time').waitFor();
  // Half-way through the records (the first plan takes a good part of the time): a step in flight, one missed.
  const log = (await (await fetch(`${api.base}/v1/runs/fold-demo/events.jsonl`)).text()).trimEnd().split('\n').map((l) => JSON.parse(l) as { at: number });
  await page.getByLabel('time').fill(String(log[Math.floor(log.length * 0.55)]!.at - log[0]!.at));
  await page.waitForTimeout(300);
  await page.waitForFunction(() => [...document.images].every((i) => i.complete));
  await shot(page, 'web-replay.png');
  await page.goto(`${api.base}/ui/#/`);
  await page.locator('tr[data-run=fold-demo]').waitFor();
  await shot(page, 'web-runs.png', false);

  // A rollout, from the form the runs list links to.
  await page.getByRole('link', { name: 'Start a rollout' }).click();
  const form = page.getByRole('form', { name: 'start a rollout' });
  await form.getByLabel('episodes').fill('10');
  await form.getByLabel('seed').fill('100000');
  await form.getByLabel('miss rate').fill('0.3');
  await form.getByLabel('backend').selectOption('oracle');
  await form.getByRole('button', { name: 'Start rollout' }).click();
  await page.getByTestId('rollout-state').filter({ hasText: 'finished' }).waitFor({ timeout: 300_000 });
  for (const img of await page.locator('[data-testid=episode] img').all()) await img.scrollIntoViewIfNeeded();
  await page.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0));
  await page.evaluate(() => scrollTo(0, 0));
  await shot(page, 'web-rollout.png');

  // A plan preview: the embedded model's plan for a T-shirt picture, four DiDA passes a keyframe.
  const picture = join(api.runsDir, 'observation.png');
  writeFileSync(picture, await new SimWorld({ profile: loadProfile('aloha-agilex'), scene: 'tshirt', task: 'fold the t-shirt', seed: 100_003, missRate: 0 }).observe());
  await page.goto(`${api.base}/ui/#/plan`);
  const preview = page.getByRole('form', { name: 'preview a plan' });
  await preview.getByLabel('scene').selectOption('tshirt');
  await preview.getByLabel('observation').setInputFiles(picture);
  await preview.getByLabel('DiDA passes').fill('4');
  await preview.getByRole('button', { name: 'Draw plan' }).click();
  await page.getByTestId('preview-status').filter({ hasText: /^plan ready/ }).waitFor({ timeout: 300_000 });
  await page.waitForFunction(() => [...document.images].every((i) => i.complete));
  await shot(page, 'web-plan.png');
} finally {
  await browser.close();
  await api.kill();
  await robot.close();
}
