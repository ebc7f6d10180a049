import { describe, expect, it } from 'vitest';
import { oraclePlan } from '../../sim/oracle-plan.js';
import { Rng } from '../../src/util/rng.js';
import { missModelOf } from '../../sim/miss/index.js';
import { SIZE, TASK, errorsOf, likeModel, oracle, validate, world } from './helpers.js';
import type { SceneId } from '../../src/schema/task.js';

describe('oracle T-shirt plans validate clean', () => {
  for (const robot of ['aloha-agilex', 'agibot-g1']) {
    it(`${robot}: 25 seeds, zero errors`, async () => {
      const found: string[] = [];
      for (let seed = 200; seed < 225; seed++) {
        const p = await oracle(robot, 'tshirt', seed);
        const r = await validate(p.draft, p.world.profile, p.observation, TASK.tshirt);
        for (const i of errorsOf(r)) found.push(`seed ${seed}: ${i.code} ${i.message}`);
      }
      expect(found).toEqual([]);
    });
  }

  it('blurred, colour-shifted T-shirt keyframes validate clean', async () => {
    const found: string[] = [];
    for (const [robot, seed] of [['aloha-agilex', 3], ['agibot-g1', 4], ['aloha-agilex', 5]] as const) {
      const p = await oracle(robot, 'tshirt', seed);
      for (const s of p.draft.steps) s.keyframe = await likeModel(s.keyframe);
      for (const i of errorsOf(await validate(p.draft, p.world.profile, p.observation, TASK.tshirt))) found.push(`${robot} seed ${seed}: ${i.code} ${i.message}`);
    }
    expect(found).toEqual([]);
  });
});

describe('oracle replans from miss states validate clean', () => {
  const cases: [string, SceneId][] = [['aloha-agilex', 'tshirt'], ['agibot-g1', 'tshirt'], ['aloha-agilex', 'table'], ['agibot-g1', 'table'], ['franka-fr3', 'table']];
  for (const [robot, scene] of cases) {
    it(`${scene} on ${robot}: a miss at every step of two seeds, then the oracle's replan`, async () => {
      const found: string[] = [];
      let replans = 0;
      for (const seed of [300, 301]) {
        const w = world(robot, scene, seed);
        const plan = w.oracle();
        const rng = new Rng(seed);
        let state = w.state;
        for (const step of plan) {
          w.state = missModelOf(w.scene.id).miss(state, step.action, rng).state;
          const replan = await oraclePlan(w, { size: SIZE, version: 2 });
          if (replan.draft.steps.length > 0) {
            replans++;
            for (const i of errorsOf(await validate(replan.draft, w.profile, replan.observation, TASK[scene]))) {
              found.push(`seed ${seed}, miss at "${step.instruction}": step ${i.step} ${i.code} ${i.message}`);
            }
          }
          state = step.next;
        }
      }
      expect(replans).toBeGreaterThan(8);
      expect(found).toEqual([]);
    });
  }
});
