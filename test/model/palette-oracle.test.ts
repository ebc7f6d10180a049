import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { keyframeSizeOf, rgbToPng, toModelRgb } from '../../src/model/image-io.js';
import { decodePalette, encodePalette } from '../../src/model/palette.js';
import { redrawThroughPalette, rendererPalette } from '../../src/model/palette-oracle.js';
import type { PlanDraft, Planner } from '../../src/planner/planner.js';
import { loadProfile } from '../../src/profile/load.js';
import { runTask } from '../../src/run/session.js';
import { oraclePlan } from '../../sim/oracle-plan.js';
import { SimRobot } from '../../sim/robot-node.js';
import { SimWorld } from '../../sim/world.js';

describe('oracle-pal: the oracle plan drawn through the palette codec', () => {
  const robots: SimRobot[] = [];
  afterEach(async () => {
    await Promise.all(robots.splice(0).map((r) => r.close()));
  });

  it('draws every keyframe as its palette-snapped 128x128 picture, at the keyframe camera\'s size', async () => {
    const profile = loadProfile('agibot-g1');
    const world = new SimWorld({ profile, scene: 'table', task: 'clear the table', seed: 100_001, missRate: 0 });
    const observation = new Uint8Array(await world.observe());
    const { draft } = await oraclePlan(world);
    const codec = rendererPalette();
    const size = keyframeSizeOf(profile);
    const redrawn = await redrawThroughPalette(codec, draft, observation, size);
    expect(redrawn.steps.map((s) => s.instruction)).toEqual(draft.steps.map((s) => s.instruction));
    for (const [i, step] of redrawn.steps.entries()) {
      const { width, height } = await sharp(step.keyframe).metadata();
      expect([width, height]).toEqual([640, 480]);
      // The codec is exact, so copying the cells the step keeps changes nothing: each keyframe is its own snap.
      const snapped = await rgbToPng(decodePalette(encodePalette(await toModelRgb(draft.steps[i]!.keyframe), codec), codec), size);
      expect(Buffer.from(step.keyframe).equals(snapped)).toBe(true);
    }
  });

  it('runs a T-shirt task over rosbridge as backend oracle-pal, the robot acting on the drawn keyframes', async () => {
    const profile = loadProfile('aloha-agilex');
    const robot = await SimRobot.start({ profile, scene: 'tshirt', task: 'fold the t-shirt', seed: 100_003, missRate: 0, port: 0, stepMs: 0 });
    robots.push(robot);
    const drafts: PlanDraft[] = [];
    const record = (planner: Planner): Planner => ({
      name: planner.name,
      plan: async (request) => {
        const draft = await planner.plan(request);
        drafts.push(draft);
        return draft;
      },
    });
    const { report } = await runTask({
      url: robot.url,
      profile,
      task: 'fold the t-shirt',
      scene: 'tshirt',
      backend: 'oracle-pal',
      runId: 'oracle-pal',
      runsDir: mkdtempSync(join(tmpdir(), 'keystep-oracle-pal-')),
      wrapPlanner: record,
    });
    expect(report.outcome).toBe('succeeded');
    expect(robot.world.isGoal()).toBe(true);
    expect(drafts[0]!.backend).toBe('oracle-pal');
    const { width } = await sharp(drafts[0]!.steps[0]!.keyframe).metadata();
    expect(width).toBe(640);
  }, 60_000);
});
