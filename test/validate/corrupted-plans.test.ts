import { beforeAll, describe, expect, it } from 'vitest';
import type { PlanDraft } from '../../src/planner/planner.js';
import { RobotProfile } from '../../src/schema/robot-profile.js';
import type { SceneId } from '../../src/schema/task.js';
import type { IssueCode } from '../../src/schema/plan-issue.js';
import { overheadMapper } from '../../src/validate/view.js';
import { PALETTE } from '../../src/scenes/palette.js';
import type { OraclePlan } from '../../sim/oracle-plan.js';
import { copyDraft, drawDisc, noisePng, oracle, profile, render, solidPng, validate } from './helpers.js';

/**
 * The corpus: oracle plans broken in one way each, and the code each must be caught with. Every case
 * asserts its own code (not just !ok), so a check that fires for the wrong reason does not pass.
 */
interface Base {
  name: string;
  robot: string;
  scene: SceneId;
  seed: number;
}
const BASES: Base[] = [
  { name: 'table/aloha', robot: 'aloha-agilex', scene: 'table', seed: 1 },
  { name: 'table/agibot', robot: 'agibot-g1', scene: 'table', seed: 2 },
  { name: 'table/franka', robot: 'franka-fr3', scene: 'table', seed: 3 },
  { name: 'tshirt/aloha', robot: 'aloha-agilex', scene: 'tshirt', seed: 4 },
  { name: 'tshirt/agibot', robot: 'agibot-g1', scene: 'tshirt', seed: 5 },
];

interface Case {
  plan: PlanDraft;
  robot: RobotProfile;
  observation?: Uint8Array;
}
type Corruption = (base: OraclePlan & { robotId: string; scene: SceneId; seed: number }) => Promise<Case | null> | Case | null;

const plans = new Map<string, OraclePlan & { robotId: string; scene: SceneId; seed: number }>();
beforeAll(async () => {
  for (const b of BASES) plans.set(b.name, { ...(await oracle(b.robot, b.scene, b.seed)), robotId: b.robot, scene: b.scene, seed: b.seed });
  plans.set('table/aloha-other-seed', { ...(await oracle('aloha-agilex', 'table', 41)), robotId: 'aloha-agilex', scene: 'table', seed: 41 });
});

const withSteps = (p: OraclePlan, steps: PlanDraft['steps']): PlanDraft => ({ ...copyDraft(p.draft), steps: steps.map((s, index) => ({ ...s, index })) });
const base = (p: OraclePlan & { robotId: string }, plan: PlanDraft = copyDraft(p.draft)): Case => ({ plan, robot: profile(p.robotId), observation: p.observation });
const edit = (p: OraclePlan & { robotId: string }, k: number, patch: (s: PlanDraft['steps'][number]) => void): Case => {
  const plan = copyDraft(p.draft);
  patch(plan.steps[k]!);
  return base(p, plan);
};
const stepWith = (p: OraclePlan, test: (instruction: string) => boolean) => p.draft.steps.findIndex((s) => test(s.instruction));
const swapSide = (t: string) => t.replace(/\b(left|right)\b/g, (m) => (m === 'left' ? 'right' : 'left'));
const variant = (robotId: string, patch: (raw: Record<string, any>) => void): RobotProfile => {
  const raw = structuredClone(profile(robotId)) as Record<string, any>;
  patch(raw);
  return RobotProfile.parse(raw);
};

/** Corruptions that apply to every base plan. */
const EVERY: Record<string, [IssueCode, Corruption]> = {
  'blank keyframe': ['keyframe_blank', (p) => edit(p, 2, (s) => { s.keyframe = blank; })],
  'noise keyframe': ['keyframe_noise', (p) => edit(p, 3, (s) => { s.keyframe = noise; })],
  'missing keyframe bytes': ['missing_keyframe', (p) => edit(p, 1, (s) => { s.keyframe = new Uint8Array(0); })],
  'keyframe that does not decode': ['keyframe_decode', (p) => edit(p, 1, (s) => { s.keyframe = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4, 5]); })],
  'square keyframe': ['keyframe_size', async (p) => {
    const sq = await render(p.scene, p.oracle[1]!.next, { mount: 'overhead' }, { width: 96, height: 96 });
    return edit(p, 1, (s) => { s.keyframe = new Uint8Array(sq); });
  }],
  'repeated step': ['repeated_step', (p) => base(p, withSteps(p, [...p.draft.steps.slice(0, 2), p.draft.steps[1]!, ...p.draft.steps.slice(2)]))],
  'unchanged keyframe under a new instruction': ['keyframe_unchanged', (p) => edit(p, 2, (s) => { s.keyframe = p.draft.steps[1]!.keyframe; })],
  'unparseable text': ['unparseable', (p) => edit(p, 1, (s) => { s.instruction = `${s.instruction} and juggle it twice`; })],
  'empty instruction': ['empty_instruction', (p) => edit(p, 0, (s) => { s.instruction = '   '; })],
  'too many steps': ['step_count', (p) => base(p, withSteps(p, Array.from({ length: profile(p.robotId).limits.maxSteps + 1 }, (_, k) => p.draft.steps[k % p.draft.steps.length]!)))],
  'over-long plan for the robot': ['plan_duration', (p) => ({ ...base(p), robot: variant(p.robotId, (r) => { r.limits.maxPlanDurationS = p.draft.steps.length * r.limits.stepDurationS - 1; }) })],
  'action target out of the workspace': ['out_of_workspace', (p) => edit(p, 1, (s) => { s.action = { ...s.action!, position: [0.95, 0.0] }; })],
  'object not in the scene vocabulary': ['unknown_object', (p) => edit(p, 0, (s) => { s.action = { ...s.action!, object: 'spoon' }; })],
  'action verb that disagrees with the words': ['action_mismatch', (p) => edit(p, 0, (s) => { s.action = { ...s.action!, verb: s.action!.verb === 'place' ? 'pick' : 'place' }; })],
  'keyframe from another camera': ['background_mismatch', async (p) => {
    const low = await render(p.scene, p.oracle[2]!.next, { mount: 'low' });
    return edit(p, 2, (s) => { s.keyframe = new Uint8Array(low); });
  }],
  'keyframe with every colour inverted': ['keyframe_change_total', async (p) => {
    const sharp = (await import('sharp')).default;
    const inv = await sharp(p.draft.steps[2]!.keyframe).negate({ alpha: false }).png().toBuffer();
    return edit(p, 2, (s) => { s.keyframe = new Uint8Array(inv); });
  }],
};

let blank: Uint8Array;
let noise: Uint8Array;
beforeAll(async () => {
  blank = await solidPng([201, 185, 155]);
  noise = await noisePng(7);
});

const TABLE: Record<string, [IssueCode, Corruption]> = {
  'place before pick': ['not_held', (p) => base(p, withSteps(p, [p.draft.steps[1]!, p.draft.steps[0]!, ...p.draft.steps.slice(2)]))],
  'missing pick step': ['not_held', (p) => base(p, withSteps(p, p.draft.steps.slice(1)))],
  'object put in the wrong receptacle': ['wrong_target', (p) => {
    const k = stepWith(p, (t) => /in the rack/.test(t));
    return edit(p, k, (s) => { s.instruction = s.instruction.replace('rack', 'basket'); s.action = { ...s.action!, target: 'basket' }; });
  }],
  'object placed twice': ['already_done', (p) => base(p, withSteps(p, [...p.draft.steps.slice(0, 3), p.draft.steps[1]!, ...p.draft.steps.slice(3)]))],
  'object of another colour appears': ['object_appeared', async (p) => {
    const mapper = overheadMapper(profile(p.robotId).cameras[0]!, { width: 128, height: 96 })!;
    const [x, y] = mapper.toPixel([-0.5, -0.36]);
    const acted = p.draft.steps[0]!.action!.object;
    const colour = acted === 'napkin' ? PALETTE.cup : PALETTE.napkin;
    const png = await drawDisc(p.draft.steps[0]!.keyframe, colour, x, y, 7);
    return edit(p, 0, (s) => { s.keyframe = png; });
  }],
  'object vanishes from a keyframe': ['object_lost', async (p) => {
    const next = p.oracle[2]!.next as any;
    const acted = new Set([p.draft.steps[2]!.action!.object]);
    const victim = next.objects.find((o: any) => !acted.has(o.id)).id;
    const png = await render('table', { ...next, objects: next.objects.filter((o: any) => o.id !== victim) });
    return edit(p, 2, (s) => { s.keyframe = new Uint8Array(png); });
  }],
};

const TWO_ARMS: Record<string, [IssueCode, Corruption]> = {
  'swapped arms': ['arm_mismatch', (p) => {
    const k = stepWith(p, (t) => /\b(left|right) arm\b/.test(t));
    return edit(p, k, (s) => {
      s.instruction = swapSide(s.instruction);
      s.action = { ...s.action!, arms: s.action!.arms.map(swapSide) };
    });
  }],
  'arm the robot does not have': ['unknown_arm', (p) => edit(p, 0, (s) => { s.action = { ...s.action!, arms: ['middle'] }; })],
};

const FRANKA: Record<string, [IssueCode, Corruption]> = {
  'second arm on a one-arm robot': ['bimanual_unsupported', (p) => edit(p, 0, (s) => { s.instruction = s.instruction.replace(/$/, ' with both arms'); })],
  'left arm named on a one-arm robot': ['unknown_arm', (p) => edit(p, 0, (s) => { s.instruction = `${s.instruction} with the left arm`; })],
  'pick while the arm is full': ['arm_busy', (p) => base(p, withSteps(p, [p.draft.steps[0]!, p.draft.steps[2]!, p.draft.steps[1]!, ...p.draft.steps.slice(3)]))],
  'verb the robot lacks': ['verb_unsupported', (p) => ({ ...base(p), robot: variant('franka-fr3', (r) => { r.primitives = r.primitives.filter((v: string) => v !== 'place'); }) })],
  'two-arm action on a one-arm robot': ['bimanual_unsupported', (p) => edit(p, 1, (s) => { s.action = { ...s.action!, arms: ['arm', 'right'] }; })],
};

const TSHIRT: Record<string, [IssueCode, Corruption]> = {
  'bottom fold before the sleeves': ['order', (p) => {
    const st = p.draft.steps;
    const i = (w: string) => stepWith(p, (t) => t.includes(w));
    const order = [i('collar'), i('bottom corners'), i('bottom up'), i('left sleeve'), i('right sleeve'), i('in half'), i('aside')];
    return base(p, withSteps(p, order.map((k) => st[k]!)));
  }],
  'bottom fold without grasping the corners': ['corners_not_held', (p) => base(p, withSteps(p, p.draft.steps.filter((s) => !s.instruction.includes('grasp'))))],
  'half fold before the bottom': ['order', (p) => {
    const st = p.draft.steps;
    const i = (w: string) => stepWith(p, (t) => t.includes(w));
    return base(p, withSteps(p, [i('collar'), i('left sleeve'), i('right sleeve'), i('in half'), i('bottom corners'), i('bottom up'), i('aside')].map((k) => st[k]!)));
  }],
  'fold made twice': ['already_done', (p) => {
    const st = p.draft.steps;
    const k = stepWith(p, (t) => t.includes('left sleeve'));
    return base(p, withSteps(p, [...st.slice(0, k + 2), st[k]!, ...st.slice(k + 2)]));
  }],
  'red object appears on the cloth scene': ['object_appeared', async (p) => {
    const png = await drawDisc(p.draft.steps[1]!.keyframe, PALETTE.cup, 10, 80, 4);
    return edit(p, 1, (s) => { s.keyframe = png; });
  }],
  'table keyframe in a T-shirt plan': ['object_appeared', (p) => edit(p, 2, (s) => { s.keyframe = plans.get('table/aloha')!.draft.steps[2]!.keyframe; })],
  'collar tidy on a robot without tidy': ['verb_unsupported', (p) => ({ ...base(p), robot: variant(p.robotId, (r) => { r.primitives = r.primitives.filter((v: string) => v !== 'tidy'); }) })],
  'release with an empty gripper': ['not_held', (p) => base(p, withSteps(p, [{ ...p.draft.steps[0]!, instruction: 'release the shirt with the left arm', action: undefined }, ...p.draft.steps.slice(1)] as PlanDraft['steps']))],
};

const AGIBOT_TABLE: Record<string, [IssueCode, Corruption]> = {
  'target inside the robot base keep-out': ['forbidden_zone', (p) => edit(p, 0, (s) => { s.action = { ...s.action!, position: [0, -0.38] }; })],
  'keyframe from another seed': ['object_moved', async (p) => {
    const other = plans.get('table/aloha-other-seed')!;
    return edit(p, 4, (s) => { s.keyframe = other.draft.steps[4]!.keyframe; });
  }],
};

function cases(): { name: string; base: string; code: IssueCode; make: Corruption }[] {
  const out: { name: string; base: string; code: IssueCode; make: Corruption }[] = [];
  const add = (b: string, set: Record<string, [IssueCode, Corruption]>) => {
    for (const [name, [code, make]] of Object.entries(set)) out.push({ name, base: b, code, make });
  };
  for (const b of BASES) add(b.name, EVERY);
  for (const b of ['table/aloha', 'table/agibot', 'table/franka']) add(b, TABLE);
  for (const b of ['table/aloha', 'table/agibot', 'tshirt/aloha', 'tshirt/agibot']) add(b, TWO_ARMS);
  add('table/franka', FRANKA);
  for (const b of ['tshirt/aloha', 'tshirt/agibot']) add(b, TSHIRT);
  add('table/agibot', AGIBOT_TABLE);
  add('table/aloha', { 'keyframe from another seed': AGIBOT_TABLE['keyframe from another seed']! });
  return out;
}

const CASES = cases();

describe('corrupted plans are caught with the right code', () => {
  it('the corpus holds at least 50 corrupted plans', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(50);
  });

  it.each(CASES.map((c) => [`${c.base}: ${c.name} -> ${c.code}`, c] as const))('%s', async (_, c) => {
    const made = await c.make(plans.get(c.base)!);
    expect(made).not.toBeNull();
    const r = await validate(made!.plan, made!.robot, made!.observation);
    expect(r.ok).toBe(false);
    expect(r.issues.map((i) => i.code)).toContain(c.code);
    expect(r.issues.find((i) => i.code === c.code)!.severity).toBe('error');
  });
});
