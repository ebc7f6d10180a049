import { z } from 'zod';
import { formatPath } from '../errors/format.js';
import { meanAbsDiff } from '../image/compare.js';
import type { HistoryEntry, PlanDraft } from '../planner/planner.js';
import { Action } from '../schema/action.js';
import type { RobotProfile } from '../schema/robot-profile.js';
import { SceneId } from '../schema/task.js';
import { sceneById } from '../scenes/registry.js';
import type { ActionTemplate } from '../scenes/scene.js';
import { ISSUE_SEVERITY, issue, type PlanIssue } from '../schema/plan-issue.js';
import {
  KEYFRAME_LIMITS,
  backgroundIssues,
  changeIssues,
  objectIssues,
  observedStart,
  textureIssues,
} from './keyframe-checks.js';
import type { Picture } from './picture.js';
import { checkSequence, type PastStep, type StepMeaning } from './sequence.js';
import { overheadMapper } from './view.js';

/** A picture as the async shell decoded it: its encoded size and its pixels at the compare size. */
export type DecodedImage =
  | { ok: true; width: number; height: number; picture: Picture }
  | { ok: false; error: string };

export interface ValidationContext {
  /** The scene the plan is for; default: the plan's own, else the scene whose language its steps speak. */
  scene?: SceneId;
  /** The observation the plan was made from. Enables background and conservation checks against it. */
  observation?: DecodedImage;
  /** Decoded keyframes by step; without them the picture checks are skipped. */
  keyframes?: readonly (DecodedImage | undefined)[];
  /**
   * The run so far (a replan's PlanRequest.history): steps the robot reported done, missed or
   * rejected. Tells the sequence check what the observation cannot show, such as a fold that stopped
   * short. Entries that do not parse are skipped.
   */
  history?: readonly HistoryEntry[];
  /**
   * The run's task. With it, the state the plan ends in is held against the task's goal
   * (`task_incomplete`: an object left out, a fold the run missed and the plan does not make again).
   */
  task?: string;
}

export interface PlanValidation {
  ok: boolean;
  issues: PlanIssue[];
  /** The plan is valid as far as it goes but does not finish the task (`task_incomplete`): plan again after it. */
  incomplete: boolean;
}

/** Plan duration above this share of the limit is a warning. */
export const DURATION_WARNING_SHARE = 0.8;

const DraftHeader = z.object({
  id: z.string().min(1),
  version: z.number().int().min(1),
  backend: z.string().min(1),
  createdAt: z.string(),
  scene: SceneId.optional(),
  steps: z.array(z.unknown()),
});
const DraftStep = z.object({
  index: z.number().int().min(0),
  instruction: z.string(),
  action: Action.optional(),
  keyframe: z.unknown(),
});
type DraftStep = z.infer<typeof DraftStep>;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const isPng = (b: Uint8Array) => b.length > 8 && PNG_SIGNATURE.every((v, i) => b[i] === v);
const normalise = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();

function zodIssues(error: z.ZodError, prefix: string, step: number | null): PlanIssue[] {
  return error.issues.map((i) => issue('schema', step, `${prefix}${formatPath(i.path)}: ${i.message}`));
}

/** The scene whose parser understands most steps (fewest unknown words on a tie). */
function inferScene(steps: readonly DraftStep[], profile: RobotProfile): SceneId {
  let best: { id: SceneId; parsed: number; unknown: number } | null = null;
  for (const id of SceneId.options) {
    const scene = sceneById(id);
    let parsed = 0;
    let unknown = 0;
    for (const s of steps) {
      const r = scene.parseInstruction(s.instruction, profile);
      if (r.ok) parsed++;
      else unknown += r.unknownWords.length;
    }
    if (best === null || parsed > best.parsed || (parsed === best.parsed && unknown < best.unknown)) best = { id, parsed, unknown };
  }
  return best!.id;
}

const armList = (arms: readonly string[]) => arms.map((a) => `"${a}"`).join(', ');

/**
 * Every check on a plan, as data: structure, capability, language, sequence, keyframes, safety. Pure
 * and synchronous (pictures come decoded in `context`), and it never throws: whatever the input, the
 * answer is `{ ok, issues }`, `ok` false exactly when some issue is an error. See issue-codes.ts.
 */
export function validatePlan(plan: PlanDraft, profile: RobotProfile, context: ValidationContext = {}): PlanValidation {
  let issues: PlanIssue[];
  try {
    issues = check(plan, profile, context);
  } catch (cause) {
    issues = [issue('schema', null, `the plan could not be read: ${(cause as Error)?.message ?? String(cause)}`)];
  }
  return { ok: !issues.some((i) => i.severity === 'error'), issues, incomplete: issues.some((i) => i.code === 'task_incomplete') };
}

function check(plan: PlanDraft, profile: RobotProfile, context: ValidationContext): PlanIssue[] {
  const issues: PlanIssue[] = [];
  const header = DraftHeader.safeParse(plan);
  if (!header.success) {
    issues.push(...zodIssues(header.error, 'plan.', null));
    if (!Array.isArray((plan as { steps?: unknown } | null)?.steps)) return issues;
  }
  const rawSteps = (plan as { steps: unknown[] }).steps;

  // Structure: every step readable, counted, indexed, worded.
  const steps: (DraftStep | null)[] = rawSteps.map((raw, k) => {
    const parsed = DraftStep.safeParse(raw);
    if (!parsed.success) {
      issues.push(...zodIssues(parsed.error, `steps[${k}].`, k));
      return null;
    }
    return parsed.data;
  });
  const { minSteps, maxSteps, maxPlanDurationS, stepDurationS } = profile.limits;
  // An empty plan is the planner's "nothing left to do": with the task known, the check is whether it
  // is done (below); the step limits are for plans that do something.
  const doneClaim = rawSteps.length === 0 && context.task !== undefined;
  if (!doneClaim && (rawSteps.length < minSteps || rawSteps.length > maxSteps)) {
    issues.push(issue('step_count', null, `the plan has ${rawSteps.length} step${rawSteps.length === 1 ? '' : 's'}; ${profile.id} takes ${minSteps} to ${maxSteps}`));
  }
  const duration = rawSteps.length * stepDurationS;
  if (duration > maxPlanDurationS) {
    issues.push(issue('plan_duration', null, `the plan takes about ${duration} s (${rawSteps.length} steps x ${stepDurationS} s); ${profile.id} allows ${maxPlanDurationS} s`));
  } else if (duration > DURATION_WARNING_SHARE * maxPlanDurationS) {
    issues.push(issue('plan_duration_near_limit', null, `the plan takes about ${duration} s of the ${maxPlanDurationS} s ${profile.id} allows, leaving little time for replans`));
  }

  const sceneId =
    context.scene ??
    (header.success ? header.data.scene : undefined) ??
    // An empty plan speaks no scene's language; its task does.
    (doneClaim ? SceneId.options.find((id) => sceneById(id).parseTask(context.task!).ok) : undefined) ??
    inferScene(steps.filter((s): s is DraftStep => s !== null), profile);
  const scene = sceneById(sceneId);
  const vocab = scene.vocabulary;
  const armNames = profile.arms.map((a) => a.name);
  const oneArm = armNames.length === 1 || !profile.bimanual;

  const repeated = new Set<number>();
  const meanings: StepMeaning[] = [];
  const templates: (ActionTemplate | undefined)[] = [];
  const keyframes = context.keyframes;

  steps.forEach((s, k) => {
    if (s === null) return;
    if (s.index !== k) issues.push(issue('step_index', k, `step ${k} says it is step ${s.index}`));
    if (s.instruction.trim() === '') {
      issues.push(issue('empty_instruction', k, `step ${k} has no instruction`));
      return;
    }
    const prev = k > 0 ? steps[k - 1] : null;
    if (prev && normalise(prev.instruction) === normalise(s.instruction) && sameKeyframe(prev.keyframe, s.keyframe, keyframes?.[k - 1], keyframes?.[k])) {
      repeated.add(k);
      issues.push(issue('repeated_step', k, `step ${k} repeats step ${k - 1} ("${s.instruction}") with the same keyframe`));
      return;
    }

    // Language -> action.
    const parsed = scene.parseInstruction(s.instruction, profile);
    const template = parsed.ok ? parsed.template : undefined;
    templates[k] = template;
    if (!parsed.ok) {
      const words = parsed.unknownWords.length > 0 ? `; not understood: ${parsed.unknownWords.map((w) => `"${w}"`).join(', ')}` : '';
      issues.push(issue('unparseable', k, `step ${k}: "${s.instruction}" does not parse for ${profile.id} in the ${sceneId} scene (${parsed.reason})${words}`));
    }
    const action = s.action;
    if (template && action) {
      const diffs: string[] = [];
      if (template.verb !== action.verb) diffs.push(`verb ${action.verb} vs "${template.verb}"`);
      if (template.object !== action.object) diffs.push(`object ${action.object} vs "${template.object}"`);
      if (template.part !== undefined && action.part !== undefined && template.part !== action.part) diffs.push(`part ${action.part} vs "${template.part}"`);
      if (template.target !== undefined && action.target !== undefined && !action.target.startsWith(template.target) && !template.target.startsWith(action.target)) {
        diffs.push(`target ${action.target} vs "${template.target}"`);
      }
      if (template.arms !== undefined && [...template.arms].sort().join() !== [...action.arms].sort().join()) diffs.push(`arms ${armList(action.arms)} vs ${armList(template.arms)}`);
      if (diffs.length > 0) issues.push(issue('action_mismatch', k, `step ${k}: the action does not say what "${s.instruction}" says (${diffs.join('; ')})`));
    }

    // Capability.
    const armSets = [template?.arms, action?.arms].filter((a): a is string[] => a !== undefined);
    if (armSets.some((a) => a.length >= 2) && oneArm) {
      issues.push(issue('bimanual_unsupported', k, `step ${k} uses two arms; ${profile.id} ${armNames.length === 1 ? 'has one arm' : 'cannot use two arms together'}`));
    } else {
      const unknownArms = [...new Set(armSets.flat())].filter((a) => !armNames.includes(a));
      if (unknownArms.length > 0) issues.push(issue('unknown_arm', k, `step ${k} names ${unknownArms.map((a) => `the ${a} arm`).join(' and ')}; ${profile.id}'s arms are ${armList(armNames)}`));
    }
    const verbs = [...new Set([template?.verb, action?.verb].filter((v) => v !== undefined))];
    for (const v of verbs) {
      if (!profile.primitives.includes(v)) issues.push(issue('verb_unsupported', k, `step ${k} needs "${v}", which ${profile.id} cannot do (primitives: ${profile.primitives.join(', ')})`));
    }
    const words: [string, string | undefined, Record<string, string[]>][] = [
      ['object', action?.object ?? template?.object, vocab.objects],
      ['part', action?.part ?? template?.part, vocab.parts],
      ['target', action?.target ?? template?.target, vocab.targets],
    ];
    for (const [what, id, known] of words) {
      if (id !== undefined && !(id in known)) {
        issues.push(issue('unknown_object', k, `step ${k}: the ${sceneId} scene has no ${what} "${id}" (known: ${Object.keys(known).join(', ') || 'none'})`));
      }
    }

    // Safety.
    if (action?.position !== undefined) {
      const [x, y] = action.position;
      const acting = profile.arms.filter((a) => action.arms.includes(a.name));
      const inside = (ws: { min: readonly number[]; max: readonly number[] }) => x >= ws.min[0]! && x <= ws.max[0]! && y >= ws.min[1]! && y <= ws.max[1]!;
      if (acting.length > 0 && !acting.some((a) => inside(a.workspace))) {
        issues.push(issue('out_of_workspace', k, `step ${k} acts at (${x.toFixed(2)}, ${y.toFixed(2)}), outside the workspace of ${acting.map((a) => `the ${a.name} arm`).join(' and ')}`));
      }
      for (const zone of profile.forbiddenZones) {
        if (inside(zone.box)) issues.push(issue('forbidden_zone', k, `step ${k} acts at (${x.toFixed(2)}, ${y.toFixed(2)}), inside the forbidden zone "${zone.name}"`));
      }
    }

    // What the step means for the sequence check.
    if (parsed.ok) meanings.push(meaningOf(k, parsed.template, action, armNames));
  });

  // Keyframes: bytes first, then pictures.
  steps.forEach((s, k) => {
    if (s === null) return;
    const bytes = s.keyframe;
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) issues.push(issue('missing_keyframe', k, `step ${k} has no keyframe`));
    else if (!isPng(bytes)) issues.push(issue('keyframe_not_png', k, `step ${k}'s keyframe is not a PNG`));
  });

  const camera = profile.cameras.find((c) => c.name === profile.keyframeCamera) ?? profile.cameras[0]!;
  const obs = context.observation?.ok ? context.observation.picture : undefined;
  const mapper = obs ? overheadMapper(camera, obs) : null;
  const start = obs ? observedStart(obs, sceneId, profile, mapper) : undefined;
  const past: PastStep[] = (context.history ?? []).flatMap((h) => {
    const parsed = scene.parseInstruction(h.instruction, profile);
    return parsed.ok ? [{ meaning: meaningOf(h.stepIndex, parsed.template, undefined, armNames), status: h.status, ...(h.holding !== undefined ? { holding: h.holding } : {}) }] : [];
  });
  issues.push(...checkSequence(sceneId, meanings, profile, start, past, context.task !== undefined ? { text: context.task, emptyPlan: doneClaim } : undefined));

  if (keyframes !== undefined) {
    const aspect = camera.resolution.width / camera.resolution.height;
    let prev: { picture: Picture; name: string } | null = obs ? { picture: obs, name: 'the observation' } : null;
    let reference: Picture | undefined = obs;
    steps.forEach((s, k) => {
      const decoded = keyframes[k];
      if (s === null || decoded === undefined || !(s.keyframe instanceof Uint8Array) || s.keyframe.length === 0) return;
      if (!decoded.ok) {
        issues.push(issue('keyframe_decode', k, `step ${k}'s keyframe does not decode as an image: ${decoded.error}`));
        return;
      }
      const ratio = decoded.width / decoded.height;
      if (decoded.width < KEYFRAME_LIMITS.minWidth || decoded.height < KEYFRAME_LIMITS.minHeight) {
        issues.push(issue('keyframe_size', k, `step ${k}'s keyframe is ${decoded.width}x${decoded.height}; at least ${KEYFRAME_LIMITS.minWidth}x${KEYFRAME_LIMITS.minHeight} is needed`));
        return;
      }
      if (Math.abs(ratio - aspect) / aspect > KEYFRAME_LIMITS.aspectTolerance) {
        issues.push(issue('keyframe_size', k, `step ${k}'s keyframe is ${decoded.width}x${decoded.height} (aspect ${ratio.toFixed(2)}); camera "${camera.name}" is ${camera.resolution.width}x${camera.resolution.height} (aspect ${aspect.toFixed(2)})`));
        return;
      }
      const picture = decoded.picture;
      const texture = textureIssues(picture, k);
      if (texture.length > 0) {
        issues.push(...texture);
        return;
      }
      if (obs) issues.push(...backgroundIssues(picture, obs, k));
      if (prev !== null && !repeated.has(k)) {
        const change = changeIssues(picture, prev.picture, k, prev.name);
        issues.push(...change);
        const template = templates[k];
        const action = s.action;
        const arms = action?.arms ?? template?.arms;
        if (!change.some((c) => c.code === 'keyframe_change_total')) {
          issues.push(...objectIssues({
            scene: sceneId,
            step: k,
            k: picture,
            prev: prev.picture,
            prevName: prev.name,
            reference: reference ?? picture,
            ...(template?.object ?? action?.object ? { actedOn: (template?.object ?? action?.object)! } : {}),
            ...(arms !== undefined ? { arms } : {}),
            profile,
          }));
        }
      }
      reference ??= picture;
      prev = { picture, name: `step ${k - 0}'s keyframe` };
    });
  }
  return issues.sort((a, b) => (a.step ?? -1) - (b.step ?? -1));
}

/** What a step means for the sequence check: its words, with the planner's action filling in the arms. */
function meaningOf(step: number, template: ActionTemplate, action: Action | undefined, armNames: readonly string[]): StepMeaning {
  const arms = action?.arms ?? template.arms ?? (armNames.length === 1 ? [armNames[0]!] : undefined);
  const part = template.part ?? action?.part;
  const target = template.target ?? action?.target;
  return { step, verb: template.verb, object: template.object, ...(part !== undefined ? { part } : {}), ...(target !== undefined ? { target } : {}), ...(arms !== undefined ? { arms } : {}) };
}

function sameKeyframe(a: unknown, b: unknown, da: DecodedImage | undefined, db: DecodedImage | undefined): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length && a.every((v, i) => v === b[i])) return true;
  if (da?.ok && db?.ok) return meanAbsDiff(da.picture.rgb, db.picture.rgb) < KEYFRAME_LIMITS.unchangedMeanDiff;
  return false;
}

export { ISSUE_SEVERITY };
