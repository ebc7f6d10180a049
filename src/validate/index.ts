export { ISSUE_CODES, ISSUE_SEVERITY, KEYFRAME_ISSUE_CODES, issue, type IssueCode, type PlanIssue } from '../schema/plan-issue.js';
export { KEYFRAME_LIMITS } from './keyframe-checks.js';
export { keyframeGate, stepSubject, textGate } from './gates.js';
export { PlanDirError, isPlanDirError } from './plan-dir-error.js';
export { PLAN_FILE, loadPlanDir, readPlanDir, writePlanDir, type PlanDir, type WritePlanInput } from './plan-dir.js';
export { analysePicture, type Picture } from './picture.js';
export { ValidationResult, type ValidatorInput } from './contract.js';
export { decodeImage, validateDraft } from './validate-draft.js';
export {
  CHECK_GROUPS,
  CHECK_GROUP_NAMES,
  DURATION_WARNING_SHARE,
  checkPlan,
  validatePlan,
  type CheckContext,
  type CheckGroup,
  type CheckGroupName,
  type DecodedImage,
  type PlanReading,
  type PlanValidation,
  type ValidationContext,
} from './validate-plan.js';
