import { z } from 'zod';

/**
 * Every finding about a plan, one code each (the validator's checks, and the planner's own), with the severity it reports at. Errors send a plan
 * back to the planner; warnings are logged and shown. A code never changes meaning: logs and the
 * planner's `rejected` list carry them.
 */
export const ISSUE_SEVERITY = {
  // structure
  /** The plan is not a keystep plan (fields missing or of the wrong type); the message names the field. */
  schema: 'error',
  /** Fewer steps than profile.limits.minSteps or more than maxSteps. */
  step_count: 'error',
  /** A step's index is not its position in the plan (the executor goes by position). */
  step_index: 'warning',
  empty_instruction: 'error',
  /** The same instruction with the same keyframe as the step before: a stutter, not progress. */
  repeated_step: 'error',
  // capability
  /** An arm the robot does not have. */
  unknown_arm: 'error',
  /** A two-arm step on a robot that cannot do one (one arm, or not bimanual). */
  bimanual_unsupported: 'error',
  /** A verb that is not one of the robot's primitives. */
  verb_unsupported: 'error',
  /** An object, part or target the scene's vocabulary does not have. */
  unknown_object: 'error',
  // language -> action
  /** The instruction does not parse for this robot; the message names the words that did not. */
  unparseable: 'error',
  /** The structured action says something else than the instruction (verb, object, arms). */
  action_mismatch: 'error',
  // sequence
  /** Placing (or releasing, folding with) something the arm does not hold. */
  not_held: 'error',
  /** Picking or grasping with an arm that already holds something. */
  arm_busy: 'error',
  /**
   * A step before the step it needs: bottom fold before the sleeves, half before bottom, aside before
   * folded, picking up a cup, bowl or bottle the observation shows tipped over before standing it up.
   */
  order: 'error',
  /** An object put in a receptacle it does not belong in (the cup in the bin). */
  wrong_target: 'error',
  /** The bottom fold without both bottom corners held. */
  corners_not_held: 'error',
  /**
   * Doing what is already done: a fold made twice, an object stowed twice, the collar tidied twice, an
   * object stood up that the observation shows standing.
   */
  already_done: 'error',
  /** Acting on an object the observation does not show, or that is already away in a receptacle. */
  object_unavailable: 'error',
  /** The plan ends with an arm still holding something. */
  left_holding: 'warning',
  /**
   * The plan ends before the task is done: an object the task puts away is still out on the table
   * (seen in the observation, or picked and not placed), or a fold, the collar or the move aside that
   * the task asks for is known not to be done. A warning, not an error: the steps it has are worth
   * running, and the executor plans again from a new observation when they are done (a partial plan)
   * instead of reporting the run succeeded. The planner's text gate asks the model for a next step.
   */
  task_incomplete: 'warning',
  /**
   * An empty plan, the planner's "nothing left to do", while what is known says the task is not done
   * (the same end-state reading as `task_incomplete`). An error: the run would end as succeeded.
   */
  task_not_done: 'error',
  // keyframes
  missing_keyframe: 'error',
  keyframe_not_png: 'error',
  /** The keyframe does not decode as an image. */
  keyframe_decode: 'error',
  /** The keyframe's aspect ratio is not the keyframe camera's, or it is too small to check. */
  keyframe_size: 'error',
  /** Near-uniform: nothing drawn. */
  keyframe_blank: 'error',
  /** Very high local variance: noise, not a scene. */
  keyframe_noise: 'error',
  /** The table and floor are not where the observation has them (another view, another scene). */
  background_mismatch: 'error',
  /** The keyframe is the previous picture again: the step would change nothing. */
  keyframe_unchanged: 'error',
  /** Most of the picture changed in one step: not one action's outcome. */
  keyframe_change_total: 'error',
  /** An object colour the observation does not show appears, or an object appears twice. */
  object_appeared: 'error',
  /** An object the observation shows is gone from the keyframe. */
  object_lost: 'error',
  /** An object the step does not act on moved. */
  object_moved: 'error',
  /** The keyframe shows another arm moving than the step names. */
  arm_mismatch: 'error',
  // safety
  /** An action position outside the acting arm's workspace. */
  out_of_workspace: 'error',
  /** A step names an arm for an object the observation shows outside that arm's workspace. */
  out_of_reach: 'error',
  /** An action position inside one of the profile's forbidden zones. */
  forbidden_zone: 'error',
  /** Steps x stepDurationS over limits.maxPlanDurationS. */
  plan_duration: 'error',
  /** Plan duration above 80 % of the limit: little room for replans. */
  plan_duration_near_limit: 'warning',
  // planner
  /** The planner moved a step the robot failed several times in a row behind another step. */
  put_off: 'error',
  /** A plan would start with a step the robot refused without moving since: it would refuse it again. */
  robot_refused: 'error',
} as const satisfies Record<string, 'error' | 'warning'>;

export type IssueCode = keyof typeof ISSUE_SEVERITY;
export const ISSUE_CODES = Object.keys(ISSUE_SEVERITY) as IssueCode[];

/** The codes about a keyframe's picture (the "keyframes" group above): what redrawing it can fix. */
export const KEYFRAME_ISSUE_CODES: ReadonlySet<IssueCode> = new Set<IssueCode>([
  'missing_keyframe',
  'keyframe_not_png',
  'keyframe_decode',
  'keyframe_size',
  'keyframe_blank',
  'keyframe_noise',
  'background_mismatch',
  'keyframe_unchanged',
  'keyframe_change_total',
  'object_appeared',
  'object_lost',
  'object_moved',
  'arm_mismatch',
]);

/** The codes about whether the plan finishes the task: what more steps, not other steps, can fix. */
export const TASK_ISSUE_CODES: ReadonlySet<IssueCode> = new Set<IssueCode>(['task_incomplete', 'task_not_done']);

/** A finding about a plan, as data: logs, the report and the planner's `rejected` list carry these. */
export const PlanIssue = z.object({
  code: z.enum(ISSUE_CODES as [IssueCode, ...IssueCode[]]),
  severity: z.enum(['error', 'warning']),
  step: z.number().int().min(0).nullable(),
  message: z.string(),
});
export type PlanIssue = z.infer<typeof PlanIssue>;

export function issue(code: IssueCode, step: number | null, message: string): PlanIssue {
  return { code, severity: ISSUE_SEVERITY[code], step, message };
}
