import { sceneById } from '../../src/scenes/registry.js';
import { sceneSvg } from '../../src/scenes/view.js';
import { loadProfile } from '../../src/profile/load.js';
import { VQ_MODEL_DIR } from '../../src/model/spec.js';
import { Rng } from '../../src/util/rng.js';

/** The committed VQ model, models/vq (KEYSTEP_MODEL_DIR points the tests at another export while developing). */
export const MODEL_DIR = process.env.KEYSTEP_MODEL_DIR ?? VQ_MODEL_DIR;

/** A held-out T-shirt start (seed >= 100000, never in the training data) and the oracle's plan for it. */
export function heldOutShirt(seed = 100_003) {
  const scene = sceneById('tshirt');
  const profile = loadProfile('aloha-agilex');
  const camera = profile.cameras.find((c) => c.name === profile.keyframeCamera)!;
  const state = scene.initial(profile, new Rng(seed).fork('layout'));
  const goal = scene.parseTask('fold the t-shirt');
  if (!goal.ok) throw new Error(goal.reason);
  const steps = scene.oracle(state, goal.goal, profile) as { instruction: string; next: unknown }[];
  const svg = (s: unknown) => sceneSvg(scene, s as never, { mount: camera.mount }, camera.resolution);
  return { profile, state, steps, svg, observationSvg: svg(state) };
}
