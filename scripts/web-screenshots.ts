// Screenshots of the web view for the README: a T-shirt run with a miss and its replan against
// keystep sim, its run page and its replay half-way. `npx tsx scripts/web-screenshots.ts`
import { join, resolve } from 'node:path';
import { loadProfile } from '../src/profile/load.js';
import { SimRobot } from '../sim/robot-node.js';
import { buildWeb, freePort, launchChromium, newRunsDir, ServeProcess } from '../test/web/browser.js';

const DOCS = resolve(import.meta.dirname, '..', 'docs');
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
  await page.screenshot({ path: join(DOCS, 'web-run.png'), fullPage: true });
  await page.goto(`${api.base}/ui/#/runs/fold-demo/replay`);
  await page.getByLabel('time').waitFor();
  const max = Number(await page.getByLabel('time').getAttribute('max'));
  await page.getByLabel('time').fill(String(Math.round(max * 0.45)));
  await page.waitForTimeout(300);
  await page.waitForFunction(() => [...document.images].every((i) => i.complete));
  await page.screenshot({ path: join(DOCS, 'web-replay.png'), fullPage: true });
  await page.goto(`${api.base}/ui/#/`);
  await page.locator('tr[data-run=fold-demo]').waitFor();
  await page.screenshot({ path: join(DOCS, 'web-runs.png') });
} finally {
  await browser.close();
  await api.kill();
  await robot.close();
}
