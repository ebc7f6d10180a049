import { z } from 'zod';
import { Action } from './action.js';

export const FeedbackStatus = z.enum([
  /** Command and keyframe received, execution started. */
  'accepted',
  /** The step's outcome matches its keyframe. */
  'done',
  /** The robot acted but the outcome differs (slip, drop, partial fold) or the keyframe is unreachable. */
  'miss',
  /** The robot did not act: unparseable instruction, missing keyframe, capability it lacks. */
  'rejected',
  /** Stopped by a cancel command. */
  'cancelled',
]);
export type FeedbackStatus = z.infer<typeof FeedbackStatus>;

/**
 * What each gripper holds after the step, by arm name: the scene vocabulary's id ("cup",
 * "shirt.bottom_left"), or null for an empty gripper. A robot knows this from its gripper state and
 * the grasp it made; after a miss it is the only way a planner learns that one of two corners slipped
 * while the other is still held, which the camera picture does not show.
 */
export const Holding = z.record(z.string().min(1), z.string().min(1).nullable());
export type Holding = z.infer<typeof Holding>;

/** What the robot publishes on the feedback topic, as JSON inside std_msgs/String. */
export const StepFeedback = z.strictObject({
  runId: z.string().min(1),
  stepIndex: z.number().int().min(0),
  attempt: z.number().int().min(0),
  status: FeedbackStatus,
  /** Why, for miss / rejected / cancelled: "slip", "keyframe unreachable", "could not parse ..." */
  reason: z.string().optional(),
  /** The action the robot chose (its reading of instruction + keyframe). */
  action: Action.optional(),
  /** Image distance between the chosen outcome and the keyframe, 0 = identical. */
  keyframeDistance: z.number().min(0).optional(),
  /** What each gripper holds now (see Holding); optional, the validator trusts it when given. */
  holding: Holding.optional(),
  /** True when this repeats the result of a step id already executed (a duplicate command). */
  duplicate: z.boolean().optional(),
  /** Robot clock, ms since epoch. */
  stamp: z.number(),
});
export type StepFeedback = z.infer<typeof StepFeedback>;
