import type { Planner, PlanDraft, PlanRequest, StepCheck, TextCheck } from '../planner/planner.js';
import type { DraftContext } from './draft-context.js';
import { nextAttempt, type PlanAttempt } from './plan-attempts.js';
import { planKeyframes, type DrawnSteps, type KeyframeDrawOptions } from './plan-keyframes.js';
import { planTexts, type TextDrawOptions } from './plan-texts.js';
import { draftSeeds } from './seed-scheme.js';
import type { PlanningModel } from './planning-model.js';
import type { KeyframeOptions, KeyframeSampler } from './world-model.js';

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
 *
 * Every draft is one PlanAttempt (plan-attempts.ts: which draft of which version, the repair streak,
 * the step to put off, the step just missed) and takes its seeds from seed-scheme.ts; the text and
 * keyframe phases (plan-texts.ts, plan-keyframes.ts) read both and share nothing else.
 */
export class OnnxPlanner implements Planner {
  readonly name = 'onnx';
  lastTiming: PlanTiming | null = null;
  /** The latest draft's attempt: the next draft counts on from it (null before the first). */
  private attempt: PlanAttempt | null = null;
  /** The latest draft's steps and the pictures they were drawn as, so a repair continues from them. */
  private last: DrawnSteps | null = null;

  constructor(
    private readonly model: PlanningModel,
    private readonly options: OnnxPlannerOptions = {},
  ) {}

  async plan(request: PlanRequest): Promise<PlanDraft> {
    const t0 = performance.now();
    const ctx = await this.draftContext(request);
    // A repair keeps the refused draft's steps before its first error, and the pictures they end on.
    const kept = ctx.attempt.keep > 0 ? await this.keptSteps(request.previous!, ctx.attempt.keep) : { steps: [], pictures: [] };
    // The texts are settled (and gated) before any keyframe: each keyframe is drawn for its text,
    // from the keyframe before it, so a changed text would throw away every keyframe after it.
    const { texts, redraws: textRedraws } = await planTexts(ctx, kept.steps.map((s) => s.instruction), textDrawOptions(this.options));
    request.onProgress?.({ type: 'texts', texts });
    const t1 = performance.now();
    const { keyframeMs, redraws, ...drawn } = await planKeyframes(ctx, texts, kept, keyframeDrawOptions(this.options));
    this.last = drawn;
    this.lastTiming = { textMs: t1 - t0, keyframeMs, redraws, textRedraws, totalMs: performance.now() - t0 };
    return {
      id: `${request.robot.id}-onnx`,
      version: request.version,
      backend: this.name,
      createdAt: new Date().toISOString(),
      ...(request.scene ? { scene: request.scene } : {}),
      steps: drawn.steps,
    };
  }

  /** This draft's attempt (which becomes the latest), its seeds and the observation as the model sees it. */
  private async draftContext(request: PlanRequest): Promise<DraftContext> {
    const { stepSubject, textCheck, putOffAfter } = this.options;
    const subjectOf = (instruction: string) => stepSubject?.(instruction, request) ?? instruction;
    // Only the text check can refuse a stuck first step, so without it nothing is put off.
    const attempt = nextAttempt(this.attempt, request, { after: textCheck ? (putOffAfter ?? 0) : 0, subjectOf });
    this.attempt = attempt;
    return {
      model: this.model,
      request,
      attempt,
      seeds: draftSeeds(this.options.seed ?? 0, request.version, attempt.draft),
      observation: await this.model.encodePicture(request.observation),
      retryTemperature: this.options.retryTemperature ?? 0.7,
      subjectOf,
    };
  }

  /**
   * The first `count` steps of `draft` and the pictures the next keyframe is drawn from. When the
   * draft is this planner's latest one (its keyframe buffers are ours), the pictures are the ones it
   * drew; otherwise (another backend's draft, a resumed run) each keyframe PNG is encoded again.
   */
  private async keptSteps(draft: PlanDraft, count: number): Promise<DrawnSteps> {
    const steps = draft.steps.slice(0, count).map((s, index) => ({ ...s, index }));
    const ours = this.last !== null && steps.every((s, i) => this.last!.steps[i]?.keyframe === s.keyframe);
    const pictures = ours ? this.last!.pictures.slice(0, count) : await Promise.all(steps.map((s) => this.model.encodePicture(s.keyframe)));
    return { steps, pictures };
  }
}

/** How the step texts are drawn, the options' defaults filled in. */
function textDrawOptions(o: OnnxPlannerOptions): TextDrawOptions {
  return {
    ...(o.textCheck ? { check: o.textCheck } : {}),
    tries: Math.max(1, o.textTries ?? 3),
    temperature: o.textTemperature ?? 0,
    ...(o.topK !== undefined ? { topK: o.topK } : {}),
    ...(o.topP !== undefined ? { topP: o.topP } : {}),
    maxSteps: o.maxSteps ?? 24,
  };
}

/** How keyframes are drawn, the options' defaults filled in. */
function keyframeDrawOptions(o: OnnxPlannerOptions): KeyframeDrawOptions {
  return {
    sampler: o.sampler ?? 'dida',
    ...(o.passes !== undefined ? { passes: o.passes } : {}),
    ...(o.schedule !== undefined ? { schedule: o.schedule } : {}),
    ...(o.guidance !== undefined ? { guidance: o.guidance } : {}),
    ...(o.keepBias !== undefined ? { keepBias: o.keepBias } : {}),
    ...(o.missedKeepBias !== undefined ? { missedKeepBias: o.missedKeepBias } : {}),
    missedDraws: Math.max(1, o.missedDraws ?? 1),
    ...(o.check ? { check: o.check, tries: Math.max(1, o.keyframeTries ?? 4) } : { tries: 1 }),
    keepUnchanged: o.keepUnchanged ?? true,
  };
}
