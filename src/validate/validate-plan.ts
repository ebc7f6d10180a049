import type { PlanDraft } from '../planner/planner.js';
import { ISSUE_SEVERITY, issue, type PlanIssue } from '../schema/plan-issue.js';
import type { RobotProfile } from '../schema/robot-profile.js';
import { CHECK_GROUP_NAMES, REPORT_ORDER, type CheckGroupName } from './check-groups.js';
import type { ValidationResult } from './contract.js';
import { readPlan, type ValidationContext } from './plan-reading.js';

export { CHECK_GROUPS, CHECK_GROUP_NAMES, DURATION_WARNING_SHARE, type CheckGroup, type CheckGroupName } from './check-groups.js';
export type { CheckContext, DecodedImage, PlanReading, ValidationContext } from './plan-reading.js';

export interface PlanValidation extends ValidationResult {
  /** The plan is valid as far as it goes but does not finish the task (`task_incomplete`): plan again after it. */
  incomplete: boolean;
}

/**
 * Every check on a plan, as data: structure, capability, language, sequence, keyframes, safety. Pure
 * and synchronous (pictures come decoded in `context`), and it never throws: whatever the input, the
 * answer is `{ ok, issues }`, `ok` false exactly when some issue is an error. See plan-issue.ts.
 */
export function validatePlan(plan: PlanDraft, profile: RobotProfile, context: ValidationContext = {}): PlanValidation {
  const issues = checkPlan(plan, profile, context);
  return { ok: !issues.some((i) => i.severity === 'error'), issues, incomplete: issues.some((i) => i.code === 'task_incomplete') };
}

/**
 * The issues the named check groups (check-groups.ts) find, in step order and, within a step, in the
 * order validatePlan reports them; all groups by default. Never throws: a plan that breaks a check is
 * a `schema` issue. A plan with no list of steps gets only the structure group's word on its header.
 */
export function checkPlan(plan: PlanDraft, profile: RobotProfile, context: ValidationContext = {}, groups: readonly CheckGroupName[] = CHECK_GROUP_NAMES): PlanIssue[] {
  try {
    const ctx = { ...context, profile };
    const reading = readPlan(plan, ctx);
    const wanted = new Set<CheckGroupName>(reading.listed ? groups : groups.filter((g) => g === 'structure'));
    return REPORT_ORDER.filter(([name]) => wanted.has(name))
      .flatMap(([, check]) => check(reading, ctx))
      .sort((a, b) => (a.step ?? -1) - (b.step ?? -1));
  } catch (cause) {
    return [issue('schema', null, `the plan could not be read: ${(cause as Error)?.message ?? String(cause)}`)];
  }
}

export { ISSUE_SEVERITY };
