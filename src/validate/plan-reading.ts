import { z } from 'zod';
import { meanAbsDiff } from '../image/compare.js';
import type { HistoryEntry, PlanDraft } from '../planner/planner.js';
import { Action } from '../schema/action.js';
import type { RobotProfile } from '../schema/robot-profile.js';
import { SceneId } from '../schema/task.js';
import { sceneById } from '../scenes/registry.js';
import type { ParseResult } from '../scenes/scene.js';
import { KEYFRAME_LIMITS } from './keyframe-checks.js';
import type { Picture } from './picture.js';

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

/** What a plan is checked against: the robot, and what the run knows. */
export interface CheckContext extends ValidationContext {
  profile: RobotProfile;
}

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
export type DraftStep = z.infer<typeof DraftStep>;

/**
 * A plan as every check group reads it, read once: which steps are readable, the scene it speaks,
 * which steps repeat the one before, and what each step's words mean. Holds no issues: the structure
 * group reports the problems found here, so a gate that asks for one group still sees the same plan.
 */
export interface PlanReading {
  /** Why the header does not parse; null when it does. */
  headerError: z.ZodError | null;
  /** False when the plan has no list of steps: then only its header can be checked. */
  listed: boolean;
  /** Each step as read, null where it does not read (`stepErrors` says why). */
  steps: readonly (DraftStep | null)[];
  stepErrors: readonly (z.ZodError | undefined)[];
  /** An empty plan with the task known: the planner's "nothing left to do", held against the task. */
  doneClaim: boolean;
  scene: SceneId;
  /** Steps that say what the step before says, with the same keyframe: a stutter, checked no further. */
  repeated: ReadonlySet<number>;
  /** Each step's words as the scene reads them; undefined for a step without words or a repeat. */
  words: readonly (ParseResult | undefined)[];
}

const normalise = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();

export function readPlan(plan: PlanDraft, ctx: CheckContext): PlanReading {
  const header = DraftHeader.safeParse(plan);
  const rawSteps = (plan as { steps?: unknown } | null)?.steps;
  const listed = Array.isArray(rawSteps);
  const raw: unknown[] = listed ? rawSteps : [];
  const parsed = raw.map((r) => DraftStep.safeParse(r));
  const steps = parsed.map((p) => (p.success ? p.data : null));
  // An empty plan speaks no scene's language; its task does.
  const doneClaim = raw.length === 0 && ctx.task !== undefined;
  const scene =
    ctx.scene ??
    (header.success ? header.data.scene : undefined) ??
    (doneClaim ? SceneId.options.find((id) => sceneById(id).parseTask(ctx.task!).ok) : undefined) ??
    inferScene(steps.filter((s): s is DraftStep => s !== null), ctx.profile);

  const repeated = new Set<number>();
  const words = steps.map((s, k) => {
    if (s === null || s.instruction.trim() === '') return undefined;
    const prev = k > 0 ? steps[k - 1] : null;
    if (prev && normalise(prev.instruction) === normalise(s.instruction) && sameKeyframe(prev.keyframe, s.keyframe, ctx.keyframes?.[k - 1], ctx.keyframes?.[k])) {
      repeated.add(k);
      return undefined;
    }
    return sceneById(scene).parseInstruction(s.instruction, ctx.profile);
  });
  return {
    headerError: header.success ? null : header.error,
    listed,
    steps,
    stepErrors: parsed.map((p) => (p.success ? undefined : p.error)),
    doneClaim,
    scene,
    repeated,
    words,
  };
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

function sameKeyframe(a: unknown, b: unknown, da: DecodedImage | undefined, db: DecodedImage | undefined): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length && a.every((v, i) => v === b[i])) return true;
  if (da?.ok && db?.ok) return meanAbsDiff(da.picture.rgb, db.picture.rgb) < KEYFRAME_LIMITS.unchangedMeanDiff;
  return false;
}
