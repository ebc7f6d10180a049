import type { StepCheck } from '../planner/planner.js';
import type { PlannedStep } from '../schema/index.js';
import { meanAbsDiff } from '../image/compare.js';
import { boldestPassing, leastRefused } from './best-draw.js';
import type { DraftContext } from './draft-context.js';
import { keyframeSizeOf } from './image-io.js';
import { drawTemperature } from './plan-attempts.js';
import type { Picture } from './picture.js';
import type { KeyframeOptions, KeyframePass, KeyframeSampler } from './world-model.js';

/** How keyframes are drawn (OnnxPlannerOptions, defaults resolved). */
export interface KeyframeDrawOptions {
  sampler: KeyframeSampler;
  passes?: number;
  schedule?: KeyframeOptions['schedule'];
  guidance?: number;
  keepBias?: number;
  /** The keep prior for the step the robot just failed; undefined = `keepBias`. */
  missedKeepBias?: number;
  /** Draws of the step the robot just failed, the boldest passing one kept (1 = as any step). */
  missedDraws: number;
  /** The validator's picture checks on the plan so far; without them the first draw is kept. */
  check?: StepCheck;
  /** Most draws of one keyframe while `check` refuses them. */
  tries: number;
  /** Keep the starting picture's pixels wherever a keyframe repeats its code (picture.ts). */
  keepUnchanged: boolean;
}

/** Steps and the pictures their keyframes were drawn as (the next keyframe is drawn from the last). */
export interface DrawnSteps {
  steps: PlannedStep[];
  pictures: Picture[];
}

/** A step to draw: its index in the plan, its text, and the picture its keyframe is drawn from. */
interface StepToDraw {
  index: number;
  instruction: string;
  from: Picture;
}

/** A step as drawn: the plan's step with its PNG, and the picture the next step starts from. */
interface DrawnStep {
  step: PlannedStep;
  drawn: Picture;
}

/**
 * A keyframe for every text after the `kept` steps, each drawn from the one before it (the first
 * from the last kept picture, else the observation), with per step the time spent and the draws made
 * after the first.
 */
export async function planKeyframes(
  ctx: DraftContext,
  texts: readonly string[],
  kept: DrawnSteps,
  options: KeyframeDrawOptions,
): Promise<DrawnSteps & { keyframeMs: number[]; redraws: number[] }> {
  const steps = [...kept.steps];
  const pictures = [...kept.pictures];
  const keyframeMs: number[] = [];
  const redraws: number[] = [];
  for (let index = kept.steps.length; index < texts.length; index++) {
    const started = performance.now();
    const target = { index, instruction: texts[index]!, from: pictures.at(-1) ?? ctx.observation };
    const { value, redraws: redrawn } = await drawStep(ctx, steps, target, options);
    ctx.request.onProgress?.({ type: 'keyframe', step: index, instruction: value.step.instruction, keyframe: value.step.keyframe });
    steps.push(value.step);
    pictures.push(value.drawn);
    keyframeMs.push(performance.now() - started);
    redraws.push(redrawn);
  }
  return { steps, pictures, keyframeMs, redraws };
}

/**
 * `target` drawn after the steps `before` it. A refused keyframe is drawn again with its own seed, up
 * to `tries` draws, and the draw with the fewest errors is kept, so a step that never passes still
 * goes to the validator, which then refuses the plan. The step the robot just failed is drawn
 * `missedDraws` times and, of those that pass, the one that changes its starting picture most is
 * kept: a miss is most often a keyframe drawn too faintly, and sampled draws differ in how far they go.
 */
function drawStep(ctx: DraftContext, before: readonly PlannedStep[], target: StepToDraw, options: KeyframeDrawOptions): Promise<{ value: DrawnStep; redraws: number }> {
  const missed = target.instruction === ctx.attempt.missed;
  const keepBias = missed && options.missedKeepBias !== undefined ? options.missedKeepBias : options.keepBias;
  const draw = (k: number) => drawKeyframe(ctx, target, keepBias, k, options);
  const { check } = options;
  const errorsOf = async (v: DrawnStep) => (check ? (await check([...before, v.step], ctx.request)).length : 0);
  return missed && options.missedDraws > 1
    ? boldestPassing(options.missedDraws, options.tries, draw, errorsOf, (v) => meanAbsDiff(v.drawn.rgb, target.from.rgb))
    : leastRefused(options.tries, draw, errorsOf);
}

/** Draw `draw` of `target`'s keyframe, as a PNG step and as the picture it decodes to. */
async function drawKeyframe(ctx: DraftContext, target: StepToDraw, keepBias: number | undefined, draw: number, options: KeyframeDrawOptions): Promise<DrawnStep> {
  const { model, request } = ctx;
  const { index, instruction, from } = target;
  const temperature = drawTemperature(ctx.attempt, draw, ctx.retryTemperature);
  const codes = await model.keyframe(request.robot.id, request.task, from.codes, instruction, {
    sampler: options.sampler,
    seed: ctx.seeds.keyframe(index, draw),
    ...(options.passes !== undefined ? { passes: options.passes } : {}),
    ...(options.schedule !== undefined ? { schedule: options.schedule } : {}),
    ...(options.guidance !== undefined ? { guidance: options.guidance } : {}),
    ...(keepBias !== undefined ? { keepBias } : {}),
    ...(temperature !== undefined ? { temperature } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
    ...(request.onProgress ? { onPass: passListener(ctx, target, draw, options) } : {}),
  });
  const drawn = await model.decodePicture(codes, options.keepUnchanged ? from : undefined);
  return { step: { index, instruction, keyframe: await model.toPng(drawn.rgb, keyframeSizeOf(request.robot)) }, drawn };
}

/** Reports each DiDA pass of `target`'s draw `draw` to the request's listener, its picture painted on demand as the keyframe would be. */
function passListener(ctx: DraftContext, target: StepToDraw, draw: number, options: KeyframeDrawOptions): (pass: KeyframePass) => void {
  const listener = ctx.request.onProgress!;
  const reference = options.keepUnchanged ? target.from : undefined;
  return ({ pass, passes, codes, filled, cells }) =>
    listener({ type: 'pass', step: target.index, draw, pass, passes, filled, cells, picture: async () => ctx.model.toPng((await ctx.model.decodePicture(codes, reference)).rgb, keyframeSizeOf(ctx.request.robot)) });
}
