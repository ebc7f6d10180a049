import { describe, expect, it } from 'vitest';
import { validateDraft } from '../../src/validate/validate-draft.js';
import { profile, world } from './helpers.js';

/** Every single-arm pick from a held-out start: the sim's verdict (can this arm do it?) against the validator's out_of_reach. */
async function compare(robot: string, seeds: number[]) {
  const p = profile(robot);
  const rows: { instruction: string; sim: boolean; refused: string | undefined }[] = [];
  for (const seed of seeds) {
    const w = world(robot, 'table', seed);
    const observation = await w.observe();
    for (const obj of ['cup', 'plate', 'bowl', 'fork', 'napkin', 'bottle']) {
      for (const arm of p.arms.map((a) => a.name)) {
        const instruction = `pick up the ${obj} with the ${arm} arm`;
        const parsed = w.scene.parseInstruction(instruction, p);
        if (!parsed.ok) continue;
        const found = w.scene.candidates(w.state as never, parsed.template, p);
        if (!found.ok && !/reach/.test(found.reason)) continue;
        const plan = { id: 'reach', version: 1, backend: 'test', createdAt: new Date(0).toISOString(), scene: 'table' as const, steps: [{ index: 0, instruction, keyframe: new Uint8Array(0) }] };
        const r = await validateDraft({ plan, robot: p, observation });
        rows.push({ instruction: `${seed}: ${instruction}`, sim: found.ok && found.candidates.length > 0, refused: r.issues.find((i) => i.code === 'out_of_reach')?.message });
      }
    }
  }
  return rows;
}

describe('out_of_reach: an arm named for an object it cannot carry away', () => {
  it('never refuses a pick the sim robot can do, and refuses most it cannot (agibot-g1, held-out layouts)', async () => {
    const rows = await compare('agibot-g1', [100000, 100001, 100002, 100003, 100004, 100005]);
    expect(rows.filter((r) => r.sim && r.refused).map((r) => r.instruction)).toEqual([]);
    const cannot = rows.filter((r) => !r.sim);
    expect(cannot.length).toBeGreaterThan(10);
    expect(cannot.filter((r) => r.refused).length / cannot.length).toBeGreaterThan(0.8);
  }, 60_000);

  it('says where the object is and which arm cannot reach it', async () => {
    const rows = await compare('agibot-g1', [100007]);
    const refused = rows.filter((r) => r.refused);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect(r.refused).toMatch(/(is at \(-?\d\.\d\d, -?\d\.\d\d\) in the observation, \d+ cm outside the (left|right) arm's workspace|the (left|right) arm cannot reach the (rack|bin|basket))/);
  }, 30_000);
});
