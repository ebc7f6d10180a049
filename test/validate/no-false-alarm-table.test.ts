import { describe, expect, it } from 'vitest';
import { TASK, errorsOf, likeModel, oracle, validate } from './helpers.js';

/**
 * No false alarm: oracle plans, with the observation each was made from, validate without a single
 * error, nor a `task_incomplete` against the task they were made for. 150 table plans here (three robots x 50 seeds), 50 T-shirt plans and replans in the T-shirt file.
 */
describe('oracle table plans validate clean', () => {
  for (const robot of ['aloha-agilex', 'agibot-g1', 'franka-fr3']) {
    it(`${robot}: 50 seeds, zero errors`, async () => {
      const found: string[] = [];
      for (let seed = 100; seed < 150; seed++) {
        const p = await oracle(robot, 'table', seed);
        const r = await validate(p.draft, p.world.profile, p.observation, TASK.table);
        for (const i of errorsOf(r)) found.push(`seed ${seed}: ${i.code} ${i.message}`);
        expect(r.issues.filter((i) => i.severity === 'warning')).toEqual([]);
      }
      expect(found).toEqual([]);
    });
  }

  it('blurred, colour-shifted keyframes (like the embedded model draws them) also validate clean', async () => {
    const found: string[] = [];
    for (const [robot, seed] of [['aloha-agilex', 7], ['agibot-g1', 8], ['franka-fr3', 9], ['aloha-agilex', 10], ['franka-fr3', 11]] as const) {
      const p = await oracle(robot, 'table', seed);
      for (const s of p.draft.steps) s.keyframe = await likeModel(s.keyframe);
      for (const i of errorsOf(await validate(p.draft, p.world.profile, p.observation, TASK.table))) found.push(`${robot} seed ${seed}: ${i.code} ${i.message}`);
    }
    expect(found).toEqual([]);
  });
});
