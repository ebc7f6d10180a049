import { z } from 'zod';
import { Action } from './action.js';
import { SceneId } from './task.js';

/**
 * A plan as saved on disk (`plans/<name>/plan.json`): step text, the structured action when the
 * planner knows it, and the keyframe as a PNG file next to plan.json.
 */
export const Step = z.strictObject({
  index: z.number().int().min(0),
  instruction: z.string().trim().min(1),
  action: Action.optional(),
  /** PNG file name relative to the plan directory, e.g. "step-01.png". */
  keyframe: z.string().regex(/^[A-Za-z0-9._-]+\.png$/, 'a PNG file name in the plan directory'),
});
export type Step = z.infer<typeof Step>;

export const Plan = z.strictObject({
  format: z.literal('keystep.plan/1'),
  id: z.string().min(1),
  /** Bumped on every replan within one run. */
  version: z.number().int().min(1),
  robot: z.string().min(1),
  task: z.string().min(1),
  scene: SceneId.optional(),
  backend: z.string().min(1),
  createdAt: z.string(),
  /** Observation the plan was made from, relative to the plan directory. */
  observation: z.string().regex(/^[A-Za-z0-9._-]+\.png$/).optional(),
  steps: z.array(Step),
});
export type Plan = z.infer<typeof Plan>;

/** A step in memory: the keyframe is PNG bytes, not a file name. */
export interface PlannedStep extends Omit<Step, 'keyframe'> {
  keyframe: Uint8Array;
}

/** A plan in memory: keyframes are PNG bytes. `version` goes up with every replan of a run. */
export interface PlanDraft {
  id: string;
  version: number;
  backend: string;
  createdAt: string;
  scene?: SceneId;
  steps: PlannedStep[];
}
