import type { PlanDraft } from '../src/planner/planner.js';
import { writePlanDir } from '../src/validate/plan-dir.js';
import type { RobotProfile } from '../src/schema/robot-profile.js';
import { svgToPng } from './render.js';
import { sceneSvg, viewOf, type Size } from '../src/scenes/view.js';
import type { OracleStep, SceneStateBase } from '../src/scenes/scene.js';
import type { SimWorld } from './world.js';

export interface OraclePlan {
  draft: PlanDraft;
  /** The keyframe-camera frame of the state the plan starts from, PNG. */
  observation: Buffer;
  /** The oracle's steps, states included (for tests that corrupt plans). */
  oracle: OracleStep<SceneStateBase>[];
}

export interface OraclePlanOptions {
  /** Picture size of the observation and keyframes; default: the keyframe camera's resolution. */
  size?: Size;
  id?: string;
  version?: number;
  createdAt?: string;
}

function keyframeCamera(profile: RobotProfile) {
  const camera = profile.cameras.find((c) => c.name === profile.keyframeCamera);
  if (camera === undefined) throw new RangeError(`profile ${profile.id} has no camera "${profile.keyframeCamera}"`);
  return camera;
}

/**
 * The oracle's plan from the world's current state, with every keyframe rendered from the state the
 * step leads to: the plan a perfect planner would write. Smaller sizes render faster and look like a
 * learned model's 128x96 keyframes.
 */
export async function oraclePlan(world: SimWorld, options: OraclePlanOptions = {}): Promise<OraclePlan> {
  const camera = keyframeCamera(world.profile);
  const size = options.size ?? camera.resolution;
  const view = viewOf(camera);
  const render = (s: SceneStateBase) => svgToPng(sceneSvg(world.scene, s, view, size));
  const oracle = world.oracle();
  const [observation, ...keyframes] = await Promise.all([render(world.state), ...oracle.map((s) => render(s.next))]);
  const draft: PlanDraft = {
    id: options.id ?? `${world.profile.id}-${world.options.scene}-oracle-${world.options.seed}`,
    version: options.version ?? 1,
    backend: 'oracle',
    createdAt: options.createdAt ?? new Date(0).toISOString(),
    scene: world.options.scene,
    steps: oracle.map((s, index) => ({ index, instruction: s.instruction, action: s.action, keyframe: new Uint8Array(keyframes[index]!) })),
  };
  return { draft, observation: observation!, oracle };
}

/** The oracle's plan from the world's current state, written as a plan directory (plan.json + PNGs). */
export async function writeOraclePlanDir(dir: string, world: SimWorld, options: OraclePlanOptions = {}): Promise<OraclePlan> {
  const plan = await oraclePlan(world, options);
  writePlanDir(dir, { draft: plan.draft, robot: world.profile.id, task: world.options.task, observation: plan.observation });
  return plan;
}
