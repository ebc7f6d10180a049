import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DIR } from '../../src/model/spec.js';
import { loadProfile } from '../../src/profile/load.js';
import { SimRobot } from '../../sim/robot-node.js';
import { freePort, launchChromium, newRunsDir, ServeProcess } from './browser.js';

/*
 * The run page while the embedded model draws the run's plan, in Debian's Chromium against
 * `keystep serve` and a `keystep sim` robot: the keyframes fill in pass by pass from the run's
 * /drawing socket, then the plan's record brings the real ones. The service runs a copy of the
 * shipped model whose spec.json asks for 3 DiDA passes (the shipped one draws in 1), so each
 * keyframe has passes to show.
 */

function modelWithPasses(passes: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'keystep-model-passes-'));
  for (const f of readdirSync(DEFAULT_MODEL_DIR).filter((name) => name.endsWith('.onnx'))) copyFileSync(join(DEFAULT_MODEL_DIR, f), join(dir, f));
  const spec = JSON.parse(readFileSync(join(DEFAULT_MODEL_DIR, 'spec.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'spec.json'), JSON.stringify({ ...spec, decoding: { passes } }));
  return dir;
}

let browser: Browser;
let robot: SimRobot;
let api: ServeProcess;

beforeAll(async () => {
  browser = await launchChromium();
  robot = await SimRobot.start({ profile: loadProfile('aloha-agilex'), scene: 'tshirt', task: 'fold the t-shirt', seed: 3, missRate: 0, port: 0, stepMs: 60 });
  api = new ServeProcess(await freePort(), newRunsDir(), ['--model', modelWithPasses(3)]);
  await api.start();
});
afterAll(async () => {
  await browser?.close();
  await api?.kill();
  await robot?.close();
});

/** What the test saw added to the page, in order: a pass of a keyframe being drawn, or a keyframe of a logged plan. */
interface Added {
  kind: 'pass' | 'keyframe';
  step: number;
  draw: number;
  pass: number;
  caption: string;
}

describe('run page, while the model draws the plan', () => {
  it('fills the keyframe strip pass by pass before the plan is logged, then shows the plan\'s keyframes', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => console.error('page error:', e));
    await page.goto(`${api.base}/`);
    // Watch the page itself: every figure added, in order, for the whole life of the page (the hash route keeps it).
    await page.evaluate(() => {
      const added: unknown[] = [];
      (window as unknown as { added: unknown[] }).added = added;
      new MutationObserver((records) => {
        for (const r of records) {
          for (const node of r.addedNodes) {
            if (!(node instanceof HTMLElement)) continue;
            for (const f of [node, ...node.querySelectorAll<HTMLElement>('figure')]) {
              const kind = f.dataset.testid === 'drawing-pass' ? 'pass' : f.dataset.testid === 'keyframe' ? 'keyframe' : null;
              if (kind) added.push({ kind, step: Number(f.dataset.step ?? -1), draw: Number(f.dataset.draw ?? -1), pass: Number(f.dataset.pass ?? -1), caption: f.querySelector('figcaption')?.textContent ?? '' });
            }
          }
        }
      }).observe(document.body, { childList: true, subtree: true });
    });

    await page.getByLabel('rosbridge URL').fill(robot.url);
    await page.getByLabel('backend').selectOption('onnx');
    await page.getByLabel('autonomy').selectOption('approve-plan');
    await page.getByLabel('run id').fill('fold-drawn');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/#\/runs\/fold-drawn$/);
    // The drawing comes before the approval wait: once the run waits, its plan is logged.
    await expect.poll(() => page.getByTestId('executor').textContent(), { timeout: 200_000 }).toBe('waiting for approval of plan v1');

    const added = await page.evaluate(() => (window as unknown as { added: Added[] }).added);
    const firstKeyframe = added.findIndex((a) => a.kind === 'keyframe');
    expect(firstKeyframe).toBeGreaterThan(0);
    const before = added.slice(0, firstKeyframe).filter((a) => a.kind === 'pass');
    const perKeyframe = new Map<string, Added[]>();
    for (const p of before) perKeyframe.set(`${p.step}/${p.draw}`, [...(perKeyframe.get(`${p.step}/${p.draw}`) ?? []), p]);
    // More than one pass picture of one keyframe was on the page before the plan's record came.
    const most = Math.max(...[...perKeyframe.values()].map((ps) => new Set(ps.map((p) => p.pass)).size));
    expect(most).toBeGreaterThan(1);
    for (const p of before) expect(p.caption).toMatch(/^(draw \d+ · )?drawing: pass \d+ of \d+( · kept)?$/);
    // Passes of one keyframe came in order.
    for (const ps of perKeyframe.values()) expect(ps.map((p) => p.pass)).toEqual([...ps.map((p) => p.pass)].sort((a, b) => a - b));
    // Nothing of the drawing came after the plan's record.
    expect(added.slice(firstKeyframe).some((a) => a.kind === 'pass')).toBe(false);

    // The strip now shows the plan's keyframes, from the run's files, and nothing being drawn.
    expect(await page.getByTestId('drawing').count()).toBe(0);
    expect(await page.getByTestId('drawing-pass').count()).toBe(0);
    const steps = await page.getByTestId('step').count();
    expect(steps).toBeGreaterThan(0);
    expect(await page.getByTestId('keyframe').count()).toBe(steps);
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('[data-testid=keyframe] img')].every((i) => i.complete && i.naturalWidth > 0));
    const sources = await page.locator('[data-testid=keyframe] img').evaluateAll((imgs) => imgs.map((i) => i.getAttribute('src') ?? ''));
    expect(sources.every((s) => /\/v1\/runs\/fold-drawn\/files\/plan-v1-step-\d+\.png$/.test(s))).toBe(true);

    // The event socket carried the log's records and nothing else: every record once, in order.
    const log = (await (await fetch(`${api.base}/v1/runs/fold-drawn/events.jsonl`)).text()).trimEnd().split('\n');
    const shown = await page.evaluate(() => (window.keystepShown ?? []).map((s) => ({ seq: s.seq, type: s.type })));
    expect(shown).toEqual(log.map((line, seq) => ({ seq, type: (JSON.parse(line) as { type: string }).type })));
    console.log(`run drawing: ${before.length} pass pictures of ${perKeyframe.size} keyframes before plan v1's record (${steps} steps)`);

    await page.locator('[data-control=abort]').click();
    await expect.poll(() => page.getByTestId('outcome').textContent(), { timeout: 30_000 }).toBe('ABORTED');
    await page.close();
  }, 240_000);
});
