import type { PlanProgressListener } from '../planner/plan-progress.js';
import { validateDraft } from '../validate/index.js';
import type { PlanDraft, PlanRequest } from '../planner/planner.js';
import type { PlanBody, PlanResponse, RefusedDraft } from './api-schema.js';
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
  const sampling = body.sampling;
  const planner = await plans.planner({
    seed: sampling?.seed ?? 0,
    ...(sampling?.sampler ? { sampler: sampling.sampler } : {}),
    ...(sampling?.passes !== undefined ? { passes: sampling.passes } : {}),
  });
  const history = body.history ?? [];
  const scene = body.scene !== undefined ? { scene: body.scene } : {};
  const version = body.version ?? 1;
  const refused = body.refused !== undefined ? await refusedDraft(body.refused, version) : {};
  const planned = await queue.run(
    () =>
      planner.plan({
        robot: profile,
        task: body.task,
        observation,
        history,
        version,
        ...refused,
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

/**
 * A refused draft as the planner takes it from a run in-process: its errors as `rejected`, the draft
 * as `previous`, each keyframe decoded (a 400 naming `body.refused.steps[i].keyframe` when it is no
 * picture). Only the steps before the first error are kept, so those are the ones that must be good.
 */
async function refusedDraft(refused: RefusedDraft, version: number): Promise<Pick<PlanRequest, 'rejected' | 'previous'>> {
  const steps = await Promise.all(
    refused.steps.map(async (s, i) => ({
      index: s.index,
      instruction: s.instruction,
      ...(s.action !== undefined ? { action: s.action } : {}),
      keyframe: await decodePicture(s.keyframe, `body.refused.steps[${i}].keyframe`),
    })),
  );
  const previous: PlanDraft = { id: 'refused', version: Math.max(1, version - 1), backend: 'refused', createdAt: new Date(0).toISOString(), steps };
  return { rejected: refused.issues, previous };
}
