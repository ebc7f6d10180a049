import { describe, expect, it } from 'vitest';
import type { HistoryEntry, PlanRequest } from '../../src/planner/planner.js';
import { Rng } from '../../src/util/rng.js';
import { textGate } from '../../src/validate/gates.js';
import { tshirtScene, type TshirtState } from '../../src/scenes/tshirt/index.js';
import { missOfKind } from '../../sim/miss/tshirt.js';
import { profile, world } from './helpers.js';

/**
 * The validator reads a replan against the run so far. A half fold that stopped at 35-70 % looks
 * folded to the camera, and the embedded model then plans "move the folded shirt aside", which the
 * robot refuses (rollout seed 100002). The robot's own report of the miss tells the validator.
 */
const ROBOT = 'aloha-agilex';
const SEED = 100002;

/** The oracle's plan run up to (not including) its first step starting with `prefix`, every step done. */
function doneUpTo(prefix: string) {
  const w = world(ROBOT, 'tshirt', SEED);
  const plan = w.oracle();
  const at = plan.findIndex((s) => s.instruction.startsWith(prefix));
  expect(at).toBeGreaterThan(0);
  const history: HistoryEntry[] = [];
  for (const [k, s] of plan.slice(0, at).entries()) {
    w.state = s.next;
    history.push({ stepIndex: k, attempt: 0, instruction: s.instruction, status: 'done' });
  }
  return { w, plan, at, history };
}

async function afterPartialHalfFold() {
  const { w, plan, at: half, history } = doneUpTo('fold the shirt in half');
  const done = plan[half]!.next;
  const missed = missOfKind(w.state as TshirtState, plan[half]!.action, 'partial_fold', new Rng(7));
  expect(missed.kind).toBe('partial_fold');
  w.state = missed.state;
  history.push({ stepIndex: half, attempt: 0, instruction: plan[half]!.instruction, status: 'miss', reason: `partial_fold: ${missed.reason}` });
  const observation = new Uint8Array(await w.observe());
  const request = (h: readonly HistoryEntry[]): PlanRequest => ({ robot: profile(ROBOT), task: 'fold the t-shirt', scene: 'tshirt', observation, history: h, version: 2 });
  return { w, plan, half, done, history, request };
}

/** What the sim itself says about an instruction from a state: can it be done at all? */
function simAllows(state: TshirtState, instruction: string): boolean {
  const parsed = tshirtScene.parseInstruction(instruction, profile(ROBOT));
  if (!parsed.ok) throw new Error(parsed.reason);
  const found = tshirtScene.candidates(state, parsed.template, profile(ROBOT));
  return found.ok && found.candidates.length > 0;
}

describe('validator: the run so far', () => {
  it('refuses moving a shirt aside whose half fold the robot reported missed; the picture alone could not tell', async () => {
    const { w, history, request } = await afterPartialHalfFold();
    const aside = 'move the folded shirt aside';
    expect(simAllows(w.state as TshirtState, aside)).toBe(false);
    const gate = textGate();
    const refused = await gate([aside], request(history));
    // Refused for its order, and short of the task: the half fold it skips is known undone.
    expect(refused.map((i) => [i.code, i.step])).toEqual([['order', 0], ['task_incomplete', 1]]);
    expect(refused[0]!.message).toMatch(/fold the shirt before moving it aside/);
    // Without the history the same texts pass: the observation shows a shirt that looks folded.
    expect((await textGate()([aside], request([]))).filter((i) => i.code === 'order')).toEqual([]);
  });

  it("passes the oracle's own replan from that state, with the history", async () => {
    const { w, history, request } = await afterPartialHalfFold();
    const replan = w.oracle().map((s) => s.instruction);
    expect(replan[0]).toMatch(/^fold the shirt in half/);
    expect(await textGate()(replan, request(history))).toEqual([]);
  });

  it('takes steps the robot reported done as done, and rejected steps as changing nothing', async () => {
    const { w, plan, half, done, history, request } = await afterPartialHalfFold();
    w.state = done;
    const fullHistory: HistoryEntry[] = [...history, { stepIndex: half + 1, attempt: 1, instruction: plan[half]!.instruction, status: 'done' }];
    const again = plan[half]!.instruction;
    expect(simAllows(done as TshirtState, again)).toBe(false);
    expect((await textGate()([again, plan[half + 1]!.instruction], request(fullHistory))).map((i) => [i.code, i.step])).toEqual([['already_done', 0]]);
    // The collar was tidied in step 0 of the run: tidying it again is refused too.
    const tidy = plan.find((s) => s.instruction.startsWith('tidy the collar'))!.instruction;
    expect((await textGate()([tidy], request(fullHistory))).map((i) => i.code)).toContain('already_done');
    // A rejected attempt did nothing: after the miss, the half fold is still known undone.
    const rejected: HistoryEntry[] = [...history, { stepIndex: half + 1, attempt: 1, instruction: 'move the folded shirt aside', status: 'rejected', reason: 'not folded' }];
    expect((await textGate()(['move the folded shirt aside'], request(rejected))).map((i) => i.code)).toEqual(['order', 'task_incomplete']);
  });

  it('skips history entries it cannot read, and a timeout leaves the step unknown rather than undone', async () => {
    const { history, request } = await afterPartialHalfFold();
    const odd: HistoryEntry[] = [{ stepIndex: 0, attempt: 0, instruction: 'juggle three oranges', status: 'done' }, ...history.slice(0, -1)];
    const timedOut: HistoryEntry[] = [...odd, { ...history.at(-1)!, status: 'timeout' }];
    expect(await textGate()(['move the folded shirt aside'], request(timedOut))).toEqual([]);
  });
});

/**
 * Rollout seed 100008: "grasp the bottom corners with both arms" slipped on the left
 * corner while the right arm kept the right one. The model then asked three times for the bottom
 * fold and once for the right corner, which the robot refused both ways. The picture shows grippers
 * near both corners; only the robot's report of what its grippers hold (StepFeedback.holding) tells.
 */
async function afterCornerSlip() {
  const { w, plan, at: grasp, history } = doneUpTo('grasp the bottom corners');
  const missed = missOfKind(w.state as TshirtState, plan[grasp]!.action, 'slip', new Rng(3));
  w.state = missed.state;
  const holding = Object.fromEntries(w.state.arms.map((a) => [a.name, a.holding]));
  const miss: HistoryEntry = { stepIndex: grasp, attempt: 0, instruction: plan[grasp]!.instruction, status: 'miss', reason: `slip: ${missed.reason}` };
  const observation = new Uint8Array(await w.observe());
  const request = (h: readonly HistoryEntry[]): PlanRequest => ({ robot: profile(ROBOT), task: 'fold the t-shirt', scene: 'tshirt', observation, history: h, version: 2 });
  return { w, history, miss, holding, request };
}

describe('validator: what the robot says its grippers hold', () => {
  it('refuses the bottom fold and grasping the corner still held after one corner slipped; without the report it could not tell', async () => {
    const { w, history, miss, holding, request } = await afterCornerSlip();
    const held = Object.entries(holding).filter(([, h]) => h !== null);
    expect(held).toHaveLength(1);
    const [arm, corner] = held[0]! as [string, string];
    const heldWords = corner.replace('shirt.', '').replace('_', '-');
    const fold = 'fold the bottom up to the collar with both arms';
    const again = `grasp the ${heldWords} corner with the ${arm} arm`;
    for (const text of [fold, again]) expect(simAllows(w.state as TshirtState, text)).toBe(false);

    const reported = [...history, { ...miss, holding }];
    expect((await textGate()([fold], request(reported))).map((i) => i.code)).toContain('corners_not_held');
    const refused = await textGate()([again, fold], request(reported));
    expect(refused.map((i) => [i.code, i.step])).toContainEqual(['already_done', 0]);
    expect(refused.find((i) => i.code === 'already_done')!.message).toContain(`already held by the ${arm} arm`);
    // Without the report the same texts pass: a missed grasp leaves both arms unknown.
    expect(await textGate()([fold], request([...history, miss]))).toEqual([]);

    // The sim's own recovery passes: grasp the corner that slipped, then go on.
    const replan = w.oracle().map((s) => s.instruction);
    expect(replan[0]).toMatch(/^grasp the bottom-(left|right) corner/);
    expect(await textGate()(replan, request(reported))).toEqual([]);
  });
});
