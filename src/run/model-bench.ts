import { setTimeout as sleep } from 'node:timers/promises';
import { decide } from '../../sim/controller.js';
import { missModelOf } from '../../sim/miss/index.js';
import { sceneById } from '../scenes/registry.js';
import { sceneSvg } from '../scenes/view.js';
import { loadProfile } from '../profile/load.js';
import type { RobotProfile, SceneId } from '../schema/index.js';
import { Rng } from '../util/rng.js';
import { DATASET_ROBOTS, HELDOUT_SEED_BASE } from '../model/dataset.js';
import { DEFAULT_DIDA } from '../model/dida.js';
import { OnnxPlanner } from '../model/onnx-planner.js';
import type { Picture } from '../model/picture.js';
import type { PlanningModel } from '../model/planning-model.js';
import { DEFAULT_KEEP_BIAS, type KeyframeSampler } from '../model/world-model.js';
import { keyframeGate, textGate } from '../validate/gates.js';

export interface SamplerFigures {
  keyframeP50Ms: number;
  planP50Ms: number;
  /**
   * Share of keyframe cells equal to the cells of the simulator's true next state as the model holds
   * it (exact cells: a VQ token, or all 64 palette indices of a palette cell).
   */
  tokenAccuracy: number;
}

export interface ModelBenchResult {
  ar: SamplerFigures;
  dida: SamplerFigures;
  /** AR keyframe p50 / DiDA keyframe p50, measured in this run. */
  speedup: number;
  /** What copying the conditioning picture's cells would score: the floor a world model must beat. */
  copyTokenAccuracy: number;
  /** Exact-cell accuracy over only the cells the step changes. */
  changedTokenAccuracy: { ar: number; dida: number };
  /**
   * Share of held-out steps where the sim controller, given the keyframe, acts and lands in the state
   * the oracle meant (the closed loop's precondition). `tokenizer` uses the VQ reconstruction of the
   * true next state: the ceiling the tokenizer leaves.
   */
  controllerAccepts: { tokenizer: number; ar: number; dida: number };
  /**
   * Keyframes redrawn per timed plan because the validator's picture checks refused the first draw
   * (the planner gates each keyframe as the product does; planP50Ms includes the redraws).
   */
  planRedraws: { ar: number; dida: number };
  inputs: { transitions: number; plans: number; passes: number; seedBase: number; keepUnchanged: boolean; keepBias: number; settleMs: number };
}

export interface ModelBenchOptions {
  /** Held-out one-step transitions per scene (both scenes). */
  transitionsPerScene?: number;
  /** Full 7-step T-shirt plans timed per sampler. */
  plans?: number;
  passes?: number;
  /** Prior that a cell keeps its code (KeyframeOptions.keepBias); default DEFAULT_KEEP_BIAS. */
  keepBias?: number;
  /** Draw keyframes against their starting picture (picture.ts), as the planner does; default true. */
  keepUnchanged?: boolean;
  /**
   * Idle time before each timed keyframe, both samplers (default SETTLE_MS): the timed draw should
   * not pay for the other sampler's aftermath.
   */
  settleMs?: number;
  /** After each input of each phase: what is being measured, and how far (the bench runs for minutes). */
  onProgress?: (progress: BenchProgress) => void;
}

/** One step of a bench phase (ModelBenchOptions.onProgress): `done` of `total` inputs of `phase`. */
export interface BenchProgress {
  phase: string;
  done: number;
  total: number;
}

interface Transition {
  scene: SceneId;
  state: unknown;
  /** What the oracle means the step to do: the controller should pick an outcome that looks like it. */
  nextSvg: string;
  robot: string;
  task: string;
  frameSvg: string;
  step: string;
}

/** A held-out start: the oracle's plan for the scene's full task from a seeded layout, walked to step `at`. */
export interface HeldOutCase {
  scene: SceneId;
  robot: string;
  profile: RobotProfile;
  task: string;
  /** Keyframe-camera SVG of a state. */
  svg: (state: unknown) => string;
  /** The true state before step `at`. */
  state: unknown;
  steps: { instruction: string; next: unknown }[];
  at: number;
}

/**
 * `count` held-out starts of a scene, case k from seed `seedBase + k` on robot k of DATASET_ROBOTS,
 * at step (k * 5) mod the plan's length so the cases spread over the plan.
 */
export function heldOutCases(scene: SceneId, count: number, seedBase = HELDOUT_SEED_BASE + 500): HeldOutCase[] {
  const out: HeldOutCase[] = [];
  for (let k = 0; k < count; k++) {
    const { mod, goal, ...start } = heldOutStart(scene, k, seedBase);
    const steps = mod.oracle(start.state, goal, start.profile) as { instruction: string; next: unknown }[];
    const at = (k * 5) % steps.length;
    let state = start.state;
    for (let i = 0; i < at; i++) state = steps[i]!.next;
    out.push({ ...start, state, steps, at });
  }
  return out;
}

/** Episode k of the held-out starts: robot k of DATASET_ROBOTS, the scene's full task, the layout of seed `seedBase + k`. */
function heldOutStart(scene: SceneId, k: number, seedBase: number) {
  const mod = sceneById(scene);
  const robots = DATASET_ROBOTS[scene];
  const robot = robots[k % robots.length]!;
  const profile = loadProfile(robot);
  const camera = profile.cameras.find((c) => c.name === profile.keyframeCamera)!;
  const svg = (s: unknown) => sceneSvg(mod, s as never, { mount: camera.mount }, camera.resolution);
  const task = mod.tasks[0]!;
  const parsed = mod.parseTask(task);
  if (!parsed.ok) throw new Error(parsed.reason);
  const state: unknown = mod.initial(profile, new Rng(seedBase + k).fork('layout'));
  return { mod, goal: parsed.goal as never, scene, robot, profile, svg, task, state };
}

/**
 * `count` held-out failure states of a scene and the oracle's plan to recover (case `at` = 0): from
 * layout seed `seedBase + k` on robot k of DATASET_ROBOTS, the oracle's plan is walked with each step
 * missing at `missRate` (seeded), and the first state after each miss is a case, until `count`.
 * `heldOutCases` starts only on the oracle's own path, where no recovery step (a one-corner grasp
 * after a slip, standing a tipped cup up) ever comes; the closed loop fails on those.
 */
export function heldOutRecoveries(scene: SceneId, count: number, seedBase = HELDOUT_SEED_BASE + 700, missRate = 0.5): HeldOutCase[] {
  const out: HeldOutCase[] = [];
  // At most 30 plans an episode and 20 episodes a case: a low missRate (0: no case at all) ends.
  for (let k = 0; out.length < count && k < count * 20; k++) {
    const { mod, goal, ...start } = heldOutStart(scene, k, seedBase);
    const rng = new Rng(seedBase + k).fork('misses');
    let state = start.state;
    let afterMiss = false;
    for (let plan = 0; plan < 30 && out.length < count; plan++) {
      const steps = mod.oracle(state as never, goal, start.profile) as { instruction: string; next: unknown; action: never }[];
      if (steps.length === 0) break;
      if (afterMiss) out.push({ ...start, state, steps, at: 0 });
      const first = steps[0]!;
      afterMiss = rng.chance(missRate);
      state = afterMiss ? missModelOf(scene).miss(state, first.action, rng).state : first.next;
    }
  }
  return out;
}

/** One-step held-out transitions: a start state, an oracle step, the state it leads to. */
function heldOutTransitions(scene: SceneId, count: number): Transition[] {
  return heldOutCases(scene, count).map(({ robot, task, svg, state, steps, at }) => ({
    scene,
    state,
    robot,
    task,
    frameSvg: svg(state),
    step: steps[at]!.instruction,
    nextSvg: svg(steps[at]!.next),
  }));
}

/** ModelBenchOptions.settleMs's default. */
export const SETTLE_MS = 100;

const p50 = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const SAMPLER_NAMES: Record<KeyframeSampler, string> = { ar: 'AR', dida: 'DiDA' };
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** Whether cell `c` (`per` codes from c * per) is the same in both pictures. */
function sameCell(a: ArrayLike<number>, b: ArrayLike<number>, c: number, per: number): boolean {
  for (let k = c * per; k < (c + 1) * per; k++) if (a[k] !== b[k]) return false;
  return true;
}

/**
 * Where a drawn keyframe departs from the true next picture, cell by cell: `kept`, cells the step
 * changes that the draw copies from the start (the keep answer's error); `wrong`, cells the step
 * changes that the draw changes to something else (the drawing's error); `redrawn`, cells the step
 * keeps that the draw changes; `changed`, the cells the step changes.
 */
export interface CellErrors { kept: number; wrong: number; redrawn: number; changed: number }

export function cellErrors(start: ArrayLike<number>, truth: ArrayLike<number>, drawn: ArrayLike<number>, per: number): CellErrors {
  const errors: CellErrors = { kept: 0, wrong: 0, redrawn: 0, changed: 0 };
  for (let c = 0; c < truth.length / per; c++) {
    const copied = sameCell(drawn, start, c, per);
    if (sameCell(start, truth, c, per)) {
      errors.redrawn += copied ? 0 : 1;
      continue;
    }
    errors.changed++;
    if (copied) errors.kept++;
    else if (!sameCell(drawn, truth, c, per)) errors.wrong++;
  }
  return errors;
}

/**
 * AR and DiDA on the same model and the same held-out inputs, in one run: keyframe latency and token
 * accuracy on one-step transitions of both scenes, and full T-shirt plan latency.
 */
export async function benchWorldModel(model: PlanningModel, options: ModelBenchOptions = {}): Promise<ModelBenchResult> {
  const n = options.transitionsPerScene ?? 12;
  const passes = options.passes ?? model.didaPasses;
  const say = options.onProgress ?? (() => undefined);
  const transitions = [
    ...heldOutTransitions('tshirt', n),
    ...heldOutTransitions('table', n),
  ];
  const keep = options.keepUnchanged ?? true;
  const keepBias = options.keepBias ?? DEFAULT_KEEP_BIAS;
  say({ phase: `encoding ${transitions.length} held-out transitions`, done: 0, total: transitions.length });
  const encoded = await Promise.all(
    transitions.map(async (t) => {
      const picture = await model.encodePicture(t.frameSvg);
      return { t, picture, frame: picture.codes, next: await model.encodeImage(t.nextSvg) };
    }),
  );
  const figures: Record<KeyframeSampler, { ms: number[]; hit: number; total: number; chHit: number; chTotal: number }> = {
    ar: { ms: [], hit: 0, total: 0, chHit: 0, chTotal: 0 },
    dida: { ms: [], hit: 0, total: 0, chHit: 0, chTotal: 0 },
  };
  const accepts = { tokenizer: 0, ar: 0, dida: 0 };
  const accepted = async (t: Transition, codes: Int32Array, reference: Picture): Promise<number> => {
    const mod = sceneById(t.scene);
    const d = await decide(mod, loadProfile(t.robot), t.state as never, t.step, await model.decodePng(codes, keep ? reference : undefined));
    if (d.kind !== 'act') return 0;
    const profile = loadProfile(t.robot);
    const camera = profile.cameras.find((c) => c.name === profile.keyframeCamera)!;
    return sceneSvg(mod, d.next as never, { mount: camera.mount }, camera.resolution) === t.nextSvg ? 1 : 0;
  };
  let copyHit = 0;
  let copyTotal = 0;
  const per = model.codesPerCell;
  for (const [i, e] of encoded.entries()) {
    for (let c = 0; c < e.next.length / per; c++) copyHit += sameCell(e.frame, e.next, c, per) ? 1 : 0;
    copyTotal += e.next.length / per;
    accepts.tokenizer += await accepted(e.t, e.next, e.picture);
    say({ phase: 'sim controller on the tokenizer\'s keyframes (the ceiling)', done: i + 1, total: encoded.length });
  }
  // Latency is measured warm and undisturbed, as a planner service runs, and side by side:
  // - each sampler first draws every input once untimed: cold, onnxruntime's first calls at each new
  //   sequence length cost 1.5-3x a warm call (DiDA 40-80 ms for the first eight inputs, 20-30 after);
  // - the controller's verdicts (sharp and resvg renders) come after all timing: interleaved, they
  //   slowed the keyframe call after each of them by ~20 ms (DiDA p50 44 ms against 24 ms);
  // - the two samplers take turns input by input, so both are timed under the same conditions. This
  //   machine has slow spells of about 30 s, with unchanged code, in which every DiDA keyframe takes
  //   34-38 ms instead of 20-22 (seen in a DiDA-only loop, so not caused by AR). Timed one sampler
  //   after the other, a spell that fell on the 1 s of DiDA but not on the 11 s of AR gave 12x where
  //   the same code gave 21-24x a minute later;
  // - AR's 256 runs leave an aftermath that the next DiDA calls pay and a DiDA-only planner never
  //   does: the first two 1-pass DiDA keyframes after an AR one took 6.7-13 ms, later ones 4.0-4.5.
  //   So each timed draw comes after SETTLE_MS of idle, and DiDA's after an untimed draw of another
  //   input (another, so that the timed draw finds nothing of its own input warm that AR's would
  //   not). With no idle, DiDA p50 was 5.4-9.3 ms and the speedup 18-29x in four benches; with
  //   100 ms, 4.7-5.2 ms and 31-35x, taking turns with them, AR unchanged (155-167 ms). The plan p50
  //   is timed with no idle: it is what a caller waits for.
  const drawn: Record<KeyframeSampler, Int32Array[]> = { ar: [], dida: [] };
  const draw = (sampler: KeyframeSampler, i: number, e: (typeof encoded)[number]) =>
    model.keyframe(e.t.robot, e.t.task, e.frame, e.t.step, { sampler, seed: i, passes, keepBias });
  for (const sampler of ['ar', 'dida'] as const) {
    for (const [i, e] of encoded.entries()) {
      await draw(sampler, i, e);
      say({ phase: `${SAMPLER_NAMES[sampler]} warm-up keyframes (untimed)`, done: i + 1, total: encoded.length });
    }
  }
  const settleMs = options.settleMs ?? SETTLE_MS;
  const settle = async () => {
    if (settleMs > 0) await sleep(settleMs);
  };
  const timed = async (sampler: KeyframeSampler, i: number, e: (typeof encoded)[number]) => {
    const t0 = performance.now();
    drawn[sampler].push(await draw(sampler, i, e));
    figures[sampler].ms.push(performance.now() - t0);
  };
  for (const [i, e] of encoded.entries()) {
    await settle();
    await timed('ar', i, e);
    await settle();
    const other = (i + 1) % encoded.length;
    await draw('dida', other, encoded[other]!);
    await timed('dida', i, e);
    say({ phase: 'timed keyframes, AR and DiDA in turn', done: i + 1, total: encoded.length });
  }

  const plans = options.plans ?? 3;
  const planMs: Record<KeyframeSampler, number[]> = { ar: [], dida: [] };
  const planRedraws: Record<KeyframeSampler, number> = { ar: 0, dida: 0 };
  const profile = loadProfile('aloha-agilex');
  const camera = profile.cameras.find((c) => c.name === profile.keyframeCamera)!;
  const shirt = sceneById('tshirt');
  for (const sampler of ['dida', 'ar'] as const) {
    for (let k = 0; k < plans; k++) {
      const state = shirt.initial(profile, new Rng(HELDOUT_SEED_BASE + 900 + k).fork('layout'));
      const observation = new TextEncoder().encode(sceneSvg(shirt, state, { mount: camera.mount }, camera.resolution));
      const planner = new OnnxPlanner(model, { sampler, seed: k, passes, keepUnchanged: keep, keepBias, check: keyframeGate(), textCheck: textGate() });
      const t0 = performance.now();
      await planner.plan({ robot: profile, task: 'fold the t-shirt', scene: 'tshirt', observation, history: [], version: 1 });
      planMs[sampler].push(performance.now() - t0);
      planRedraws[sampler] += planner.lastTiming!.redraws.reduce((a, b) => a + b, 0) / plans;
      say({ phase: `${SAMPLER_NAMES[sampler]} 7-step T-shirt plans`, done: k + 1, total: plans });
    }
  }

  for (const sampler of ['dida', 'ar'] as const) {
    const f = figures[sampler];
    for (const [i, e] of encoded.entries()) {
      const codes = drawn[sampler][i]!;
      accepts[sampler] += await accepted(e.t, codes, e.picture);
      say({ phase: `sim controller on the ${SAMPLER_NAMES[sampler]} keyframes`, done: i + 1, total: encoded.length });
      for (let c = 0; c < codes.length / per; c++) {
        const hit = sameCell(codes, e.next, c, per) ? 1 : 0;
        f.hit += hit;
        f.total++;
        if (!sameCell(e.frame, e.next, c, per)) {
          f.chHit += hit;
          f.chTotal++;
        }
      }
    }
  }

  const out = (s: KeyframeSampler): SamplerFigures => ({
    keyframeP50Ms: round(p50(figures[s].ms)),
    planP50Ms: round(p50(planMs[s])),
    tokenAccuracy: round(figures[s].hit / figures[s].total, 4),
  });
  const ar = out('ar');
  const dida = out('dida');
  return {
    ar,
    dida,
    speedup: round(ar.keyframeP50Ms / dida.keyframeP50Ms, 2),
    copyTokenAccuracy: round(copyHit / copyTotal, 4),
    changedTokenAccuracy: { ar: round(figures.ar.chHit / Math.max(1, figures.ar.chTotal), 4), dida: round(figures.dida.chHit / Math.max(1, figures.dida.chTotal), 4) },
    controllerAccepts: { tokenizer: round(accepts.tokenizer / encoded.length, 3), ar: round(accepts.ar / encoded.length, 3), dida: round(accepts.dida / encoded.length, 3) },
    planRedraws: { ar: round(planRedraws.ar, 2), dida: round(planRedraws.dida, 2) },
    inputs: { transitions: encoded.length, plans, passes, seedBase: HELDOUT_SEED_BASE, keepUnchanged: keep, keepBias, settleMs },
  };
}
