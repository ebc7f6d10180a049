import type { Action, RobotProfile } from '../src/schema/index.js';
import { boxBlur, meanAbsDiff, strongDiffArea, toCompareRgb } from '../src/image/compare.js';
import { sceneSvg, viewOf } from '../src/scenes/view.js';
import type { SceneModule, SceneStateBase } from '../src/scenes/scene.js';

/**
 * The sim robot's goal-conditioned controller: it does what a keyframe-conditioned low-level policy
 * does. It reads the instruction against the scene vocabulary, imagines (renders) the outcome of every
 * action consistent with it, and executes the one whose picture matches the keyframe. The keyframe
 * decides what the words leave open (which slot, which arm, which side) and a keyframe that shows a
 * different outcome than the instruction is refused.
 */
export interface ControllerOptions {
  /** Largest accepted distance between the chosen outcome and the keyframe (mean abs diff, 0..1). */
  maxDistance: number;
  /**
   * How far the keyframe must move from the current picture towards the chosen outcome, as a share of
   * the distance between the two pictures: 0.5 = at least half way. Robust to blur, because blur
   * costs every candidate and the unchanged scene alike.
   */
  minProgress: number;
  /**
   * Largest share of the picture that may differ outright between the chosen outcome and the
   * keyframe, both blurred by `residualBlur`. Catches a keyframe that shows the instructed change
   * plus another one (one extra moved object: 0.002-0.08 of the picture at 128x96).
   */
  maxResidualArea: number;
  /**
   * Blur radius (px at 128x96, see boxBlur) applied to both pictures before the residual test. A VQ
   * keyframe draws a 1-2 px gripper jaw as a smear: unblurred, the smear alone covered 0.4-0.7 % of
   * the picture, so the tokenizer's own reconstruction of the true "fold the shirt in half" outcome
   * was refused in 5 of 6 held-out cases. Blurred by 1 px, true outcomes pass (78 of 80 held out)
   * while exactly the same "two steps on" keyframes are refused as without blur
   * (bench/model-tolerance.ts measures both).
   */
  residualBlur: number;
  /**
   * Blur radius (px at 128x96) applied to the current picture, the chosen outcome and the keyframe
   * before the progress test, for the same reason as `residualBlur`. A pick-up changes a few thin
   * strokes (a jaw leaves its home, a jaw and a shadow appear at the object): unblurred, the
   * tokenizer's own drawing of the true outcome of "pick up the cup" made 0.35-0.79 of the progress
   * (12 held-out table layouts), and 2 of 12 fell under half. Blurred by 1 px it makes 0.55-0.93,
   * while the unchanged scene stays at -0.98, the state two steps on at -0.11-0.04 and the other
   * arm's pick-up at -0.18-0.31 (bench/model-tolerance.ts measures the false accepts of both).
   */
  progressBlur: number;
}

export const DEFAULT_CONTROLLER_OPTIONS: ControllerOptions = { maxDistance: 0.12, minProgress: 0.5, maxResidualArea: 0.004, residualBlur: 1, progressBlur: 1 };

export type ControllerDecision<S> =
  | { kind: 'act'; action: Action; next: S; distance: number; candidates: number }
  /** The instruction cannot be read or cannot be done here: the robot does not move. */
  | { kind: 'reject'; reason: string }
  /** No outcome consistent with the instruction looks like the keyframe. */
  | { kind: 'unreachable'; reason: string; distance: number };

/**
 * Recently imagined pictures by their SVG text. The outcome a step chose is the next step's current
 * picture, and a replan imagines the same outcomes again: rasterising is the controller's main cost.
 * The SVG text is the whole input of the raster, so a hit is exactly the picture it would draw.
 */
const IMAGINED_KEEP = 64;
const imaginedCache = new Map<string, Promise<Uint8Array>>();

function imagined(svg: string): Promise<Uint8Array> {
  const hit = imaginedCache.get(svg);
  if (hit) {
    // Most recently used last, so the oldest is the one dropped.
    imaginedCache.delete(svg);
    imaginedCache.set(svg, hit);
    return hit;
  }
  const drawn = toCompareRgb(svg);
  imaginedCache.set(svg, drawn);
  drawn.catch(() => imaginedCache.delete(svg));
  if (imaginedCache.size > IMAGINED_KEEP) imaginedCache.delete(imaginedCache.keys().next().value!);
  return drawn;
}

export async function decide<S extends SceneStateBase, G>(
  scene: SceneModule<S, G>,
  profile: RobotProfile,
  state: S,
  instruction: string,
  keyframe: Uint8Array,
  options: ControllerOptions = DEFAULT_CONTROLLER_OPTIONS,
): Promise<ControllerDecision<S>> {
  const parsed = scene.parseInstruction(instruction, profile);
  if (!parsed.ok) return { kind: 'reject', reason: parsed.reason };
  const found = scene.candidates(state, parsed.template, profile);
  if (!found.ok) return { kind: 'reject', reason: found.reason };
  if (found.candidates.length === 0) return { kind: 'reject', reason: `nothing to do for "${instruction}" here` };

  const camera = profile.cameras.find((c) => c.name === profile.keyframeCamera);
  if (!camera) return { kind: 'reject', reason: `profile ${profile.id} has no camera "${profile.keyframeCamera}"` };
  const view = viewOf(camera);
  // Imagined outcomes are drawn small, in the camera's aspect ratio so the view box matches the
  // keyframe's: the comparison happens at 128x96 anyway, and rasterising 640x480 costs 6x more.
  const small = { width: 256, height: Math.max(16, Math.round((256 * camera.resolution.height) / camera.resolution.width)) };
  const picture = (s: S) => imagined(sceneSvg(scene, s, view, small));

  let target: Uint8Array;
  try {
    target = await toCompareRgb(keyframe);
  } catch (cause) {
    return { kind: 'reject', reason: `keyframe is not a readable image (${(cause as Error).message})` };
  }
  const now = await picture(state);
  const outcomes = await Promise.all(found.candidates.map((c) => picture(c.next)));

  let best = 0;
  let bestDistance = Infinity;
  outcomes.forEach((o, i) => {
    const d = meanAbsDiff(o, target);
    if (d < bestDistance) {
      bestDistance = d;
      best = i;
    }
  });
  const chosen = found.candidates[best]!;
  // Progress is measured on blurred pictures (progressBlur); the candidate above is chosen unblurred,
  // so which slot or side the keyframe shows is read from its sharpest detail.
  const [nowB, outB, targetB] = [now, outcomes[best]!, target].map((p) => boxBlur(p, options.progressBlur)) as [Uint8Array, Uint8Array, Uint8Array];
  const change = meanAbsDiff(nowB, outB);
  const progress = meanAbsDiff(nowB, targetB) - meanAbsDiff(outB, targetB);
  const round = (v: number) => Math.round(v * 1e4) / 1e4;
  // At the defaults both tests blur by the same radius: reuse those pictures rather than blur twice.
  const same = options.residualBlur === options.progressBlur;
  const residual = strongDiffArea(same ? outB : boxBlur(outcomes[best]!, options.residualBlur), same ? targetB : boxBlur(target, options.residualBlur));
  if (residual > options.maxResidualArea && bestDistance <= options.maxDistance && progress >= options.minProgress * change) {
    return {
      kind: 'unreachable',
      distance: round(bestDistance),
      reason:
        `keyframe unreachable: it shows changes "${instruction}" does not make ` +
        `(${round(residual * 100)}% of the picture differs from the best of ${found.candidates.length} outcomes, at most ${round(options.maxResidualArea * 100)}% allowed)`,
    };
  }
  if (bestDistance > options.maxDistance || progress < options.minProgress * change) {
    return {
      kind: 'unreachable',
      distance: round(bestDistance),
      reason:
        `keyframe unreachable: no outcome of "${instruction}" looks like the keyframe ` +
        `(best of ${found.candidates.length} at distance ${round(bestDistance)}, ` +
        `progress ${round(progress)} of ${round(change)} needed ${round(options.minProgress * change)})`,
    };
  }
  return { kind: 'act', action: chosen.action, next: chosen.next, distance: round(bestDistance), candidates: found.candidates.length };
}
