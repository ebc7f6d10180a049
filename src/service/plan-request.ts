import type { PlanProgressListener } from '../planner/plan-progress.js';
import { validateDraft } from '../validate/index.js';
import type { PlanBody, PlanResponse } from './api-schema.js';
import { decodePicture } from './image-input.js';
import type { PlanMaker } from './plan-maker.js';
import type { PlanQueue } from './plan-queue.js';
import { resolveRobot } from './robot-ref.js';

/**
 * One plan request as POST /v1/plans and /v1/plans/stream serve it: the robot resolved, the picture
 * decoded, the plan made in its device queue and validated as a run would. Bad input throws a 400
 * ServiceError naming the field; `onProgress` hears the plan as it is written.
 */
export async function servePlan(body: PlanBody, plans: PlanMaker, queue: PlanQueue, options: { signal: AbortSignal; onProgress?: PlanProgressListener }): Promise<PlanResponse> {
  const { profile } = resolveRobot(body.robot);
  const observation = await decodePicture(body.observation, 'body.observation');
  const planner = await plans.planner({ seed: body.sampling?.seed ?? 0, ...(body.sampling?.sampler ? { sampler: body.sampling.sampler } : {}) });
  const history = body.history ?? [];
  const scene = body.scene !== undefined ? { scene: body.scene } : {};
  const planned = await queue.run(
    () =>
      planner.plan({
        robot: profile,
        task: body.task,
        observation,
        history,
        version: 1,
        ...scene,
        signal: options.signal,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      }),
    options.signal,
  );
  const draft = planned.value;
  const validateStart = performance.now();
  const validation = await validateDraft({ plan: draft, robot: profile, observation, task: body.task, history, ...scene });
  const validateMs = Math.round((performance.now() - validateStart) * 10) / 10;
  return {
    plan: {
      id: draft.id,
      version: draft.version,
      backend: draft.backend,
      createdAt: draft.createdAt,
      robot: profile.id,
      task: body.task,
      ...(draft.scene !== undefined ? { scene: draft.scene } : {}),
      steps: draft.steps.map((s) => ({
        index: s.index,
        instruction: s.instruction,
        ...(s.action !== undefined ? { action: s.action } : {}),
        keyframe: Buffer.from(s.keyframe).toString('base64'),
      })),
    },
    validation: { ok: validation.ok, issues: validation.issues, ...(validation.incomplete !== undefined ? { incomplete: validation.incomplete } : {}) },
    timing: { queueMs: planned.queueMs, planMs: planned.runMs, validateMs, device: planned.device },
  };
}
