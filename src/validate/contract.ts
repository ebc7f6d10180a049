import { z } from 'zod';
import type { PlanDraft } from '../planner/planner.js';
import type { HistoryEntry } from '../schema/history.js';
import { PlanIssue } from '../schema/plan-issue.js';
import type { RobotProfile } from '../schema/robot-profile.js';

/*
 * What a validator is given and what it answers: the contract between whoever validates a draft
 * (validateDraft, a test's fake, the default byte check) and the run that asks before sending a step.
 * It lives here, with the validator, so the validator never depends on the machine that calls it.
 */

/** A draft to validate, with what the validator holds it against. In memory only: keyframes are PNG bytes. */
export interface ValidatorInput {
  plan: PlanDraft;
  robot: RobotProfile;
  observation?: Uint8Array;
  /** The run so far, as the planner saw it: the validator checks the plan continues it. */
  history?: readonly HistoryEntry[];
  /** The run's task: the validator checks whether the plan finishes it. */
  task?: string;
}

/** A validator's answer. Data that leaves the validator: its issues are logged (plan_validated) and reported. */
export const ValidationResult = z.object({
  ok: z.boolean(),
  issues: z.array(PlanIssue),
  /**
   * The plan is valid but stops short of the task (a model that wrote "clear the table" without the
   * napkin): it runs, and the run plans again from a new observation when it is done, as after a
   * partial plan, instead of finishing as succeeded.
   */
  incomplete: z.boolean().optional(),
});
export type ValidationResult = z.infer<typeof ValidationResult>;
