import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import type { Planner } from '../../src/planner/planner.js';
import { loadProfile } from '../../src/profile/load.js';
import { runTask } from '../../src/run/session.js';
import { SimRobot } from '../../sim/robot-node.js';

const robots: SimRobot[] = [];
afterEach(async () => {
  await Promise.all(robots.splice(0).map((r) => r.close()));
});

/** A planner whose first `bad` drafts have a blank keyframe at step 0, as a broken model might draw. */
function corrupting(planner: Planner, bad: number): Planner & { drafts: number } {
  const wrapped = {
    name: planner.name,
    drafts: 0,
    async plan(request: Parameters<Planner['plan']>[0]) {
      const draft = await planner.plan(request);
      wrapped.drafts++;
      if (wrapped.drafts > bad || draft.steps.length === 0) return draft;
      const blank = new Uint8Array(await sharp({ create: { width: 640, height: 480, channels: 3, background: '#808080' } }).png().toBuffer());
      return { ...draft, steps: draft.steps.map((s, i) => (i === 0 ? { ...s, keyframe: blank } : s)) };
    },
  };
  return wrapped;
}

describe('validation inside the executor, with the real validator', () => {
  it('sends a plan rejected twice back to the planner and runs the fixed one to success', async () => {
    const profile = loadProfile('aloha-agilex');
    const robot = await SimRobot.start({ profile, scene: 'tshirt', task: 'fold the t-shirt', seed: 4, missRate: 0, port: 0 });
    robots.push(robot);
    let planner: ReturnType<typeof corrupting> | undefined;
    const { report } = await runTask({
      url: robot.url,
      profile,
      task: 'fold the t-shirt',
      scene: 'tshirt',
      backend: 'oracle',
      runId: 'rejected-twice',
      runsDir: mkdtempSync(join(tmpdir(), 'keystep-valid-')),
      wrapPlanner: (p) => (planner = corrupting(p, 2)),
    });
    expect(planner!.drafts).toBe(3);
    expect(report.outcome).toBe('succeeded');
    expect(robot.world.isGoal()).toBe(true);
    expect(report.issues.filter((i) => i.code === 'keyframe_blank').map((i) => i.version)).toEqual([1, 2]);
  });

  it('fails a run whose plans never validate, with the issues in the report and nothing sent', async () => {
    const profile = loadProfile('agibot-g1');
    const robot = await SimRobot.start({ profile, scene: 'table', task: 'clear the table', seed: 4, missRate: 0, port: 0 });
    robots.push(robot);
    const { report } = await runTask({
      url: robot.url,
      profile,
      task: 'clear the table',
      scene: 'table',
      backend: 'oracle',
      runId: 'never-valid',
      runsDir: mkdtempSync(join(tmpdir(), 'keystep-valid-')),
      wrapPlanner: (p) => corrupting(p, Number.POSITIVE_INFINITY),
    });
    expect(report.outcome).toBe('failed');
    expect(report.reason).toMatch(/valid/i);
    expect(report.issues.some((i) => i.code === 'keyframe_blank' && i.severity === 'error' && i.step === 0)).toBe(true);
    expect(report.steps).toEqual([]);
    expect(robot.world.history).toEqual([]);
  });
});
