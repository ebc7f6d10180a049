import type { PlanDraft, PlanRequest, StepCheck, TextCheck } from '../planner/planner.js';
import type { PlannedStep } from '../schema/index.js';
import { TASK_ISSUE_CODES } from '../schema/plan-issue.js';
import { sceneById } from '../scenes/registry.js';
import type { CheckGroupName } from './check-groups.js';
import type { DecodedImage } from './plan-reading.js';
import { decodeImage } from './validate-draft.js';
import { checkPlan } from './validate-plan.js';

/** Decodes each picture once per gate: a plan's observation and keyframes are checked step after step. */
function decoder(): (png: Uint8Array) => Promise<DecodedImage> {
  const decoded = new WeakMap<Uint8Array, Promise<DecodedImage>>();
  return (png) => {
    let d = decoded.get(png);
    if (d === undefined) {
      d = decodeImage(png);
      decoded.set(png, d);
    }
    return d;
  };
}

/** What redrawing the texts can fix: everything but the pictures. */
const TEXT_GROUPS: readonly CheckGroupName[] = ['structure', 'capability', 'language', 'sequence', 'safety'];

/** The issues the named check groups find in a plan of `steps`, for the request's robot and scene. */
function check(groups: readonly CheckGroupName[], steps: PlannedStep[], request: PlanRequest, context: { observation: DecodedImage; keyframes?: DecodedImage[] }) {
  const draft: PlanDraft = { id: 'gate', version: request.version, backend: 'gate', createdAt: new Date(0).toISOString(), ...(request.scene ? { scene: request.scene } : {}), steps };
  return checkPlan(draft, request.robot, { ...(request.scene ? { scene: request.scene } : {}), history: request.history, task: request.task, ...context }, groups);
}

/**
 * The validator's text checks as a TextCheck: the step texts alone, checked by every group but the
 * keyframes against the observation, which tells what the arms hold and where the objects are. Returns
 * the errors: words that do not parse, steps out of order, an arm named for an object it cannot reach,
 * a plan too long. Redrawing the texts can fix those.
 *
 * Texts that stop short of the task (TASK_ISSUE_CODES: `task_incomplete`, a warning to the
 * validator, and `task_not_done` for no text at all) come back refused at the step they lack, index
 * `instructions.length`: the planner then asks the model for its best next step instead of stopping,
 * and a draw that finishes the task ranks above one that stops early while any real error ranks below
 * both. If no draw finishes, the short one runs and the run plans again after it.
 */
export function textGate(): TextCheck {
  const decode = decoder();
  return async (instructions: readonly string[], request: PlanRequest) => {
    const steps = instructions.map((instruction, index) => ({ index, instruction, keyframe: new Uint8Array(0) }));
    const issues = check(TEXT_GROUPS, steps, request, { observation: await decode(request.observation) });
    return issues
      .flatMap((i) => {
        if (TASK_ISSUE_CODES.has(i.code)) return [{ ...i, severity: 'error' as const, step: instructions.length }];
        return i.severity === 'error' ? [i] : [];
      })
      .sort((a, b) => (a.step ?? -1) - (b.step ?? -1));
  };
}

/**
 * What a step acts on, by the scene's words: "pick cup" for "pick up the cup with the left arm" and for
 * "... with the right arm" alike (OnnxPlannerOptions.stepSubject). null when the request names no scene
 * or the words do not parse.
 */
export function stepSubject(instruction: string, request: PlanRequest): string | null {
  if (request.scene === undefined) return null;
  const parsed = sceneById(request.scene).parseInstruction(instruction, request.robot);
  if (!parsed.ok) return null;
  const t = parsed.template;
  return [t.verb, t.object, t.part, t.target].filter((w) => w !== undefined).join(' ');
}

/**
 * The validator's keyframe checks as a StepCheck: the plan drawn so far is checked against the
 * observation by the keyframes group alone (KEYFRAME_ISSUE_CODES), and the errors of its last step are
 * returned. Text and sequence errors are left to the full validation: redrawing a keyframe cannot fix
 * them. Decoded pictures are kept per PNG buffer, so gating every step of a plan decodes each picture
 * once (the checks themselves take well under a millisecond per step at 128x96).
 */
export function keyframeGate(): StepCheck {
  const decode = decoder();
  return async (steps: readonly PlannedStep[], request: PlanRequest) => {
    const index = steps.length - 1;
    if (index < 0) return [];
    const [observation, ...keyframes] = await Promise.all([decode(request.observation), ...steps.map((s) => decode(s.keyframe))]);
    const issues = check(['keyframes'], [...steps], request, { observation: observation!, keyframes });
    return issues.filter((i) => i.severity === 'error' && i.step === index);
  };
}
