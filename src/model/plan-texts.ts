import type { PlanIssue, TextCheck } from '../planner/planner.js';
import { leastRefused } from './best-draw.js';
import type { DraftContext } from './draft-context.js';
import { drawTemperature, putOffIssue, robotRefusalIssue, TextRefusals } from './plan-attempts.js';

/** How the step texts are drawn (OnnxPlannerOptions, defaults resolved). */
export interface TextDrawOptions {
  /** The validator's text check; without it the first draw is kept. */
  check?: TextCheck;
  /** Most draws when `check` refuses them. */
  tries: number;
  /** Temperature of a draw the retry rules leave at the default (0 = greedy). */
  temperature: number;
  topK?: number;
  topP?: number;
  maxSteps: number;
}

/** Text draws are ranked by where their first error is, up to this step (see textRank). */
const TEXT_STEPS_SCORED = 64;

/** Alternatives tried per refused step before the planner falls back to sampling. */
const ALTERNATIVES_CHECKED = 8;

/**
 * The draft's step texts, starting with the `kept` ones, and how many draws came after the first.
 * Refused texts are drawn again, up to `tries` draws, and the draw whose first error comes latest is
 * kept (see textRank). A redraw keeps the steps before the first refused one, puts the model's most
 * likely other text that passes in its place (departFrom) and writes the rest; when no alternative
 * passes, or the error is about the whole plan, it samples the rest with its own seed instead.
 */
export async function planTexts(ctx: DraftContext, kept: readonly string[], options: TextDrawOptions): Promise<{ texts: string[]; redraws: number }> {
  const check = withPlannerRules(ctx, kept.length, options.check);
  const refusals = new TextRefusals();
  const { value, redraws } = await leastRefused(
    check ? options.tries : 1,
    async (draw) => {
      const departure = draw > 0 && check && refusals.latest !== null ? await departFrom(ctx, refusals, check) : null;
      // After an alternative the rest is written at the usual temperature: the departure is the change.
      if (departure !== null) return writeTexts(ctx, draw, departure, options.temperature, options);
      return writeTexts(ctx, draw, kept, drawTemperature(ctx.attempt, draw, ctx.retryTemperature) ?? options.temperature, options);
    },
    async (texts) => {
      if (!check) return 0;
      // Only errors in the steps written now count: kept steps passed before, and cannot change here.
      const errors = (await check(texts, ctx.request)).filter((i) => i.step === null || i.step >= kept.length);
      refusals.note(texts, errors);
      return textRank(errors, refusals.latest);
    },
  );
  return { texts: value, redraws };
}

/**
 * A text draw's rank, lower is better: 0 when it passes, else the draw whose first error comes latest
 * wins, then the one with the fewest errors. The steps before the first error are what a refused plan
 * can still run (the executor's partial plans). An error of the whole plan counts as one at step 0.
 */
function textRank(errors: readonly PlanIssue[], refusal: { readonly step: number } | null): number {
  if (errors.length === 0) return 0;
  const first = refusal === null ? 0 : refusal.step + 1;
  return (TEXT_STEPS_SCORED - Math.min(first, TEXT_STEPS_SCORED)) * 1000 + errors.length;
}

/** The model's step texts from the observation, starting with `keep`, at most `maxSteps`. */
async function writeTexts(ctx: DraftContext, draw: number, keep: readonly string[], temperature: number, options: TextDrawOptions): Promise<string[]> {
  const { request } = ctx;
  const written = await ctx.model.stepTexts(request.robot.id, request.task, ctx.observation.codes, {
    seed: ctx.seeds.text(draw),
    keep,
    temperature,
    ...(options.topK !== undefined ? { topK: options.topK } : {}),
    ...(options.topP !== undefined ? { topP: options.topP } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
  });
  return written.slice(0, options.maxSteps);
}

/**
 * `check` with the planner's own refusals: the first step written (after `first` kept ones) when the
 * robot keeps failing it (OnnxPlannerOptions.putOffAfter, with `check` only), and the plan's first
 * step when the robot refused it since it last moved (PlanAttempt.refusedByRobot, checked even
 * without `check`). The redraws then ask the model for its best other step there that passes. When
 * none passes, the least refused draw still wins, and the plan starts with that step again rather
 * than not at all.
 */
function withPlannerRules(ctx: DraftContext, first: number, check: TextCheck | undefined): TextCheck | undefined {
  const { attempt } = ctx;
  const putOff = check !== undefined && attempt.putOff !== null;
  if (!putOff && attempt.refusedByRobot.length === 0) return check;
  return async (texts, request) => {
    const errors = check ? await check(texts, request) : [];
    const own = [putOff ? putOffIssue(attempt, texts, first, ctx.subjectOf) : null, robotRefusalIssue(attempt, texts)];
    return [...errors, ...own.filter((i): i is PlanIssue => i !== null)];
  };
}

/**
 * The steps before the latest refused one plus the model's most likely other text for it that `check`
 * passes (WorldModel.stepAlternatives), or null when none of the best few does. Every text refused at
 * that step after that prefix, in this draft, stays refused.
 */
async function departFrom(ctx: DraftContext, refusals: TextRefusals, check: TextCheck): Promise<string[] | null> {
  const refusal = refusals.latest!;
  const prefix = refusal.texts.slice(0, refusal.step);
  // A refusal one past the last text is a plan that stopped too early (textGate): stopping is what
  // was refused there, and stepAlternatives forbids stopping for the empty text.
  const refused = refusals.refuse(prefix, refusal.texts[refusal.step] ?? '');
  const { request } = ctx;
  const alternatives = await ctx.model.stepAlternatives(request.robot.id, request.task, ctx.observation.codes, {
    keep: prefix,
    refused,
    ...(request.signal ? { signal: request.signal } : {}),
  });
  for (const { text } of alternatives.slice(0, ALTERNATIVES_CHECKED)) {
    const errors = (await check([...prefix, text], request)).filter((i) => i.step === refusal.step);
    if (errors.length === 0) return [...prefix, text];
    refusals.refuse(prefix, text);
  }
  return null;
}
