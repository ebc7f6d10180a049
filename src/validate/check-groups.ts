import type { z } from 'zod';
import { formatPath } from '../errors/format.js';
import type { Action } from '../schema/action.js';
import { issue, type PlanIssue } from '../schema/plan-issue.js';
import type { RobotProfile } from '../schema/robot-profile.js';
import { sceneById } from '../scenes/registry.js';
import { quoteText, quoteWords } from '../scenes/language.js';
import type { ActionTemplate } from '../scenes/scene.js';
import { KEYFRAME_LIMITS, backgroundIssues, changeIssues, objectIssues, observedStart, textureIssues } from './keyframe-checks.js';
import type { Picture } from './picture.js';
import type { CheckContext, PlanReading } from './plan-reading.js';
import { checkSequence, type PastStep, type StepMeaning } from './sequence.js';
import { overheadMapper } from './view.js';

/*
 * The validator's checks in the groups of the issue-code table (src/schema/plan-issue.ts), one function
 * each. A group reports in step order and never throws on a plan it can read; validatePlan runs them all,
 * a gate asks for the ones whose issues it acts on. One code is reported outside its table group:
 * `out_of_reach` (safety) comes from the sequence, which knows where an object is when a step acts on it.
 */

/** A group of checks: the issues of one kind that a plan, read once, has in a context. */
export type CheckGroup = (plan: PlanReading, ctx: CheckContext) => PlanIssue[];

export const CHECK_GROUP_NAMES = ['structure', 'capability', 'language', 'sequence', 'keyframes', 'safety'] as const;
export type CheckGroupName = (typeof CHECK_GROUP_NAMES)[number];

/** Plan duration above this share of the limit is a warning. */
export const DURATION_WARNING_SHARE = 0.8;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const isPng = (b: Uint8Array) => b.length > 8 && PNG_SIGNATURE.every((v, i) => b[i] === v);
const armList = (arms: readonly string[]) => arms.map((a) => `"${a}"`).join(', ');

function zodIssues(error: z.ZodError, prefix: string, step: number | null): PlanIssue[] {
  return error.issues.map((i) => issue('schema', step, `${prefix}${formatPath(i.path)}: ${i.message}`));
}

/** Each step whose words the scene reads, with what they say and what the planner's action says. */
function readSteps(plan: PlanReading): { k: number; template: ActionTemplate | undefined; action: Action | undefined; instruction: string }[] {
  return plan.steps.flatMap((s, k) => {
    const words = plan.words[k];
    if (s === null || words === undefined) return [];
    return [{ k, template: words.ok ? words.template : undefined, action: s.action, instruction: s.instruction }];
  });
}

/** Every step readable, counted, indexed, worded, and no stutter. */
export const structureChecks: CheckGroup = (plan, { profile }) => {
  const issues = plan.headerError !== null ? zodIssues(plan.headerError, 'plan.', null) : [];
  if (!plan.listed) return issues;
  plan.stepErrors.forEach((error, k) => {
    if (error !== undefined) issues.push(...zodIssues(error, `steps[${k}].`, k));
  });
  const { minSteps, maxSteps } = profile.limits;
  const count = plan.steps.length;
  // The step limits are for plans that do something: an empty one is checked against the task.
  if (!plan.doneClaim && (count < minSteps || count > maxSteps)) {
    issues.push(issue('step_count', null, `the plan has ${count} step${count === 1 ? '' : 's'}; ${profile.id} takes ${minSteps} to ${maxSteps}`));
  }
  plan.steps.forEach((s, k) => {
    if (s === null) return;
    if (s.index !== k) issues.push(issue('step_index', k, `step ${k} says it is step ${s.index}`));
    if (s.instruction.trim() === '') issues.push(issue('empty_instruction', k, `step ${k} has no instruction`));
    else if (plan.repeated.has(k)) issues.push(issue('repeated_step', k, `step ${k} repeats step ${k - 1} ("${s.instruction}") with the same keyframe`));
  });
  return issues;
};

/** The words parse for this robot in this scene, and the planner's action says what they say. */
export const languageChecks: CheckGroup = (plan, { profile }) =>
  readSteps(plan).flatMap(({ k, template, action, instruction }) => {
    const issues: PlanIssue[] = [];
    const words = plan.words[k]!;
    if (!words.ok) {
      const unknown = words.unknownWords.length > 0 ? `; not understood: ${quoteWords(words.unknownWords)}` : '';
      issues.push(issue('unparseable', k, `step ${k}: ${quoteText(instruction)} does not parse for ${profile.id} in the ${plan.scene} scene (${words.reason})${unknown}`));
    }
    if (template && action) {
      const diffs: string[] = [];
      if (template.verb !== action.verb) diffs.push(`verb ${action.verb} vs "${template.verb}"`);
      if (template.object !== action.object) diffs.push(`object ${action.object} vs "${template.object}"`);
      if (template.part !== undefined && action.part !== undefined && template.part !== action.part) diffs.push(`part ${action.part} vs "${template.part}"`);
      if (template.target !== undefined && action.target !== undefined && !action.target.startsWith(template.target) && !template.target.startsWith(action.target)) {
        diffs.push(`target ${action.target} vs "${template.target}"`);
      }
      if (template.arms !== undefined && [...template.arms].sort().join() !== [...action.arms].sort().join()) diffs.push(`arms ${armList(action.arms)} vs ${armList(template.arms)}`);
      if (diffs.length > 0) issues.push(issue('action_mismatch', k, `step ${k}: the action does not say what "${instruction}" says (${diffs.join('; ')})`));
    }
    return issues;
  });

/** The arms, verbs and objects a step needs are the robot's and the scene's. */
export const capabilityChecks: CheckGroup = (plan, { profile }) => {
  const armNames = profile.arms.map((a) => a.name);
  const oneArm = armNames.length === 1 || !profile.bimanual;
  const vocab = sceneById(plan.scene).vocabulary;
  return readSteps(plan).flatMap(({ k, template, action }) => {
    const issues: PlanIssue[] = [];
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
        issues.push(issue('unknown_object', k, `step ${k}: the ${plan.scene} scene has no ${what} "${id}" (known: ${Object.keys(known).join(', ') || 'none'})`));
      }
    }
    return issues;
  });
};

/** The plan fits the robot's time limit, and every action position is in reach and out of forbidden zones. */
export const safetyChecks: CheckGroup = (plan, { profile }) => {
  const issues: PlanIssue[] = [];
  const { maxPlanDurationS, stepDurationS } = profile.limits;
  const count = plan.steps.length;
  const duration = count * stepDurationS;
  if (duration > maxPlanDurationS) {
    issues.push(issue('plan_duration', null, `the plan takes about ${duration} s (${count} steps x ${stepDurationS} s); ${profile.id} allows ${maxPlanDurationS} s`));
  } else if (duration > DURATION_WARNING_SHARE * maxPlanDurationS) {
    issues.push(issue('plan_duration_near_limit', null, `the plan takes about ${duration} s of the ${maxPlanDurationS} s ${profile.id} allows, leaving little time for replans`));
  }
  for (const { k, action } of readSteps(plan)) {
    if (action?.position === undefined) continue;
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
  return issues;
};

/** Each step possible after the ones before it (and the run so far), and where the plan leaves the task. */
export const sequenceChecks: CheckGroup = (plan, ctx) => {
  const { profile } = ctx;
  const armNames = profile.arms.map((a) => a.name);
  const scene = sceneById(plan.scene);
  const meanings = readSteps(plan).flatMap(({ k, template, action }) => (template ? [meaningOf(k, template, action, armNames)] : []));
  const obs = observed(ctx);
  const start = obs ? observedStart(obs, plan.scene, profile, overheadMapper(keyframeCamera(profile), obs)) : undefined;
  const past: PastStep[] = (ctx.history ?? []).flatMap((h) => {
    const parsed = scene.parseInstruction(h.instruction, profile);
    return parsed.ok ? [{ meaning: meaningOf(h.stepIndex, parsed.template, undefined, armNames), status: h.status, ...(h.holding !== undefined ? { holding: h.holding } : {}) }] : [];
  });
  return checkSequence(plan.scene, meanings, profile, start, past, ctx.task !== undefined ? { text: ctx.task, emptyPlan: plan.doneClaim } : undefined);
};

/** Each keyframe's bytes, then (when decoded pictures come with the context) what its picture shows. */
export const keyframeChecks: CheckGroup = (plan, ctx) =>
  [...keyframeFileChecks(plan, ctx), ...keyframePictureChecks(plan, ctx)].sort((a, b) => (a.step ?? -1) - (b.step ?? -1));

/** A keyframe is there and is a PNG. Part of the keyframes group; validatePlan lists these before the sequence's issues. */
export const keyframeFileChecks: CheckGroup = (plan) =>
  plan.steps.flatMap((s, k) => {
    if (s === null) return [];
    const bytes = s.keyframe;
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) return [issue('missing_keyframe', k, `step ${k} has no keyframe`)];
    if (!isPng(bytes)) return [issue('keyframe_not_png', k, `step ${k}'s keyframe is not a PNG`)];
    return [];
  });

/**
 * Each decoded keyframe is a picture of this camera's view, changes one thing from the picture before
 * it, and keeps the objects it does not act on. Part of the keyframes group; validatePlan lists these after the sequence's issues.
 */
export const keyframePictureChecks: CheckGroup = (plan, ctx) => {
  const keyframes = ctx.keyframes;
  if (keyframes === undefined) return [];
  const { profile } = ctx;
  const issues: PlanIssue[] = [];
  const camera = keyframeCamera(profile);
  const aspect = camera.resolution.width / camera.resolution.height;
  const obs = observed(ctx);
  let prev: { picture: Picture; name: string } | null = obs ? { picture: obs, name: 'the observation' } : null;
  let reference: Picture | undefined = obs;
  plan.steps.forEach((s, k) => {
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
    if (prev !== null && !plan.repeated.has(k)) {
      const change = changeIssues(picture, prev.picture, k, prev.name);
      issues.push(...change);
      const words = plan.words[k];
      const template = words?.ok ? words.template : undefined;
      const action = s.action;
      const arms = action?.arms ?? template?.arms;
      const actedOn = template?.object ?? action?.object;
      if (!change.some((c) => c.code === 'keyframe_change_total')) {
        issues.push(...objectIssues({
          scene: plan.scene,
          step: k,
          k: picture,
          prev: prev.picture,
          prevName: prev.name,
          reference: reference ?? picture,
          ...(actedOn ? { actedOn } : {}),
          ...(arms !== undefined ? { arms } : {}),
          profile,
        }));
      }
    }
    reference ??= picture;
    prev = { picture, name: `step ${k}'s keyframe` };
  });
  return issues;
};

/** The groups by name, for a caller that wants some of them (see checkPlan). */
export const CHECK_GROUPS: Record<CheckGroupName, CheckGroup> = {
  structure: structureChecks,
  capability: capabilityChecks,
  language: languageChecks,
  sequence: sequenceChecks,
  keyframes: keyframeChecks,
  safety: safetyChecks,
};

/**
 * The order validatePlan lists a step's issues in (a stable sort by step follows): what a reader meets
 * first, its structure and words, before what the robot can do, safety, its keyframe file, the sequence
 * and last its picture. Logs and the planner's `rejected` list have always had this order.
 */
export const REPORT_ORDER: readonly (readonly [CheckGroupName, CheckGroup])[] = [
  ['structure', structureChecks],
  ['language', languageChecks],
  ['capability', capabilityChecks],
  ['safety', safetyChecks],
  ['keyframes', keyframeFileChecks],
  ['sequence', sequenceChecks],
  ['keyframes', keyframePictureChecks],
];

/** What a step means for the sequence check: its words, with the planner's action filling in the arms. */
function meaningOf(step: number, template: ActionTemplate, action: Action | undefined, armNames: readonly string[]): StepMeaning {
  const arms = action?.arms ?? template.arms ?? (armNames.length === 1 ? [armNames[0]!] : undefined);
  const part = template.part ?? action?.part;
  const target = template.target ?? action?.target;
  return { step, verb: template.verb, object: template.object, ...(part !== undefined ? { part } : {}), ...(target !== undefined ? { target } : {}), ...(arms !== undefined ? { arms } : {}) };
}

function keyframeCamera(profile: RobotProfile): RobotProfile['cameras'][number] {
  return profile.cameras.find((c) => c.name === profile.keyframeCamera) ?? profile.cameras[0]!;
}

function observed(ctx: CheckContext): Picture | undefined {
  return ctx.observation?.ok ? ctx.observation.picture : undefined;
}
