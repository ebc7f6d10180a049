import { describe, expect, it } from 'vitest';
import { validateDraft } from '../../src/validate/validate-draft.js';
import { profile, world } from './helpers.js';

type Pose = 'upright' | 'tipped';
interface TableObject {
  id: string;
  pose: Pose;
  at: { kind: string };
}

/**
 * Every tippable object on the table of held-out layouts, put in each pose, against "stand it
 * upright" and "pick it up": the sim robot's verdict next to the validator's pose findings.
 */
async function compare(robot: string, seeds: number[]) {
  const p = profile(robot);
  const rows: { what: string; sim: boolean; refused: string | undefined }[] = [];
  for (const seed of seeds) {
    for (const id of ['cup', 'bowl', 'bottle']) {
      for (const pose of ['upright', 'tipped'] as const) {
        const w = world(robot, 'table', seed);
        const objects = (w.state as unknown as { objects: TableObject[] }).objects;
        if (!objects.some((o) => o.id === id && o.at.kind === 'table')) continue;
        w.state = { ...w.state, objects: objects.map((o) => (o.id === id ? { ...o, pose } : o)) } as typeof w.state;
        const observation = await w.observe();
        for (const instruction of [`stand the ${id} upright`, `pick up the ${id}`]) {
          const parsed = w.scene.parseInstruction(instruction, p);
          if (!parsed.ok) throw new Error(parsed.reason);
          const found = w.scene.candidates(w.state as never, parsed.template, p);
          const plan = { id: 'pose', version: 1, backend: 'test', createdAt: new Date(0).toISOString(), scene: 'table' as const, steps: [{ index: 0, instruction, keyframe: new Uint8Array(0) }] };
          const r = await validateDraft({ plan, robot: p, observation });
          const refused = r.issues.find((i) => (i.code === 'already_done' || i.code === 'order') && /upright|tipped/.test(i.message));
          rows.push({ what: `${robot} ${seed} ${pose} ${id}: ${instruction}`, sim: found.ok && found.candidates.length > 0, refused: refused?.message });
        }
      }
    }
  }
  return rows;
}

describe('upright or tipped, as the observation shows it', () => {
  it.each(['agibot-g1', 'aloha-agilex', 'franka-fr3'])('%s: never refuses what the sim robot does; refuses standing up what stands and picking up what lies', async (robot) => {
    const rows = await compare(robot, [100000, 100001, 100002, 100003]);
    expect(rows.length).toBeGreaterThan(30);
    expect(rows.filter((r) => r.sim && r.refused).map((r) => r.what)).toEqual([]);
    // The pose contradictions: standing up an upright object, picking up a tipped one.
    const contradictions = rows.filter((r) => (/upright \w+: stand/.test(r.what) || /tipped \w+: pick/.test(r.what)) && !r.sim);
    expect(contradictions.length).toBeGreaterThan(10);
    expect(contradictions.filter((r) => !r.refused).map((r) => r.what)).toEqual([]);
  }, 60_000);

  it('names the object and what to do', async () => {
    const rows = await compare('agibot-g1', [100000]);
    expect(rows.map((r) => r.refused).filter((m) => m !== undefined)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^step 0: the (cup|bowl|bottle) already stands upright in the observation$/),
        expect.stringMatching(/^step 0: the (cup|bowl|bottle) lies tipped over in the observation; stand it upright before picking it up$/),
      ]),
    );
  }, 30_000);
});

describe('an object beside a gripper, after a slip', () => {
  // The sim robot's open gripper stays by the object it lost: the picture cannot tell held from
  // lying there, the robot's holding report can.
  async function verdicts(pose: Pose, gap: number, holding: Record<string, string | null> | undefined) {
    const p = profile('agibot-g1');
    const w = world('agibot-g1', 'table', 100007);
    const state = w.state as unknown as { objects: (TableObject & { pos: [number, number] })[]; arms: { name: string; pos: [number, number] }[] };
    const cup = state.objects.find((o) => o.id === 'cup')!;
    w.state = {
      ...w.state,
      objects: state.objects.map((o) => (o.id === 'cup' ? { ...o, pose } : o)),
      arms: state.arms.map((a) => (a.name === 'right' ? { ...a, pos: [cup.pos[0], cup.pos[1] - gap] } : a)),
    } as unknown as typeof w.state;
    const observation = await w.observe();
    const history = [{ stepIndex: 0, attempt: 0, instruction: 'pick up the cup with the right arm', status: 'miss' as const, ...(holding ? { holding } : {}) }];
    const out: Record<string, string[]> = {};
    for (const instruction of ['stand the cup upright', 'pick up the cup']) {
      const plan = { id: 'slip', version: 2, backend: 'test', createdAt: new Date(0).toISOString(), scene: 'table' as const, steps: [{ index: 0, instruction, keyframe: new Uint8Array(0) }] };
      out[instruction] = (await validateDraft({ plan, robot: p, observation, history })).issues.filter((i) => i.severity === 'error' && i.code !== 'missing_keyframe').map((i) => i.code);
    }
    return out;
  }

  it('reads a tipped cup the open gripper touches (covering only shrinks a footprint); does not guess an upright one', async () => {
    expect(await verdicts('tipped', 0.07, { left: null, right: null })).toEqual({ 'stand the cup upright': [], 'pick up the cup': ['order'] });
    expect(await verdicts('upright', 0.07, { left: null, right: null })).toEqual({ 'stand the cup upright': [], 'pick up the cup': [] });
  }, 30_000);

  it.each([0.03, 0.05])('never calls a tipped cup under a gripper jaw upright (gripper %s m away)', async (gap) => {
    expect((await verdicts('tipped', gap, { left: null, right: null }))['stand the cup upright']).toEqual([]);
  }, 30_000);

  it('without a report it does not guess, and a cup the report says is held is not picked up again', async () => {
    expect(await verdicts('tipped', 0.07, undefined)).toEqual({ 'stand the cup upright': [], 'pick up the cup': [] });
    expect((await verdicts('upright', 0.07, { left: null, right: 'cup' }))['pick up the cup']).toEqual(['already_done']);
  }, 30_000);
});
