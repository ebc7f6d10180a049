import { repairFrom, type HistoryEntry, type Planner, type PlanDraft, type PlanIssue, type PlanRequest, type StepCheck, type TextCheck } from '../planner/planner.js';
import type { PlannedStep } from '../schema/index.js';
import { meanAbsDiff } from '../image/compare.js';
import type { Picture } from './picture.js';
import type { KeyframeOptions, KeyframeSampler, WorldModel } from './world-model.js';

export interface OnnxPlannerOptions {
  sampler?: KeyframeSampler;
  /** Seeds every sampling choice; the same request and seed give the same plan. */
  seed?: number;
  /** Text sampling (0 = greedy, the default: plans should not wander). */
  textTemperature?: number;
  topK?: number;
  topP?: number;
  /** DiDA passes, schedule and guidance; see dida.ts. */
  passes?: number;
  schedule?: KeyframeOptions['schedule'];
  guidance?: number;
  /** Prior that a keyframe cell keeps its starting code; see KeyframeOptions.keepBias. */
  keepBias?: number;
  /**
   * The keep prior for a step the robot just failed (the last entry of the history, same text): a
   * missed step is most often a keyframe drawn too weakly, and a negative prior draws the change
   * bolder. Undefined = `keepBias` for every step.
   */
  missedKeepBias?: number;
  /**
   * Keyframes drawn for a step the robot just failed (same text as the last history entry), of which
   * the one that changes its starting picture most among those `check` passes is kept; the others
   * lose to it even when they pass. A miss on the table is most often a keyframe drawn too faintly
   * (the controller wants at least half the way to the outcome), and sampled draws of the same step
   * differ in how far they go. Default 1: the first draw that passes, as for every other step.
   */
  missedDraws?: number;
  /**
   * Temperature for every draft after the first: a validator rejection (same planning round) or a
   * replan after a miss. Greedy decoding would draw the same refused plan again from the same
   * picture; sampling, seeded per draft, gives the retry a different plan. 0 = always greedy.
   * Default 0.7.
   */
  retryTemperature?: number;
  /** Most steps a plan may have (the longest oracle plan is 12, plus recoveries). */
  maxSteps?: number;
  /**
   * Keep the starting picture's pixels wherever a keyframe repeats its code (picture.ts); default
   * true. false draws every cell with the VQ decoder (to measure what keeping buys).
   */
  keepUnchanged?: boolean;
  /**
   * Checks each keyframe as it is drawn (keyframeGate() runs the validator's picture checks on the
   * plan so far). A refused keyframe is drawn again, sampled at retryTemperature with its own seed, up
   * to `keyframeTries` draws in all; the draw with the fewest errors is kept, so a step that never
   * passes still goes to the validator, which then refuses the plan as before.
   */
  check?: StepCheck;
  /** Draws per keyframe when `check` refuses them; default 4. */
  keyframeTries?: number;
  /**
   * Checks the step texts before any keyframe is drawn (textGate() runs the validator without
   * pictures). Refused texts are drawn again, up to `textTries` draws, and the draw whose first error
   * in the steps it wrote comes latest is kept (then the one with the fewest errors). A redraw keeps the steps before the first refused one and
   * puts the model's most likely other text that passes in its place (WorldModel.stepAlternatives),
   * then writes the rest; when no alternative passes (or the error is about the whole plan), it
   * samples at retryTemperature with its own seed instead.
   */
  textCheck?: TextCheck;
  /** Draws of the step texts when `textCheck` refuses them; default 3. */
  textTries?: number;
  /**
   * For tasks whose steps may go in any order (table clearing): when the robot failed the same step
   * this many times in a row since its last done step, the next plan starts with another step if the
   * model has one that `textCheck` passes, and the failing step comes later, from a changed scene.
   * When no other first step passes, the plan starts with the failing one again. Needs `textCheck`.
   * 0 (the default) = never. Measured with `keystep rollout --put-off 2`: on the T-shirt 3 of 20
   * episodes ended on steps the robot refused as too early (the validator does not know every order
   * the robot keeps); on the table the model's plans that do not start with the cup draw worse
   * keyframes (6 steps done over 10 episodes against 15 without it).
   */
  putOffAfter?: number;
  /**
   * What a step acts on, so that "pick up the cup with the left arm" and "... with the right arm"
   * count as the same step for `putOffAfter` (e.g. stepSubject() in src/validate/gates.ts). Without
   * it, or where it returns null, steps are the same when their texts are.
   */
  stepSubject?: (instruction: string, request: PlanRequest) => string | null;
}

/**
 * The step the robot failed `times` times or more in a row at the end of `history` (misses, refusals,
 * timeouts since the last done step, all with the same `key`: by default the text), or null.
 */
export function stuckStep(history: readonly HistoryEntry[], times: number, key: (instruction: string) => string = (t) => t): string | null {
  if (times <= 0) return null;
  let count = 0;
  let stuck: string | null = null;
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i]!;
    if (h.status === 'done' || h.status === 'cancelled' || (stuck !== null && key(h.instruction) !== stuck)) break;
    stuck = key(h.instruction);
    count++;
  }
  return count >= times ? stuck : null;
}

/** What the planner measured while planning, for benches and logs. */
export interface PlanTiming {
  textMs: number;
  /** Per step, every draw included. */
  keyframeMs: number[];
  /** Per step, keyframes drawn beyond the first because `check` refused them. */
  redraws: number[];
  /** Step texts drawn beyond the first because `textCheck` refused them. */
  textRedraws: number;
  totalMs: number;
}

/**
 * The embedded world model as a planner backend: camera frame -> visual tokens -> step texts -> one
 * keyframe per step, each drawn from the previous keyframe (the first from the observation). It sees
 * the picture, the robot's id and the task text, never the simulator's state.
 */
export class OnnxPlanner implements Planner {
  readonly name = 'onnx';
  lastTiming: PlanTiming | null = null;
  /** Drafts already made for the plan version being planned (validator retries). */
  private drafts = { version: -1, count: 0 };
  /** The latest draft's steps and the pictures they were drawn as, so a repair continues from them. */
  private last: { steps: PlannedStep[]; pictures: Picture[] } | null = null;
  /** Repairs in a row within one planning round (a draft without `previous` ends the streak). */
  private repairs = 0;

  constructor(
    private readonly model: WorldModel,
    private readonly options: OnnxPlannerOptions = {},
  ) {}

  async plan(request: PlanRequest): Promise<PlanDraft> {
    const t0 = performance.now();
    this.drafts = this.drafts.version === request.version ? { version: request.version, count: this.drafts.count + 1 } : { version: request.version, count: 0 };
    const seed = (this.options.seed ?? 0) + request.version * 7919 + this.drafts.count * 104_729;
    const retry = this.drafts.count > 0 || request.version > 1;
    const retryTemperature = this.options.retryTemperature ?? 0.7;
    const temperature = retry && retryTemperature > 0 ? retryTemperature : undefined;
    // A redraw of refused texts or of a refused keyframe samples (greedy would draw it again).
    const temperatureOf = (draw: number) => (draw > 0 && retryTemperature > 0 ? retryTemperature : temperature);
    const robot = request.robot.id;
    const picture = await this.model.encodePicture(request.observation);
    const observation = picture.codes;
    // A repair keeps the refused draft's steps before its first error and redraws from there. When a
    // repair is refused again, the fault may lie in the picture the failing step starts from (the
    // keyframes drift along a chain), so each further repair in a row starts one step earlier.
    const firstError = request.previous ? repairFrom(request.rejected, request.previous.steps.length) : 0;
    this.repairs = firstError > 0 ? this.repairs + 1 : 0;
    const from = firstError > 0 ? Math.max(1, firstError - (this.repairs - 1)) : 0;
    const kept = from > 0 ? await this.keptSteps(request.previous!, from) : { steps: [], pictures: [] };
    const write = async (draw: number, keep: readonly string[], temperature: number): Promise<string[]> => {
      const written = await this.model.stepTexts(robot, request.task, observation, {
        seed: seed + draw * 65_537,
        keep,
        temperature,
        ...(this.options.topK !== undefined ? { topK: this.options.topK } : {}),
        ...(this.options.topP !== undefined ? { topP: this.options.topP } : {}),
        ...(request.signal ? { signal: request.signal } : {}),
      });
      return written.slice(0, this.options.maxSteps ?? 24);
    };
    const gate = this.options.textCheck;
    const subject = this.options.stepSubject;
    const keyOf = (text: string) => subject?.(text, request) ?? text;
    const putOffAfter = this.options.putOffAfter ?? 0;
    const stuck = gate ? stuckStep(request.history, putOffAfter, keyOf) : null;
    // A stuck step as the first step written counts as refused (see putOffAfter), so the redraws ask
    // the model for its best other first step that passes the gate.
    const textCheck: TextCheck | undefined =
      gate && stuck !== null
        ? async (texts, req) => {
            const errors = await gate(texts, req);
            const first = kept.steps.length;
            if (texts[first] === undefined || keyOf(texts[first]) !== stuck) return errors;
            const putOff: PlanIssue = { code: 'put_off', severity: 'error', step: first, message: `"${texts[first]}" failed ${putOffAfter} or more times in a row; another step first` };
            return [...errors, putOff];
          }
        : gate;
    // The latest refused texts and their first refused step; refused step texts per prefix.
    let refusal: { texts: string[]; step: number } | null = null;
    const refusedAfter = new Map<string, string[]>();
    const drawTexts = async (draw: number): Promise<string[]> => {
      if (draw > 0 && textCheck && refusal !== null) {
        const better = await this.departFrom(refusal, refusedAfter, request, textCheck, observation);
        if (better !== null) return write(draw, better, this.options.textTemperature ?? 0);
      }
      return write(draw, kept.steps.map((s) => s.instruction), temperatureOf(draw) ?? this.options.textTemperature ?? 0);
    };
    const { value: texts, redraws: textRedraws } = await leastRefused(
      textCheck ? Math.max(1, this.options.textTries ?? 3) : 1,
      drawTexts,
      async (t) => {
        if (!textCheck) return 0;
        // Only errors in the steps written now count: kept steps passed before, and cannot change here.
        const errors = (await textCheck(t, request)).filter((i) => i.step === null || i.step >= kept.steps.length);
        const steps = errors.map((i) => i.step);
        refusal = errors.length > 0 && !steps.includes(null) ? { texts: [...t], step: Math.min(...(steps as number[])) } : null;
        // The draw whose first error comes latest wins, then the one with the fewest: the steps before
        // the first error are what a refused plan can still run (the executor's partial plans).
        if (errors.length === 0) return 0;
        const first = refusal === null ? 0 : refusal.step + 1;
        return (TEXT_STEPS_SCORED - Math.min(first, TEXT_STEPS_SCORED)) * 1000 + errors.length;
      },
    );
    const t1 = performance.now();
    const steps: PlannedStep[] = [...kept.steps];
    const pictures: Picture[] = [...kept.pictures];
    const keyframeMs: number[] = [];
    const redraws: number[] = [];
    const keep = this.options.keepUnchanged ?? true;
    const missed = stuckStep(request.history, 1);
    const keepBiasFor = (instruction: string) =>
      instruction === missed && this.options.missedKeepBias !== undefined ? this.options.missedKeepBias : this.options.keepBias;
    const check = this.options.check;
    const tries = check ? Math.max(1, this.options.keyframeTries ?? 4) : 1;
    const missedDraws = Math.max(1, this.options.missedDraws ?? 1);
    for (let index = kept.steps.length; index < texts.length; index++) {
      const instruction = texts[index]!;
      // Each keyframe is drawn from the one before it, the first from the observation.
      const previous = pictures.at(-1) ?? picture;
      const keepBias = keepBiasFor(instruction);
      const k0 = performance.now();
      const drawKeyframe = async (draw: number) => {
        const t = temperatureOf(draw);
        const codes = await this.model.keyframe(robot, request.task, previous.codes, instruction, {
          sampler: this.options.sampler ?? 'dida',
          seed: seed + index + 1 + draw * 65_537,
          ...(this.options.passes !== undefined ? { passes: this.options.passes } : {}),
          ...(this.options.schedule !== undefined ? { schedule: this.options.schedule } : {}),
          ...(this.options.guidance !== undefined ? { guidance: this.options.guidance } : {}),
          ...(keepBias !== undefined ? { keepBias } : {}),
          ...(t !== undefined ? { temperature: t } : {}),
          ...(request.signal ? { signal: request.signal } : {}),
        });
        const drawn = await this.model.decodePicture(codes, keep ? previous : undefined);
        const step: PlannedStep = { index, instruction, keyframe: await this.model.toPng(drawn.rgb) };
        return { step, drawn };
      };
      const errorsOf = async (v: { step: PlannedStep }) => (check ? (await check([...steps, v.step], request)).length : 0);
      const { value, redraws: redrawn } =
        instruction === missed && missedDraws > 1
          ? await boldestPassing(missedDraws, tries, drawKeyframe, errorsOf, (v) => meanAbsDiff(v.drawn.rgb, previous.rgb))
          : await leastRefused(tries, drawKeyframe, errorsOf);
      steps.push(value.step);
      pictures.push(value.drawn);
      keyframeMs.push(performance.now() - k0);
      redraws.push(redrawn);
    }
    this.last = { steps, pictures };
    this.lastTiming = { textMs: t1 - t0, keyframeMs, redraws, textRedraws, totalMs: performance.now() - t0 };
    return {
      id: `${robot}-onnx`,
      version: request.version,
      backend: this.name,
      createdAt: new Date().toISOString(),
      ...(request.scene ? { scene: request.scene } : {}),
      steps,
    };
  }

  /**
   * The steps before `refusal.step` plus the model's most likely other text for that step that the
   * text check passes (WorldModel.stepAlternatives), or null when none of the best few does. Every
   * text refused at that step after that prefix, in this planning round, stays refused. The caller
   * writes the rest of the plan after these steps.
   */
  private async departFrom(
    refusal: { texts: string[]; step: number },
    refusedAfter: Map<string, string[]>,
    request: PlanRequest,
    textCheck: TextCheck,
    observation: ArrayLike<number>,
  ): Promise<string[] | null> {
    const prefix = refusal.texts.slice(0, refusal.step);
    const key = prefix.join('\n');
    const refused = refusedAfter.get(key) ?? [];
    refusedAfter.set(key, refused);
    // A refusal one past the last text is a plan that stopped too early (textGate): stopping is what
    // was refused there, and stepAlternatives forbids stopping for the empty text.
    refused.push(refusal.texts[refusal.step] ?? '');
    const alternatives = await this.model.stepAlternatives(request.robot.id, request.task, observation, {
      keep: prefix,
      refused,
      ...(request.signal ? { signal: request.signal } : {}),
    });
    for (const { text } of alternatives.slice(0, ALTERNATIVES_CHECKED)) {
      const errors = (await textCheck([...prefix, text], request)).filter((i) => i.step === refusal.step);
      if (errors.length === 0) return [...prefix, text];
      refused.push(text);
    }
    return null;
  }

  /**
   * The first `count` steps of `draft` and the pictures the next keyframe is drawn from. When the
   * draft is this planner's latest one (its keyframe buffers are ours), the pictures are the ones it
   * drew; otherwise (another backend's draft, a resumed run) each keyframe PNG is encoded again.
   */
  private async keptSteps(draft: PlanDraft, count: number): Promise<{ steps: PlannedStep[]; pictures: Picture[] }> {
    const steps = draft.steps.slice(0, count).map((s, index) => ({ ...s, index }));
    const ours = this.last !== null && steps.every((s, i) => this.last!.steps[i]?.keyframe === s.keyframe);
    const pictures = ours ? this.last!.pictures.slice(0, count) : await Promise.all(steps.map((s) => this.model.encodePicture(s.keyframe)));
    return { steps, pictures };
  }
}

/** Text draws are ranked by where their first error is, up to this step (see the text scoring). */
const TEXT_STEPS_SCORED = 64;

/** Alternatives tried per refused step before the planner falls back to sampling. */
const ALTERNATIVES_CHECKED = 8;

/**
 * Draws `draw(0)` ... `draw(n - 1)`, and on until one passes or `tries` draws are made, and keeps the
 * draw with the fewest errors, the one with the largest `change` among those, the earliest on a tie
 * (OnnxPlannerOptions.missedDraws). `redraws` counts the draws after the first.
 */
export async function boldestPassing<T>(
  n: number,
  tries: number,
  draw: (k: number) => Promise<T>,
  errorsOf: (value: T) => Promise<number>,
  change: (value: T) => number,
): Promise<{ value: T; redraws: number }> {
  let best: { value: T; errors: number; change: number } | null = null;
  let k = 0;
  for (; k < Math.max(n, tries); k++) {
    if (k >= n && best !== null && best.errors === 0) break;
    const value = await draw(k);
    const errors = await errorsOf(value);
    const c = change(value);
    if (best === null || errors < best.errors || (errors === best.errors && c > best.change)) best = { value, errors, change: c };
  }
  return { value: best!.value, redraws: k - 1 };
}

/**
 * Draws `draw(0)`, then `draw(1)`, ... until a draw has no errors or `tries` draws are made, and keeps
 * the draw with the fewest errors (the earliest on a tie): boldestPassing with one draw asked for and
 * no change to prefer. `redraws` counts the draws after the first.
 */
function leastRefused<T>(tries: number, draw: (k: number) => Promise<T>, errorsOf: (value: T) => Promise<number>): Promise<{ value: T; redraws: number }> {
  return boldestPassing(1, tries, draw, errorsOf, () => 0);
}
