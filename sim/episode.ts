import type { StepFeedback } from '../src/schema/index.js';
import { renderCamera } from './render.js';
import type { SimWorld } from './world.js';

export interface EpisodeStep {
  instruction: string;
  keyframe: Buffer;
  feedback: StepFeedback;
  /** Keyframe-camera frame after the step (empty when frames are off). */
  after: Buffer;
  /** Oracle replans so far (a replan follows every miss or rejection). */
  replan: number;
}

export interface EpisodeResult {
  success: boolean;
  steps: EpisodeStep[];
  misses: number;
  replans: number;
  /** The first frame, before any step. */
  start: Buffer;
}

/**
 * Runs the oracle planner in-process against a world: plan, execute every step through the controller
 * with the oracle's rendered keyframe, replan from the current state after a miss. The in-process twin
 * of a rollout, without sockets: used by tests, contact sheets and the demo.
 */
export async function runOracleEpisode(
  world: SimWorld,
  options: { runId?: string; maxReplans?: number; maxSteps?: number; replan?: boolean; onStep?: (s: EpisodeStep) => void; /** Render the frame after every step (for sheets); off saves time in tests. */ frames?: boolean } = {},
): Promise<EpisodeResult> {
  const runId = options.runId ?? `oracle-${world.options.seed}`;
  const maxReplans = options.maxReplans ?? world.profile.limits.maxReplans;
  const maxSteps = options.maxSteps ?? 64;
  const replanOnMiss = options.replan ?? true;
  const camera = world.profile.cameras.find((c) => c.name === world.profile.keyframeCamera)!;
  const start = options.frames === false ? Buffer.alloc(0) : await world.observe();
  const steps: EpisodeStep[] = [];
  let misses = 0;
  let replans = 0;
  let stepIndex = 0;
  let plan = world.oracle();
  while (plan.length > 0 && steps.length < maxSteps) {
    let missed = false;
    for (const step of plan) {
      const keyframe = await renderCamera(world.scene, step.next, camera);
      const feedback = await world.execute(
        { kind: 'execute', runId, stepIndex, attempt: replans, instruction: step.instruction, action: step.action },
        keyframe,
      );
      stepIndex++;
      const record: EpisodeStep = { instruction: step.instruction, keyframe, feedback, after: options.frames === false ? Buffer.alloc(0) : await world.observe(), replan: replans };
      steps.push(record);
      options.onStep?.(record);
      if (feedback.status !== 'done') {
        misses++;
        missed = true;
        if (replanOnMiss) break;
      }
    }
    if (!missed || !replanOnMiss) break;
    if (replans >= maxReplans) break;
    replans++;
    plan = world.oracle();
  }
  return { success: world.isGoal(), steps, misses, replans, start };
}
