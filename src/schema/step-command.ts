import { z } from 'zod';
import { Action } from './action.js';

/** Idempotency key of one attempt at one step: the robot executes each id at most once. */
export function stepId(runId: string, stepIndex: number, attempt: number): string {
  return `${runId}/${stepIndex}/${attempt}`;
}

const Ids = {
  runId: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/),
  stepIndex: z.number().int().min(0),
  attempt: z.number().int().min(0),
};

/**
 * What keystep publishes on the profile's step topic, as JSON inside std_msgs/String. An `execute`
 * command pairs with the CompressedImage on the keyframe topic whose header.frame_id is the same step id.
 */
export const StepCommand = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('execute'),
    ...Ids,
    instruction: z.string().trim().min(1),
    action: Action.optional(),
    sentAt: z.number().optional(),
  }),
  z.strictObject({
    kind: z.literal('cancel'),
    ...Ids,
    reason: z.string().optional(),
  }),
]);
export type StepCommand = z.infer<typeof StepCommand>;

/** Keyframe images carry `keystep:<stepId>` in header.frame_id. */
export const KEYFRAME_FRAME_PREFIX = 'keystep:';
