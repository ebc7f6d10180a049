import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boldestPassing } from '../../src/model/best-draw.js';
import { OnnxPlanner } from '../../src/model/onnx-planner.js';
import { stuckStep } from '../../src/model/plan-attempts.js';
import { WorldModel } from '../../src/model/world-model.js';
import { repairFrom, type HistoryEntry, type PlanRequest } from '../../src/planner/planner.js';
import { heldOutShirt, MODEL_DIR } from './fixtures.js';

describe('onnx planner on the committed model', () => {
  let model: WorldModel;
  const shirt = heldOutShirt();
  const request = (version: number): PlanRequest => ({
    robot: shirt.profile,
    task: 'fold the t-shirt',
    scene: 'tshirt',
    observation: new TextEncoder().encode(shirt.observationSvg),
    history: [],
    version,
  });
  const summary = (steps: { instruction: string; keyframe: Uint8Array }[]) => steps.map((s) => `${s.instruction}:${Buffer.from(s.keyframe).toString('base64')}`);

  beforeAll(async () => {
    model = await WorldModel.open({ dir: MODEL_DIR, threads: 1 });
  });
  afterAll(async () => {
    await model.close();
  });

  it('writes the same first draft for the same request and seed, with a PNG keyframe per step', async () => {
    const a = await new OnnxPlanner(model, { seed: 4, maxSteps: 3 }).plan(request(1));
    const b = await new OnnxPlanner(model, { seed: 4, maxSteps: 3 }).plan(request(1));
    expect(a.steps.length).toBeGreaterThan(0);
    expect(summary(a.steps)).toEqual(summary(b.steps));
    for (const s of a.steps) expect(Buffer.from(s.keyframe.subarray(1, 4)).toString()).toBe('PNG');
  });

  it('draws a retry differently from the refused draft, reproducibly', async () => {
    const planner = new OnnxPlanner(model, { seed: 4, maxSteps: 3 });
    const first = await planner.plan(request(1));
    const retry = await planner.plan({ ...request(1), rejected: [{ code: 'keyframe_blank' as const, severity: 'error', step: 0, message: 'refused' }] as never });
    expect(summary(retry.steps)).not.toEqual(summary(first.steps));
    // The same sequence of drafts from a fresh planner gives the same retry.
    const again = new OnnxPlanner(model, { seed: 4, maxSteps: 3 });
    await again.plan(request(1));
    const retryAgain = await again.plan(request(1));
    expect(summary(retryAgain.steps)).toEqual(summary(retry.steps));
    // retryTemperature 0 keeps every draft greedy.
    const greedy = new OnnxPlanner(model, { seed: 4, maxSteps: 3, retryTemperature: 0 });
    const g1 = await greedy.plan(request(1));
    const g2 = await greedy.plan(request(1));
    expect(summary(g2.steps)).toEqual(summary(g1.steps));
  });

  it('repairs a refused draft: keeps the steps before the first error and redraws from there', async () => {
    const planner = new OnnxPlanner(model, { seed: 4, maxSteps: 3 });
    const first = await planner.plan(request(1));
    expect(first.steps).toHaveLength(3);
    const rejected = [{ code: 'background_mismatch' as const, severity: 'error' as const, step: 2, message: 'step 2 shows a blob' }];
    const repair = await planner.plan({ ...request(1), rejected, previous: first });
    expect(repair.steps.map((s) => s.index)).toEqual([0, 1, 2]);
    expect(summary(repair.steps.slice(0, 2))).toEqual(summary(first.steps.slice(0, 2)));
    expect(summary(repair.steps.slice(2))).not.toEqual(summary(first.steps.slice(2)));
    // Refused again at the same step: the next repair starts one step earlier.
    const again = await planner.plan({ ...request(1), rejected, previous: repair });
    expect(summary(again.steps.slice(0, 1))).toEqual(summary(first.steps.slice(0, 1)));
    expect(summary(again.steps.slice(1, 2))).not.toEqual(summary(repair.steps.slice(1, 2)));

    // A draft this planner did not draw (another backend, a resumed run) is repaired from its PNGs.
    const other = await new OnnxPlanner(model, { seed: 9, maxSteps: 3 }).plan({ ...request(1), rejected, previous: first });
    expect(summary(other.steps.slice(0, 2))).toEqual(summary(first.steps.slice(0, 2)));
    expect(other.steps).toHaveLength(3);

    // An error of the whole plan (step null) or of step 0 leaves nothing to keep.
    // It is the same as a retry without the draft.
    for (const step of [null, 0]) {
      const a = new OnnxPlanner(model, { seed: 4, maxSteps: 3 });
      const whole = await a.plan({ ...request(1), rejected: [{ ...rejected[0]!, step }], previous: await a.plan(request(1)) });
      const b = new OnnxPlanner(model, { seed: 4, maxSteps: 3 });
      await b.plan(request(1));
      const plain = await b.plan({ ...request(1), rejected: [{ ...rejected[0]!, step }] });
      expect(summary(whole.steps)).toEqual(summary(plain.steps));
      expect(summary(whole.steps.slice(0, 1))).not.toEqual(summary(first.steps.slice(0, 1)));
    }
  });
  it('redraws a keyframe its check refuses, with its own seed, and keeps the first draw that passes', async () => {
    const refused = { code: 'object_appeared' as const, severity: 'error' as const, step: 1, message: 'step 1 shows a blob' };
    const seen: string[] = [];
    // Refuses step 1's first two draws.
    const check = async (steps: readonly { index: number; keyframe: Uint8Array }[]) => {
      const last = steps.at(-1)!;
      if (last.index !== 1) return [];
      seen.push(Buffer.from(last.keyframe).toString('base64'));
      return seen.length <= 2 ? [refused] : [];
    };
    const plain = await new OnnxPlanner(model, { seed: 4, maxSteps: 3 }).plan(request(1));
    const planner = new OnnxPlanner(model, { seed: 4, maxSteps: 3, check });
    const gated = await planner.plan(request(1));
    expect(planner.lastTiming!.redraws).toEqual([0, 2, 0]);
    expect(new Set(seen).size).toBe(3);
    // Step 0 is untouched, step 1 is the third draw, and the first draw is the unchecked planner's.
    expect(summary(gated.steps.slice(0, 1))).toEqual(summary(plain.steps.slice(0, 1)));
    expect(seen[0]).toBe(Buffer.from(plain.steps[1]!.keyframe).toString('base64'));
    expect(Buffer.from(gated.steps[1]!.keyframe).toString('base64')).toBe(seen[2]);
    // Reproducible: the same seed and check give the same plan.
    seen.length = 0;
    const again = await new OnnxPlanner(model, { seed: 4, maxSteps: 3, check }).plan(request(1));
    expect(summary(again.steps)).toEqual(summary(gated.steps));
  });

  it('stops after keyframeTries draws and keeps the draw with the fewest errors', async () => {
    let draws = 0;
    const issue = (n: number) => Array.from({ length: n }, () => ({ code: 'object_moved' as const, severity: 'error' as const, step: 0, message: 'moved' }));
    // Step 0's draws get 3, 1, 2 errors: the second is kept.
    const check = async (steps: readonly { index: number }[]) => (steps.at(-1)!.index === 0 ? issue([3, 1, 2][draws++]!) : []);
    const kept: string[] = [];
    const record = async (steps: readonly { index: number; keyframe: Uint8Array }[]) => {
      if (steps.at(-1)!.index === 0) kept.push(Buffer.from(steps.at(-1)!.keyframe).toString('base64'));
      return check(steps);
    };
    const planner = new OnnxPlanner(model, { seed: 4, maxSteps: 2, check: record, keyframeTries: 3 });
    const plan = await planner.plan(request(1));
    expect(draws).toBe(3);
    expect(planner.lastTiming!.redraws[0]).toBe(2);
    expect(Buffer.from(plan.steps[0]!.keyframe).toString('base64')).toBe(kept[1]);
  });
  it('replaces a refused step with the most likely other text that passes, keeping the steps before it', async () => {
    const plain = await new OnnxPlanner(model, { seed: 4, maxSteps: 4 }).plan(request(1));
    const texts = plain.steps.map((s) => s.instruction);
    expect(texts.length).toBeGreaterThan(2);
    const checked: string[][] = [];
    // Refuses the greedy plan's step 1 wherever it comes up again, as the validator would.
    const refuseStep1 = async (t: readonly string[]) => {
      checked.push([...t]);
      return t[1] === texts[1] ? [{ code: 'order' as const, severity: 'error' as const, step: 1, message: 'not yet' }] : [];
    };
    const planner = new OnnxPlanner(model, { seed: 4, maxSteps: 4, textCheck: refuseStep1 });
    const plan = await planner.plan(request(1));
    const alternatives = await model.stepAlternatives(shirt.profile.id, 'fold the t-shirt', (await model.encodePicture(request(1).observation)).codes, { keep: [texts[0]!], refused: [texts[1]!] });
    expect(alternatives.length).toBeGreaterThan(0);
    const got = plan.steps.map((s) => s.instruction);
    expect(got[0]).toBe(texts[0]);
    expect(got[1]).toBe(alternatives[0]!.text);
    expect(planner.lastTiming!.textRedraws).toBe(1);
    // The alternative was checked on its own after the kept step before the rest was written.
    expect(checked[1]).toEqual([texts[0], alternatives[0]!.text]);
  });

  it('continues a text draw refused one past its last step (it stopped short of the task) with the model\'s best next step', async () => {
    const plain = (await new OnnxPlanner(model, { seed: 4 }).plan(request(1))).steps.map((s) => s.instruction);
    const n = plain.length;
    expect(n).toBeGreaterThan(1);
    // As textGate reports task_incomplete: at the step the plan lacks, until there is one more step.
    const short = async (t: readonly string[]) => (t.length <= n ? [{ code: 'task_incomplete' as const, severity: 'error' as const, step: t.length, message: 'short' }] : []);
    const planner = new OnnxPlanner(model, { seed: 4, textCheck: short });
    const got = (await planner.plan(request(1))).steps.map((s) => s.instruction);
    const next = await model.stepAlternatives(shirt.profile.id, 'fold the t-shirt', (await model.encodePicture(request(1).observation)).codes, { keep: plain, refused: [''] });
    expect(next.length).toBeGreaterThan(0);
    expect(next[0]!.text).not.toBe('');
    expect(got.slice(0, n + 1)).toEqual([...plain, next[0]!.text]);
    expect(planner.lastTiming!.textRedraws).toBe(1);
  });

  it('puts off a step the robot failed twice in a row: the plan starts with the best other first step that passes', async () => {
    const plain = await new OnnxPlanner(model, { seed: 4, maxSteps: 3 }).plan(request(1));
    const first = plain.steps[0]!.instruction;
    const miss = (stepIndex: number, attempt: number): HistoryEntry => ({ stepIndex, attempt, instruction: first, status: 'miss', reason: 'keyframe unreachable' });
    const pass = async () => [];
    const firstStep = async (history: HistoryEntry[], putOffAfter?: number) =>
      (await new OnnxPlanner(model, { seed: 4, maxSteps: 3, textCheck: pass, putOffAfter: putOffAfter ?? 2 }).plan({ ...request(1), history })).steps[0]!.instruction;
    const alternatives = await model.stepAlternatives(shirt.profile.id, 'fold the t-shirt', (await model.encodePicture(request(1).observation)).codes, { keep: [], refused: [first] });
    expect(await firstStep([miss(0, 0), miss(1, 1)])).toBe(alternatives[0]!.text);
    expect(alternatives[0]!.text).not.toBe(first);
    // Once is not stuck; 0 turns it off.
    expect(await firstStep([miss(0, 0)])).toBe(first);
    expect(await firstStep([miss(0, 0), miss(1, 1)], 0)).toBe(first);
    // No other first step passes the check: the failing one again, rather than no plan.
    const onlyFirst = async (t: readonly string[]) => (t[0] === first ? [] : [{ code: 'order' as const, severity: 'error' as const, step: 0, message: 'not yet' }]);
    const stuckPlan = await new OnnxPlanner(model, { seed: 4, maxSteps: 3, textCheck: onlyFirst, putOffAfter: 2 }).plan({ ...request(1), history: [miss(0, 0), miss(1, 1)] });
    expect(stuckPlan.steps[0]!.instruction).toBe(first);
  });

  it('never starts a plan with a step the robot refused since it last moved, with or without a text check', async () => {
    const plain = await new OnnxPlanner(model, { seed: 4, maxSteps: 3 }).plan(request(1));
    const first = plain.steps[0]!.instruction;
    const entry = (status: HistoryEntry['status'], stepIndex = 0): HistoryEntry => ({ stepIndex, attempt: 0, instruction: first, status, reason: 'out of reach' });
    const firstStep = async (history: HistoryEntry[], textCheck?: () => Promise<never[]>) =>
      (await new OnnxPlanner(model, { seed: 4, maxSteps: 3, ...(textCheck ? { textCheck } : {}) }).plan({ ...request(1), history })).steps[0]!.instruction;
    const alternatives = await model.stepAlternatives(shirt.profile.id, 'fold the t-shirt', (await model.encodePicture(request(1).observation)).codes, { keep: [], refused: [first] });
    expect(alternatives[0]!.text).not.toBe(first);
    expect(await firstStep([entry('rejected')])).toBe(alternatives[0]!.text);
    expect(await firstStep([entry('rejected')], async () => [])).toBe(alternatives[0]!.text);
    // A miss may go another way next time, and after the robot moved a refusal may not hold.
    expect(await firstStep([entry('miss')])).toBe(first);
    expect(await firstStep([entry('rejected'), { ...entry('done', 1), instruction: 'something else' }])).toBe(first);
  });

  it('draws a step the robot just missed with missedKeepBias, every other step with keepBias', async () => {
    const plain = await new OnnxPlanner(model, { seed: 4, maxSteps: 2 }).plan(request(1));
    const first = plain.steps[0]!.instruction;
    const history: HistoryEntry[] = [{ stepIndex: 0, attempt: 0, instruction: first, status: 'miss', reason: 'keyframe unreachable' }];
    const keyframe0 = async (options: { keepBias?: number; missedKeepBias?: number }, h: HistoryEntry[]) =>
      Buffer.from((await new OnnxPlanner(model, { seed: 4, maxSteps: 2, ...options }).plan({ ...request(1), history: h })).steps[0]!.keyframe).toString('base64');
    const bold = await keyframe0({ missedKeepBias: -2 }, history);
    expect(bold).toBe(await keyframe0({ keepBias: -2 }, history));
    expect(bold).not.toBe(await keyframe0({}, history));
    // Not missed: the usual prior.
    expect(await keyframe0({ missedKeepBias: -2 }, [])).toBe(await keyframe0({}, []));
  });

  it('draws missedDraws keyframes for a step the robot just missed and keeps the boldest that passes', async () => {
    const plain = await new OnnxPlanner(model, { seed: 4, maxSteps: 2 }).plan(request(1));
    const first = plain.steps[0]!.instruction;
    const history: HistoryEntry[] = [{ stepIndex: 0, attempt: 0, instruction: first, status: 'miss', reason: 'keyframe unreachable' }];
    const drawsOfStep0 = async (options: { missedDraws?: number }, h: HistoryEntry[]) => {
      const seen: string[] = [];
      const check = async (steps: readonly { index: number; keyframe: Uint8Array }[]) => {
        const last = steps.at(-1)!;
        if (last.index === 0) seen.push(Buffer.from(last.keyframe).toString('base64'));
        return [];
      };
      const draft = await new OnnxPlanner(model, { seed: 4, maxSteps: 2, check, ...options }).plan({ ...request(1), history: h });
      return { seen, kept: Buffer.from(draft.steps[0]!.keyframe).toString('base64') };
    };
    const bold = await drawsOfStep0({ missedDraws: 4 }, history);
    expect(bold.seen).toHaveLength(4);
    expect(new Set(bold.seen).size).toBeGreaterThan(1);
    expect(bold.seen).toContain(bold.kept);
    // Its first draw is the one a planner without missedDraws keeps (the first that passes).
    const one = await drawsOfStep0({}, history);
    expect(one.seen).toEqual([bold.seen[0]]);
    // A step not just missed is drawn once.
    expect((await drawsOfStep0({ missedDraws: 4 }, [])).seen).toHaveLength(1);
  });

  it('keeps the text draw whose first error comes latest, even with more errors after it', async () => {
    const plain = await new OnnxPlanner(model, { seed: 4, maxSteps: 3 }).plan(request(1));
    const first = plain.steps[0]!.instruction;
    // The greedy first step is refused; any other plan gets two errors, but only from step 1 on.
    const check = async (t: readonly string[]) =>
      t[0] === first
        ? [{ code: 'order' as const, severity: 'error' as const, step: 0, message: 'not yet' }]
        : t.length > 1 ? [1, 2].map((step) => ({ code: 'order' as const, severity: 'error' as const, step, message: 'later' })) : [];
    const plan = await new OnnxPlanner(model, { seed: 4, maxSteps: 3, textCheck: check }).plan(request(1));
    expect(plan.steps[0]!.instruction).not.toBe(first);
  });

  it('samples a redraw when the refusal is about the whole plan, and stops at the first that passes', async () => {
    const seenTexts: string[][] = [];
    const refuseFirst = async (texts: readonly string[]) => {
      seenTexts.push([...texts]);
      return seenTexts.length === 1 ? [{ code: 'step_count' as const, severity: 'error' as const, step: null, message: 'too many steps' }] : [];
    };
    const planner = new OnnxPlanner(model, { seed: 4, maxSteps: 3, textCheck: refuseFirst });
    const plan = await planner.plan(request(1));
    expect(seenTexts).toHaveLength(2);
    expect(planner.lastTiming!.textRedraws).toBe(1);
    expect(plan.steps.map((s) => s.instruction)).toEqual(seenTexts[1]!.slice(0, 3));
    // The first draw is the unchecked planner's; a check that passes costs no redraw.
    const plain = await new OnnxPlanner(model, { seed: 4, maxSteps: 3 }).plan(request(1));
    expect(seenTexts[0]!.slice(0, 3)).toEqual(plain.steps.map((s) => s.instruction));
    const passing = new OnnxPlanner(model, { seed: 4, maxSteps: 3, textCheck: async () => [] });
    expect(summary((await passing.plan(request(1))).steps)).toEqual(summary(plain.steps));
    expect(passing.lastTiming!.textRedraws).toBe(0);
  });
});

describe('stuckStep', () => {
  const h = (instruction: string, status: HistoryEntry['status']): HistoryEntry => ({ stepIndex: 0, attempt: 0, instruction, status });
  it('counts the failures of one text since the last done step', () => {
    expect(stuckStep([h('a', 'done'), h('b', 'miss'), h('b', 'rejected')], 2)).toBe('b');
    expect(stuckStep([h('b', 'miss'), h('b', 'done'), h('b', 'miss')], 2)).toBeNull();
    expect(stuckStep([h('a', 'miss'), h('b', 'miss')], 2)).toBeNull();
    expect(stuckStep([h('b', 'miss'), h('b', 'timeout'), h('b', 'miss')], 3)).toBe('b');
    expect(stuckStep([h('b', 'miss'), h('b', 'cancelled')], 1)).toBeNull();
    expect(stuckStep([h('b', 'miss'), h('b', 'miss')], 0)).toBeNull();
    expect(stuckStep([], 1)).toBeNull();
    // By what the steps act on, when a key says so: the arm named does not make another step.
    const object = (t: string) => t.replace(/ with the \w+ arm$/, '');
    expect(stuckStep([h('pick up the cup with the left arm', 'miss'), h('pick up the cup with the right arm', 'miss')], 2, object)).toBe('pick up the cup');
  });
});

describe('repairFrom', () => {
  const e = (step: number | null, severity: 'error' | 'warning' = 'error') => ({ code: 'keyframe_blank' as const, severity, step, message: 'm' });
  it('starts at the first step with an error, ignoring warnings', () => {
    expect(repairFrom([e(5), e(3), e(1, 'warning')], 7)).toBe(3);
    expect(repairFrom([e(6)], 7)).toBe(6);
  });
  it('redraws everything for a plan-level error, an error at step 0, or no error', () => {
    expect(repairFrom([e(5), e(null)], 7)).toBe(0);
    expect(repairFrom([e(0)], 7)).toBe(0);
    expect(repairFrom([e(2, 'warning')], 7)).toBe(0);
    expect(repairFrom(undefined, 7)).toBe(0);
  });
  it('never keeps more steps than the draft has', () => {
    expect(repairFrom([e(9)], 4)).toBe(4);
  });

});

describe('boldestPassing', () => {
  // Each draw: [errors, change].
  const pick = async (draws: [number, number][], n: number, tries: number) => {
    const made: number[] = [];
    const { value, redraws } = await boldestPassing(
      n,
      tries,
      async (k) => {
        made.push(k);
        return k;
      },
      async (k) => draws[k]![0],
      (k) => draws[k]![1],
    );
    return { value, redraws, made };
  };

  it('makes n draws and keeps the largest change among those with no errors', async () => {
    expect(await pick([[0, 0.1], [1, 0.9], [0, 0.3], [0, 0.2]], 4, 4)).toEqual({ value: 2, redraws: 3, made: [0, 1, 2, 3] });
  });

  it('draws on past n, up to tries, while none passes, and keeps the fewest errors', async () => {
    expect(await pick([[2, 0.5], [1, 0.1], [0, 0.05], [0, 0.9]], 2, 4)).toEqual({ value: 2, redraws: 2, made: [0, 1, 2] });
    expect(await pick([[2, 0.5], [1, 0.1], [1, 0.4]], 2, 3)).toEqual({ value: 2, redraws: 2, made: [0, 1, 2] });
  });
});
