/**
 * Every seed the ONNX planner hands the world model, from the planner's one seed (OnnxPlannerOptions.seed).
 *
 * | random choice                                                  | seed                                    |
 * | -------------------------------------------------------------- | --------------------------------------- |
 * | draft `d` of plan version `v` (0 = first, d > 0 after refusals) | D = seed + 7 919·v + 104 729·d          |
 * | that draft's step texts, draw `k` (k > 0: refused texts redrawn) | D + 65 537·k                            |
 * | its keyframe for step `i`, draw `k` (k > 0: `check` refused the  | D + (i + 1) + 65 537·k                  |
 * |   draws before, or the extra draws of a just-missed step)        |                                         |
 *
 * Why these numbers: 7 919 and 104 729 are the 1 000th and 10 000th primes and 65 537 is 2^16 + 1, so
 * versions, drafts and draws move the seed by strides that do not line up for any run the planner
 * makes; the `+ 1` keeps step 0's keyframe off the texts' seed. Texts and keyframes would not share a
 * stream even on an equal seed: WorldModel forks its Rng by purpose ('steps', 'keyframe'). No two
 * text draws and no two keyframe draws share a seed for plan versions 1 to 40, 10 drafts a version,
 * 64 steps and 16 draws a step (seed-scheme.test.ts counts them); rollouts stay far below that.
 *
 * A step text picked from WorldModel.stepAlternatives draws nothing: the alternatives are ranked, and
 * only the rest of the plan written after it uses the text draw's seed.
 *
 * The arithmetic is what the rollout figures in models/README.md were measured with: changing it
 * changes every sampled plan.
 */

/** Seed stride of a plan version (the 1 000th prime). */
const VERSION_STRIDE = 7_919;
/** Seed stride of a draft within one plan version (the 10 000th prime). */
const DRAFT_STRIDE = 104_729;
/** Seed stride of a redraw of the same texts or the same keyframe (2^16 + 1). */
const DRAW_STRIDE = 65_537;

/** The seeds of one draft: one per text draw and one per keyframe draw. */
export interface DraftSeeds {
  /** The draft's own seed (D in the table); the others are offsets from it. */
  readonly draft: number;
  /** Draw `draw` of the step texts. */
  text(draw: number): number;
  /** Draw `draw` of the keyframe for step `step` (its index in the plan, kept steps counted). */
  keyframe(step: number, draw: number): number;
}

/** The seeds of draft `draft` (0 = the first) of plan version `version`, for a planner seeded with `seed`. */
export function draftSeeds(seed: number, version: number, draft: number): DraftSeeds {
  const base = seed + version * VERSION_STRIDE + draft * DRAFT_STRIDE;
  return {
    draft: base,
    text: (draw) => base + draw * DRAW_STRIDE,
    keyframe: (step, draw) => base + step + 1 + draw * DRAW_STRIDE,
  };
}
