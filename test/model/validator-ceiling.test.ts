import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimWorld } from '../../sim/world.js';
import { WorldModel } from '../../src/model/world-model.js';
import { loadProfile } from '../../src/profile/load.js';
import { oraclePlan } from '../../sim/oracle-plan.js';
import { validateDraft } from '../../src/validate/validate-draft.js';
import { MODEL_DIR } from './fixtures.js';

/**
 * The validator against the tokenizer's own drawing of true plans: the oracle's steps, each keyframe
 * the VQ reconstruction of the true next state, drawn against the picture before it as the onnx
 * planner draws. A perfect transformer could do no better, so every issue here would be a false alarm.
 * Seeds are held-out ones where the checks once raised false alarms: bottle-teal gripper smears on the
 * shirt (object_appeared), and a stray gripper-coloured speck vanishing (arm_mismatch).
 */
describe('validator on true plans drawn by the committed tokenizer', () => {
  let model: WorldModel;
  beforeAll(async () => {
    model = await WorldModel.open({ dir: MODEL_DIR, threads: 1 });
  });
  afterAll(async () => {
    await model.close();
  });

  it.each([
    ['aloha-agilex', 'tshirt', 'fold the t-shirt', [100000, 100007, 100011]],
    ['agibot-g1', 'table', 'clear the table', [100005, 100009]],
  ] as const)('%s %s: no issue in seeds %j', async (robot, scene, task, seeds) => {
    const profile = loadProfile(robot);
    for (const seed of seeds) {
      const plan = await oraclePlan(new SimWorld({ profile, scene, task, seed, missRate: 0 }));
      let previous = await model.encodePicture(plan.observation);
      for (const step of plan.draft.steps) {
        const drawn = await model.decodePicture(await model.encodeImage(step.keyframe as Uint8Array), previous);
        step.keyframe = await model.toPng(drawn.rgb);
        previous = drawn;
      }
      const result = await validateDraft({ plan: plan.draft, robot: profile, observation: plan.observation });
      expect(result.issues.map((i) => `${seed}: ${i.message}`)).toEqual([]);
    }
  }, 60_000);
});
