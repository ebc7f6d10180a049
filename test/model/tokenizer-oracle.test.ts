import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keyframeSizeOf } from '../../src/model/image-io.js';
import { redrawThroughTokenizer } from '../../src/model/tokenizer-oracle.js';
import { WorldModel } from '../../src/model/world-model.js';
import type { PlanDraft, Planner } from '../../src/planner/planner.js';
import { loadProfile } from '../../src/profile/load.js';
import { runTask } from '../../src/run/session.js';
import { oraclePlan } from '../../sim/oracle-plan.js';
import { SimRobot } from '../../sim/robot-node.js';
import { SimWorld } from '../../sim/world.js';
import { MODEL_DIR } from './fixtures.js';

describe('oracle-vq: the oracle plan drawn through the committed tokenizer', () => {
  let model: WorldModel;
  const robots: SimRobot[] = [];
  beforeAll(async () => {
    model = await WorldModel.open({ dir: MODEL_DIR, threads: 1 });
  });
  afterEach(async () => {
    await Promise.all(robots.splice(0).map((r) => r.close()));
  });
  afterAll(async () => {
    await model.close();
  });

  it('redraws every keyframe at the keyframe camera\'s size, each against the one before, the first against the observation', async () => {
    const world = new SimWorld({ profile: loadProfile('agibot-g1'), scene: 'table', task: 'clear the table', seed: 100_001, missRate: 0 });
    const observation = new Uint8Array(await world.observe());
    const { draft } = await oraclePlan(world);
    const size = keyframeSizeOf(loadProfile('agibot-g1'));
    const redrawn = await redrawThroughTokenizer(model, draft, observation, size);
    expect(redrawn.steps.map((s) => s.instruction)).toEqual(draft.steps.map((s) => s.instruction));
    for (const step of redrawn.steps) {
      const { width, height } = await sharp(step.keyframe).metadata();
      expect([width, height]).toEqual([640, 480]);
    }
    const start = await model.encodePicture(observation);
    const first = await model.decodePicture(await model.encodeImage(draft.steps[0]!.keyframe), start);
    expect(Buffer.from(redrawn.steps[0]!.keyframe).equals(await model.toPng(first.rgb, size))).toBe(true);
    // Chained: the second keyframe keeps the first redrawn keyframe's pixels, not the true state's.
    const second = await model.decodePicture(await model.encodeImage(draft.steps[1]!.keyframe), first);
    expect(Buffer.from(redrawn.steps[1]!.keyframe).equals(await model.toPng(second.rgb, size))).toBe(true);
  });

  it('runs a T-shirt task over rosbridge as backend oracle-vq, the robot acting on the redrawn keyframes', async () => {
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
      backend: 'oracle-vq',
      runId: 'oracle-vq',
      runsDir: mkdtempSync(join(tmpdir(), 'keystep-oracle-vq-')),
      modelOptions: { model },
      wrapPlanner: record,
    });
    expect(report.outcome).toBe('succeeded');
    expect(robot.world.isGoal()).toBe(true);
    expect(drafts[0]!.backend).toBe('oracle-vq');
    const { width } = await sharp(drafts[0]!.steps[0]!.keyframe).metadata();
    expect(width).toBe(640);
  }, 60_000);
});
