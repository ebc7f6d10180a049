import { describe, expect, it } from 'vitest';
import { COMPARE_SIZE, meanAbsDiff } from '../../src/image/compare.js';
import { loadProfile } from '../../src/profile/load.js';
import type { RobotProfile } from '../../src/schema/index.js';
import { Action } from '../../src/schema/index.js';
import { svgToRgb } from '../../sim/render.js';
import { sceneSvg } from '../../src/scenes/view.js';
import { Rng } from '../../src/util/rng.js';
import type { OracleStep } from '../../src/scenes/scene.js';
import { UnsupportedTaskError } from '../../src/scenes/scene.js';
import type { TshirtGoal, TshirtState } from '../../src/scenes/tshirt/index.js';
import { tshirtScene } from '../../src/scenes/tshirt/index.js';
import { missKinds, missOfKind, slippedFoldMiss, tshirtMisses } from '../../sim/miss/tshirt.js';

const aloha = loadProfile('aloha-agilex');
const stanford = loadProfile('aloha-stanford');
const g1 = loadProfile('agibot-g1');
const franka = loadProfile('franka-fr3');

const CANONICAL = [
  'tidy the collar with the right arm',
  'fold the left sleeve in with the left arm',
  'fold the right sleeve in with the right arm',
  'grasp the bottom corners with both arms',
  'fold the bottom up to the collar with both arms',
  'fold the shirt in half with both arms',
  'move the folded shirt aside',
];

function goalOf(task: string): TshirtGoal {
  const r = tshirtScene.parseTask(task);
  if (!r.ok) throw new Error(r.reason);
  return r.goal;
}
const FULL = goalOf('fold the t-shirt');

function start(seed: number, profile: RobotProfile = aloha): TshirtState {
  return tshirtScene.initial(profile, new Rng(seed));
}

/** Follows a plan, checking every step is a candidate of its own parsed instruction (what the controller matches). */
function follow(state: TshirtState, steps: OracleStep<TshirtState>[], profile: RobotProfile): TshirtState {
  let s = state;
  for (const step of steps) {
    const parsed = tshirtScene.parseInstruction(step.instruction, profile);
    if (!parsed.ok) throw new Error(parsed.reason);
    const found = tshirtScene.candidates(s, parsed.template, profile);
    if (!found.ok) throw new Error(`${step.instruction}: ${found.reason}`);
    expect(found.candidates.map((c) => c.next)).toContainEqual(step.next);
    expect(found.candidates.map((c) => c.action)).toContainEqual(step.action);
    expect(Action.safeParse(step.action).success).toBe(true);
    expect(profile.primitives).toContain(step.action.verb);
    // Every acting arm's grasp point is inside its workspace for one-arm steps.
    if (step.action.arms.length === 1) {
      const ws = profile.arms.find((a) => a.name === step.action.arms[0])!.workspace;
      const [x, y] = step.action.position!;
      expect(x >= ws.min[0] && x <= ws.max[0] && y >= ws.min[1] && y <= ws.max[1]).toBe(true);
    }
    s = step.next;
  }
  return s;
}

async function picture(s: TshirtState): Promise<Uint8Array> {
  return svgToRgb(sceneSvg(tshirtScene, s, { mount: 'overhead' }, COMPARE_SIZE));
}

describe('tshirt scene: the canonical fold', () => {
  it('reaches the goal in exactly the seven canonical steps for 100 seeds', () => {
    for (let seed = 0; seed < 100; seed++) {
      const s0 = start(seed);
      expect(tshirtScene.isGoal(s0, FULL)).toBe(false);
      const steps = tshirtScene.oracle(s0, FULL, aloha);
      expect(steps.map((s) => s.instruction)).toEqual(CANONICAL);
      const end = follow(s0, steps, aloha);
      expect(tshirtScene.isGoal(end, FULL)).toBe(true);
      expect(tshirtScene.oracle(end, FULL, aloha)).toEqual([]);
      // Every intermediate state is not yet the goal.
      for (const step of steps.slice(0, -1)) expect(tshirtScene.isGoal(step.next, FULL)).toBe(false);
    }
  });

  it('plans on the other bimanual profiles too', () => {
    for (const profile of [stanford, g1]) {
      for (let seed = 0; seed < 10; seed++) {
        const s0 = start(seed, profile);
        const steps = tshirtScene.oracle(s0, FULL, profile);
        expect(steps).toHaveLength(7);
        expect(tshirtScene.isGoal(follow(s0, steps, profile), FULL)).toBe(true);
      }
    }
  });

  it('does the sub-tasks with fewer steps', () => {
    const s0 = start(4);
    const sleeves = tshirtScene.oracle(s0, goalOf('fold the sleeves in'), aloha);
    expect(sleeves.map((s) => s.instruction)).toEqual(CANONICAL.slice(1, 3));
    expect(tshirtScene.isGoal(follow(s0, sleeves, aloha), goalOf('fold the sleeves in'))).toBe(true);
    const inPlace = tshirtScene.oracle(s0, goalOf('fold the t-shirt in place'), aloha);
    expect(inPlace.map((s) => s.instruction)).toEqual(CANONICAL.slice(0, 6));
  });

  it('is deterministic per seed and differs between seeds', () => {
    expect(start(7)).toEqual(start(7));
    expect(start(7)).not.toEqual(start(8));
    expect(JSON.parse(JSON.stringify(start(7)))).toEqual(start(7));
    const poses = new Set(Array.from({ length: 20 }, (_, i) => JSON.stringify(start(i).pose)));
    expect(poses.size).toBe(20);
  });
});

describe('tshirt scene: misses and recovery', () => {
  it('recovers from every miss kind at every step (30 seeds)', () => {
    const seen = new Map<string, number>();
    let worst = 0;
    for (let seed = 0; seed < 30; seed++) {
      const s0 = start(seed);
      const steps = tshirtScene.oracle(s0, FULL, aloha);
      let s = s0;
      for (const [i, step] of steps.entries()) {
        for (const kind of missKinds(step.action)) {
          const out = missOfKind(s, step.action, kind, new Rng(seed * 100 + i));
          expect(out.kind).toBe(kind);
          expect(out.reason.length).toBeGreaterThan(10);
          expect(out.state).not.toEqual(step.next);
          expect(tshirtScene.isGoal(out.state, FULL)).toBe(false);
          const recovery = tshirtScene.oracle(out.state, FULL, aloha);
          const remaining = steps.length - i;
          // Sensible: at most two extra steps (re-grasp, then the step again).
          expect(recovery.length).toBeGreaterThanOrEqual(1);
          expect(recovery.length).toBeLessThanOrEqual(remaining + 2);
          worst = Math.max(worst, recovery.length - remaining);
          expect(tshirtScene.isGoal(follow(out.state, recovery, aloha), FULL)).toBe(true);
          const key = `${step.action.verb}.${step.action.part ?? step.action.target}.${kind}`;
          seen.set(key, (seen.get(key) ?? 0) + 1);
        }
        s = step.next;
      }
    }
    expect([...seen.keys()].sort()).toEqual([
      'fold.bottom.drop', 'fold.bottom.partial_fold', 'fold.bottom.slip',
      'fold.half.partial_fold', 'fold.half.slip',
      'fold.left_sleeve.partial_fold', 'fold.left_sleeve.slip',
      'fold.right_sleeve.partial_fold', 'fold.right_sleeve.slip',
      'grasp.bottom_corners.slip',
      'move.aside.drop', 'move.aside.slip',
      'tidy.collar.slip',
    ]);
    expect(worst).toBeLessThanOrEqual(2);
  });

  it('plans the recovery a person would: finish a partial fold, re-grasp a dropped bottom, move aside again', () => {
    const s0 = start(11);
    const steps = tshirtScene.oracle(s0, FULL, aloha);
    const before = (i: number) => (i === 0 ? s0 : steps[i - 1]!.next);
    const partial = missOfKind(before(1), steps[1]!.action, 'partial_fold', new Rng(1)).state;
    expect(tshirtScene.oracle(partial, FULL, aloha)[0]!.instruction).toBe(CANONICAL[1]);
    const partialBottom = missOfKind(before(4), steps[4]!.action, 'partial_fold', new Rng(1)).state;
    expect(tshirtScene.oracle(partialBottom, FULL, aloha).map((s) => s.instruction)).toEqual(CANONICAL.slice(4));
    const dropped = missOfKind(before(4), steps[4]!.action, 'drop', new Rng(1)).state;
    expect(dropped.folds.map((f) => f.id)).toEqual(['left_sleeve', 'right_sleeve']);
    expect(tshirtScene.oracle(dropped, FULL, aloha).map((s) => s.instruction)).toEqual(CANONICAL.slice(3));
    const slipped = missOfKind(before(4), steps[4]!.action, 'slip', new Rng(1)).state;
    const plan = tshirtScene.oracle(slipped, FULL, aloha).map((s) => s.instruction);
    expect(plan[0]).toMatch(/^grasp the bottom-(left|right) corner with the (left|right) arm$/);
    expect(plan.slice(1)).toEqual(CANONICAL.slice(4));
    const lost = missOfKind(before(6), steps[6]!.action, 'drop', new Rng(1)).state;
    expect(lost.aside).toBeNull();
    expect(tshirtScene.oracle(lost, FULL, aloha).map((s) => s.instruction)).toEqual([CANONICAL[6]]);
  });

  it('chains two bottom-fold misses into a one-corner grasp on a half-folded bottom, and leaves other steps alone', () => {
    const seen = new Set<string>();
    for (const profile of [aloha, stanford, g1]) {
      for (let seed = 0; seed < 12; seed++) {
        const steps = tshirtScene.oracle(start(seed, profile), FULL, profile);
        const i = steps.findIndex((s) => s.action.verb === 'fold' && s.action.part === 'bottom');
        const before = steps[i - 1]!.next;
        for (const [j, step] of steps.entries()) {
          if (j !== i) expect(slippedFoldMiss(j === 0 ? start(seed, profile) : steps[j - 1]!.next, step.action, new Rng(seed))).toBeNull();
        }
        const rng = new Rng(seed).fork('slipped-folds');
        const short = slippedFoldMiss(before, steps[i]!.action, rng)!;
        expect(short.kind).toBe('partial_fold');
        const retry = tshirtScene.oracle(short.state, FULL, profile)[0]!;
        expect(retry.instruction).toBe('fold the bottom up to the collar with both arms');
        const slipped = slippedFoldMiss(short.state, retry.action, rng)!;
        expect(slipped.kind).toBe('slip');
        const bottom = slipped.state.folds.find((f) => f.id === 'bottom')!;
        expect(bottom.extent).toBeGreaterThan(0.3);
        expect(bottom.extent).toBeLessThan(1);
        const plan = tshirtScene.oracle(slipped.state, FULL, profile);
        expect(plan[0]!.instruction).toMatch(/^grasp the bottom-(left|right) corner with the (left|right) arm$/);
        seen.add(plan[0]!.instruction.split(' corner')[0]!);
        expect(tshirtScene.isGoal(follow(slipped.state, plan, profile), FULL)).toBe(true);
        // A finished bottom fold has nothing left to chain.
        expect(slippedFoldMiss(steps[i]!.next, steps[i]!.action, rng)).toBeNull();
      }
    }
    expect([...seen].sort()).toEqual(['grasp the bottom-left', 'grasp the bottom-right']);
  });

  it('survives runs of random misses with bounded plans', () => {
    for (let seed = 0; seed < 20; seed++) {
      const rng = new Rng(5000 + seed);
      let s = start(seed);
      let executed = 0;
      while (!tshirtScene.isGoal(s, FULL)) {
        const plan = tshirtScene.oracle(s, FULL, aloha);
        expect(plan.length).toBeLessThanOrEqual(9);
        const step = plan[0]!;
        s = rng.chance(0.3) ? tshirtMisses.miss(s, step.action, rng).state : step.next;
        executed++;
        expect(executed).toBeLessThan(60);
      }
    }
  });
});

describe('tshirt scene: off-script states', () => {
  it('plans to the goal from states reached by any candidate in any order, misses included', () => {
    const texts = [
      ...CANONICAL, 'fold the shirt', 'tidy the collar', 'tidy the collar with the left arm', 'fold the left sleeve in',
      'grasp the bottom-left corner', 'grasp the bottom-right corner with the right arm', 'move the shirt aside with both arms',
      'fold the bottom up', 'fold it in half', 'release the shirt', 'let go of the bottom corners with both hands',
    ];
    for (let seed = 0; seed < 60; seed++) {
      const rng = new Rng(900 + seed);
      let s = start(seed);
      for (let move = 0; move < 16 && !tshirtScene.isGoal(s, FULL); move++) {
        const options = texts.flatMap((t) => {
          const p = tshirtScene.parseInstruction(t, aloha);
          if (!p.ok) throw new Error(p.reason);
          const r = tshirtScene.candidates(s, p.template, aloha);
          return r.ok ? r.candidates : [];
        });
        expect(options.length).toBeGreaterThan(0);
        const c = rng.pick(options);
        s = rng.chance(0.25) ? tshirtMisses.miss(s, c.action, rng).state : c.next;
        const plan = tshirtScene.oracle(s, FULL, aloha);
        expect(plan.length).toBeLessThanOrEqual(10);
        expect(tshirtScene.isGoal(follow(s, plan, aloha), FULL)).toBe(true);
      }
    }
  });
});

describe('tshirt scene: candidates', () => {
  it('renders every candidate of a template as a distinct picture, and every step as a visible change', async () => {
    let minPair = Infinity;
    let minStep = Infinity;
    for (const seed of [0, 1, 2]) {
      const s0 = start(seed);
      const steps = tshirtScene.oracle(s0, FULL, aloha);
      let s = s0;
      for (const step of steps) {
        // The instruction with no arms named leaves the most to the keyframe.
        for (const text of [step.instruction, step.instruction.replace(/ with (both|the \w+) arms?$/, '')]) {
          const parsed = tshirtScene.parseInstruction(text, aloha);
          if (!parsed.ok) throw new Error(parsed.reason);
          const found = tshirtScene.candidates(s, parsed.template, aloha);
          if (!found.ok) throw new Error(`${text}: ${found.reason}`);
          const pics = await Promise.all(found.candidates.map((c) => picture(c.next)));
          for (let i = 0; i < pics.length; i++) {
            for (let j = i + 1; j < pics.length; j++) minPair = Math.min(minPair, meanAbsDiff(pics[i]!, pics[j]!));
          }
        }
        minStep = Math.min(minStep, meanAbsDiff(await picture(s), await picture(step.next)));
        s = step.next;
      }
    }
    expect(minPair).toBeGreaterThan(0.002);
    expect(minStep).toBeGreaterThan(0.004);
  });

  it('offers both ends of the table for "aside", and both arms for the collar', () => {
    const steps = tshirtScene.oracle(start(3), FULL, aloha);
    const folded = steps[5]!.next;
    const aside = tshirtScene.candidates(folded, { verb: 'move', object: 'shirt', target: 'aside' }, aloha);
    expect(aside.ok && aside.candidates.map((c) => [c.action.arms, c.action.slot])).toEqual([[['left'], 0], [['right'], 1]]);
    const left = tshirtScene.parseInstruction('put the folded t-shirt to the left side', aloha);
    expect(left.ok && tshirtScene.candidates(folded, left.template, aloha)).toMatchObject({ ok: true, candidates: [{ action: { slot: 0 } }] });
    const both = tshirtScene.parseInstruction('move the folded shirt aside with both arms', aloha);
    const carried = both.ok ? tshirtScene.candidates(folded, both.template, aloha) : both;
    expect(carried.ok && carried.candidates.map((c) => [c.action.arms, c.action.slot])).toEqual([[['left', 'right'], 0], [['left', 'right'], 1]]);
    if (carried.ok) {
      expect(carried.candidates.map((c) => c.next.aside)).toEqual([0, 1]);
      const dropped = missOfKind(folded, carried.candidates[1]!.action, 'drop', new Rng(9)).state;
      expect(follow(dropped, tshirtScene.oracle(dropped, FULL, aloha), aloha).aside).not.toBeNull();
    }
    const collar = tshirtScene.candidates(start(3), { verb: 'tidy', object: 'shirt', part: 'collar' }, aloha);
    expect(collar.ok && collar.candidates.map((c) => c.action.arms)).toEqual([['left'], ['right']]);
  });

  it('shows partial folds and drops as their own pictures', async () => {
    const s0 = start(5);
    const steps = tshirtScene.oracle(s0, FULL, aloha);
    for (const i of [1, 4, 5]) {
      const before = i === 0 ? s0 : steps[i - 1]!.next;
      const partial = missOfKind(before, steps[i]!.action, 'partial_fold', new Rng(2)).state;
      expect(meanAbsDiff(await picture(partial), await picture(before))).toBeGreaterThan(0.002);
      expect(meanAbsDiff(await picture(partial), await picture(steps[i]!.next))).toBeGreaterThan(0.002);
    }
    const lost = missOfKind(steps[5]!.next, steps[6]!.action, 'drop', new Rng(2)).state;
    expect(meanAbsDiff(await picture(lost), await picture(steps[6]!.next))).toBeGreaterThan(0.004);
  });

  it('refuses what cannot be done here, with a reason', () => {
    const s0 = start(2);
    const steps = tshirtScene.oracle(s0, FULL, aloha);
    const refuse = (s: TshirtState, text: string, profile: RobotProfile, why: RegExp) => {
      const parsed = tshirtScene.parseInstruction(text, profile);
      if (!parsed.ok) throw new Error(parsed.reason);
      const r = tshirtScene.candidates(s, parsed.template, profile);
      expect(r.ok, text).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(why);
    };
    refuse(s0, 'fold the left sleeve in with the right arm', aloha, /outside the right arm's workspace/);
    refuse(s0, 'fold the bottom up to the collar with both arms', aloha, /not held; grasp the bottom corners first/);
    refuse(s0, 'grasp the bottom corners with both arms', aloha, /fold both sleeves in/);
    refuse(s0, 'fold the shirt in half with both arms', aloha, /fold the bottom up before/);
    refuse(s0, 'move the folded shirt aside', aloha, /not folded yet/);
    refuse(s0, 'fold the sleeves in', aloha, /one sleeve at a time/);
    refuse(steps[0]!.next, 'tidy the collar with the left arm', aloha, /already tidy/);
    refuse(steps[1]!.next, 'fold the left sleeve in with the left arm', aloha, /already folded/);
    refuse(steps[3]!.next, 'fold the right sleeve in', aloha, /already folded/);
    refuse(steps[4]!.next, 'fold the left sleeve in with the left arm', aloha, /already folded/);
    refuse(steps[4]!.next, 'fold the bottom up with both arms', aloha, /already folded/);
    refuse(steps[6]!.next, 'move the shirt aside', aloha, /already aside/);
    refuse(s0, 'grasp the bottom corners with both arms', franka, /needs two arms; franka-fr3 has one/);
    refuse(s0, 'fold the bottom up to the collar with both arms', franka, /needs two arms; franka-fr3 has one/);
    refuse(s0, 'fold the left sleeve in with the arm', franka, /no "fold" primitive/);
    const noArm = tshirtScene.candidates(s0, { verb: 'tidy', object: 'shirt', part: 'collar', arms: ['middle'] }, aloha);
    expect(noArm).toMatchObject({ ok: false, reason: expect.stringMatching(/no middle arm/) });
  });

  it('will not plan the fold on a one-arm robot', () => {
    expect(() => tshirtScene.oracle(start(1, franka), FULL, franka)).toThrow(UnsupportedTaskError);
    expect(() => tshirtScene.oracle(start(1, franka), FULL, franka)).toThrow(/two arms/);
  });
});

describe('tshirt scene: words', () => {
  it('reads the oracle phrasing and natural variations', () => {
    const parse = (t: string) => {
      const r = tshirtScene.parseInstruction(t, aloha);
      if (!r.ok) throw new Error(r.reason);
      return r.template;
    };
    expect(parse('fold the left sleeve in with the left arm')).toEqual({ verb: 'fold', object: 'shirt', part: 'left_sleeve', arms: ['left'] });
    expect(parse('Left hand grasps the bottom-left corner.')).toEqual({ verb: 'grasp', object: 'shirt', part: 'bottom_left', arms: ['left'] });
    expect(parse('grab both bottom corners of the T-shirt with both hands')).toEqual({ verb: 'grasp', object: 'shirt', part: 'bottom_corners', arms: ['left', 'right'] });
    expect(parse('fold the bottom up to the collar with both arms')).toEqual({ verb: 'fold', object: 'shirt', part: 'bottom', arms: ['left', 'right'] });
    expect(parse('fold the tshirt in half again')).toEqual({ verb: 'fold', object: 'shirt', part: 'half' });
    expect(parse('straighten the collar')).toEqual({ verb: 'tidy', object: 'shirt', part: 'collar' });
    expect(parse('move the folded shirt aside')).toEqual({ verb: 'move', object: 'shirt', target: 'aside' });
    expect(parse('tuck the sleeve in with the right hand')).toEqual({ verb: 'fold', object: 'shirt', part: 'right_sleeve', arms: ['right'] });
    for (const text of CANONICAL) expect(tshirtScene.parseInstruction(text, aloha).ok).toBe(true);
  });

  it('names the words it did not understand', () => {
    const r = tshirtScene.parseInstruction('blorp the shirt with a zorgle', aloha);
    expect(r).toMatchObject({ ok: false, unknownWords: ['blorp', 'zorgle'] });
    if (!r.ok) expect(r.reason).toBe('could not parse "blorp the shirt with a zorgle": did not understand "blorp", "zorgle"');
    const noVerb = tshirtScene.parseInstruction('the left sleeve', aloha);
    expect(noVerb.ok).toBe(false);
  });

  it('knows its task phrases', () => {
    for (const t of ['fold the shirt', 'Fold the T-shirt', 'fold the tshirt', 'please fold the tee', 'fold the t-shirt and put it aside']) {
      expect(tshirtScene.parseTask(t), t).toEqual({ ok: true, goal: FULL });
    }
    for (const t of tshirtScene.tasks) expect(tshirtScene.parseTask(t).ok).toBe(true);
    expect(goalOf('fold the sleeves in')).toEqual({ folds: ['left_sleeve', 'right_sleeve'], collar: false, aside: false });
    const bad = tshirtScene.parseTask('make me a sandwich');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.reason).toContain('"fold the t-shirt"');
  });
});
