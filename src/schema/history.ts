import { z } from 'zod';
import { Holding } from './step-feedback.js';

/** How one attempt at one step ended. `timeout` is the executor's verdict, the rest are the robot's. */
export const StepOutcome = z.enum(['done', 'miss', 'rejected', 'timeout', 'cancelled']);
export type StepOutcome = z.infer<typeof StepOutcome>;

/** What happened to one attempt at one step, as the planner sees it when it replans. */
export const HistoryEntry = z.object({
  stepIndex: z.number().int().min(0),
  attempt: z.number().int().min(0),
  instruction: z.string(),
  status: StepOutcome,
  reason: z.string().optional(),
  /** What the robot said each gripper holds after this step (StepFeedback.holding), when it said. */
  holding: Holding.optional(),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;
