import type { Point2 } from '../schema/action.js';
import type { RobotProfile, Verb } from '../schema/robot-profile.js';
// Named apart from this file's own Holding (an arm's state in the abstract model, unknown included).
import type { Holding as ReportedHolding } from '../schema/step-feedback.js';
import type { SceneId } from '../schema/task.js';
import { HOME_OF, OBJECT_IDS, RECEPTACLES, TIPPABLE, type ObjectId, type TableGoal } from '../scenes/table/model.js';
import { parseTask as parseTableTask } from '../scenes/table/words.js';
import type { TshirtGoal } from '../scenes/tshirt/model.js';
import { parseTask as parseTshirtTask } from '../scenes/tshirt/words.js';
import type { TaskResult } from '../scenes/scene.js';
import { issue, type PlanIssue } from '../schema/plan-issue.js';

/** What one step means, read from its instruction (and its action where the planner gave one). */
export interface StepMeaning {
  step: number;
  verb: Verb;
  object: string;
  part?: string;
  target?: string;
  /** Acting arms; undefined when neither the words nor the action say (any free arm). */
  arms?: string[];
}

/** Where the observation shows each scene object at the start, and which grippers wait empty at home. */
export interface ObservedStart {
  objects: Partial<Record<string, 'table' | 'stowed' | 'near_gripper' | 'absent'>>;
  /** Table frame position (metres) of objects seen on the table, from their blob in the observation. */
  positions?: Partial<Record<string, Point2>>;
  /** Whether a cup, bowl or bottle seen on the table stands or lies tipped over, where its footprint says. */
  poses?: Partial<Record<string, 'upright' | 'tipped'>>;
  /** Arms whose gripper is at its home position: they hold nothing. */
  emptyArms: string[];
}

/** A step of the run so far, as the robot reported it (see PlanRequest.history). */
export interface PastStep {
  meaning: StepMeaning;
  status: 'done' | 'miss' | 'rejected' | 'timeout' | 'cancelled';
  /** What the robot said each gripper holds after the step (StepFeedback.holding), when it said. */
  holding?: ReportedHolding;
}

/**
 * Preconditions and effects per scene on an abstract state built from the run so far (`past`), the
 * observation and the plan's own steps. Three-valued: what none of them tells is unknown, and only a
 * known contradiction is an issue, so a replan from an odd state is never refused for a guess.
 *
 * The run so far matters where the picture cannot tell: a T-shirt whose half fold stopped at 60 %
 * looks folded to the camera, but the robot reported the fold missed, so "move the folded shirt
 * aside" must wait for the fold. The table's objects are where the observation shows them, so the
 * table goes by the observation alone.
 *
 * With the run's `task`, the state the plan ends in is also held against the task's goal: what is
 * known not done there is `task_incomplete` (a warning: the executor runs the plan and plans again).
 * A task the scene does not know is left to the planner, which refuses it before any plan exists.
 */
export function checkSequence(scene: SceneId, steps: readonly StepMeaning[], profile: RobotProfile, start?: ObservedStart, past: readonly PastStep[] = [], task?: TaskCheck): PlanIssue[] {
  switch (scene) {
    case 'table':
      return tableSequence(steps, profile, start, past, task && withSay(parseTableTask(task.text), task));
    case 'tshirt':
      return tshirtSequence(steps, profile, start, past, task && withSay(parseTshirtTask(task.text), task));
  }
}

/** The task's goal with how to report what it leaves undone; undefined for a task the scene does not know. */
function withSay<G>(parsed: TaskResult<G>, task: TaskCheck): (G & { say: SayUndone }) | undefined {
  if (!parsed.ok) return undefined;
  const say: SayUndone = (missing) => (task.emptyPlan ? notDone(task.text, missing) : incomplete(task.text, missing));
  return { ...parsed.goal, say };
}

/** The run's task, and whether the plan is empty: the planner's "nothing left to do". */
export interface TaskCheck {
  text: string;
  emptyPlan: boolean;
}

/** How what the end state leaves undone is reported: task_incomplete, or task_not_done for an empty plan. */
type SayUndone = (missing: readonly string[]) => PlanIssue;

/** "the cup", "the cup and the plate", "the cup, the plate and the fork". */
function andList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]!}`;
}

function incomplete(task: string, missing: readonly string[]): PlanIssue {
  return issue('task_incomplete', null, `the plan ends with ${andList(missing)}, so "${task}" is not done: the run plans again after these steps`);
}

function notDone(task: string, missing: readonly string[]): PlanIssue {
  return issue('task_not_done', null, `the plan is empty ("nothing left to do"), but "${task}" is not done: ${andList(missing)}`);
}

const UNKNOWN = Symbol('unknown');
type Holding = string | null | typeof UNKNOWN;

function armsState(profile: RobotProfile, start?: ObservedStart): Map<string, Holding> {
  const arms = new Map<string, Holding>();
  for (const a of profile.arms) arms.set(a.name, start?.emptyArms.includes(a.name) ? null : UNKNOWN);
  return arms;
}

const armWords = (name: string) => (name === 'arm' ? 'the arm' : `the ${name} arm`);

// ---- Table ------------------------------------------------------------------------------------

/**
 * How far outside an arm's workspace an object seen in the observation must be before a step that
 * names that arm is refused: a blob centroid at 128x96 is good to about a pixel (~1 cm). Against the
 * sim's own reach test on 40 held-out layouts x 6 objects x each arm of three dual-arm profiles, 1 cm
 * already gave no false refusal; 1.5 cm leaves half a pixel more.
 */
export const REACH_MARGIN_M = 0.015;

/** Distance (metres) from p to the workspace box in the table plane; 0 inside. */
function outside(p: Point2, box: { min: readonly number[]; max: readonly number[] }): number {
  const dx = Math.max(box.min[0]! - p[0], 0, p[0] - box.max[0]!);
  const dy = Math.max(box.min[1]! - p[1], 0, p[1] - box.max[1]!);
  return Math.hypot(dx, dy);
}

type TableWhere = { kind: 'table' } | { kind: 'held'; arm: string | null } | { kind: 'stowed' } | { kind: 'absent' } | { kind: 'unknown' };

/** Where an object starts: as the observation shows it, beside a gripper as the last holding report says. */
function startWhere(id: string, seen: ObservedStart['objects'][string], reported: ReportedHolding | undefined): TableWhere {
  switch (seen) {
    case 'table':
    case 'stowed':
    case 'absent':
      return { kind: seen };
    case 'near_gripper': {
      if (reported === undefined) return { kind: 'unknown' };
      const holder = Object.entries(reported).find(([, h]) => h === id)?.[0];
      return holder !== undefined ? { kind: 'held', arm: holder } : { kind: 'table' };
    }
    case undefined:
      return { kind: 'unknown' };
    default: {
      const never: never = seen;
      return never;
    }
  }
}

function tableSequence(steps: readonly StepMeaning[], profile: RobotProfile, start?: ObservedStart, past: readonly PastStep[] = [], goal?: TableGoal & { say: SayUndone }): PlanIssue[] {
  const issues: PlanIssue[] = [];
  const arms = armsState(profile, start);
  // What the robot last said its grippers hold replaces the guess, and tells whether an object seen
  // beside a gripper is held or lies there (after a slip the open gripper stays by the object).
  const reported = [...past].reverse().find((p) => p.holding !== undefined)?.holding;
  for (const [a, h] of Object.entries(reported ?? {})) if (arms.has(a)) arms.set(a, h);
  for (const a of start?.emptyArms ?? []) if (arms.has(a)) arms.set(a, null);
  const where = new Map<string, TableWhere>();
  for (const id of OBJECT_IDS) {
    const seen = start?.objects[id];
    where.set(id, startWhere(id, seen, reported));
  }
  const holderOf = (obj: string): string | null => [...arms].find(([, h]) => h === obj)?.[0] ?? null;
  // Upright or tipped where the observation's footprint says (ObservedStart.poses), else unknown.
  // Only objects known to lie on the table: one beside a gripper may be the one it holds.
  const pose = new Map<string, 'upright' | 'tipped'>(
    Object.entries(start?.poses ?? {}).filter((e): e is [string, 'upright' | 'tipped'] => e[1] !== undefined && where.get(e[0])?.kind === 'table'),
  );
  for (const s of steps) {
    const obj = s.object;
    if (!(OBJECT_IDS as readonly string[]).includes(obj)) continue;
    const at = where.get(obj)!;
    const named = s.arms?.length === 1 ? s.arms[0]! : undefined;
    if (at.kind === 'absent') {
      issues.push(issue('object_unavailable', s.step, `step ${s.step} acts on the ${obj}, which the observation does not show`));
      continue;
    }
    switch (s.verb) {
      case 'pick':
      case 'upright': {
        if (at.kind === 'stowed') {
          issues.push(issue(s.verb === 'pick' ? 'already_done' : 'object_unavailable', s.step, `step ${s.step}: the ${obj} is already in a receptacle, not on the table`));
          break;
        }
        if (at.kind === 'held') {
          issues.push(issue('already_done', s.step, `step ${s.step}: the ${obj} is already held${at.arm ? ` by ${armWords(at.arm)}` : ''}`));
          break;
        }
        if (s.verb === 'upright' && (!TIPPABLE.has(obj as ObjectId) || pose.get(obj) === 'upright')) {
          const why = TIPPABLE.has(obj as ObjectId) ? 'already stands upright in the observation' : 'lies flat as it should; only the cup, the bowl and the bottle stand up';
          issues.push(issue('already_done', s.step, `step ${s.step}: the ${obj} ${why}`));
          break;
        }
        if (s.verb === 'pick' && pose.get(obj) === 'tipped') {
          issues.push(issue('order', s.step, `step ${s.step}: the ${obj} lies tipped over in the observation; stand it upright before picking it up`));
          break;
        }
        const seenAt = at.kind === 'table' ? start?.positions?.[obj] : undefined;
        const reach = named !== undefined ? profile.arms.find((a) => a.name === named)?.workspace : undefined;
        const miss = seenAt !== undefined && reach !== undefined ? outside(seenAt, reach) : 0;
        if (miss > REACH_MARGIN_M) {
          issues.push(issue('out_of_reach', s.step, `step ${s.step}: the ${obj} is at (${seenAt![0].toFixed(2)}, ${seenAt![1].toFixed(2)}) in the observation, ${(miss * 100).toFixed(0)} cm outside ${armWords(named!)}'s workspace; another arm must take it`));
          break;
        }
        // The arm must also reach a slot of the object's receptacle to put it away.
        const home = RECEPTACLES[HOME_OF[obj as ObjectId]];
        if (s.verb === 'pick' && reach !== undefined && home.slots.every((slot) => outside(slot.pos, reach) > REACH_MARGIN_M)) {
          issues.push(issue('out_of_reach', s.step, `step ${s.step}: ${armWords(named!)} cannot reach the ${home.id}, where the ${obj} goes; another arm must take it`));
          break;
        }
        if (named !== undefined && arms.has(named)) {
          const h = arms.get(named)!;
          if (typeof h === 'string') {
            issues.push(issue('arm_busy', s.step, `step ${s.step}: ${armWords(named)} is still holding the ${h}; place it before picking up the ${obj}`));
            break;
          }
        } else if (named === undefined && [...arms.values()].every((h) => typeof h === 'string')) {
          issues.push(issue('arm_busy', s.step, `step ${s.step}: every arm is holding something; nothing is free to ${s.verb === 'pick' ? 'pick up' : 'stand up'} the ${obj}`));
          break;
        }
        if (s.verb === 'pick') {
          const arm = named ?? null;
          where.set(obj, { kind: 'held', arm });
          if (arm !== null && arms.has(arm)) arms.set(arm, obj);
        } else {
          pose.set(obj, 'upright');
          if (named !== undefined && arms.has(named)) arms.set(named, null);
        }
        break;
      }
      case 'place': {
        if (s.target !== undefined && s.target !== HOME_OF[obj as ObjectId]) {
          issues.push(issue('wrong_target', s.step, `step ${s.step}: the ${obj} goes in the ${HOME_OF[obj as ObjectId]}, not the ${s.target}`));
        }
        if (at.kind === 'stowed') {
          issues.push(issue('already_done', s.step, `step ${s.step}: the ${obj} is already in the ${HOME_OF[obj as ObjectId]}; it cannot be placed twice`));
          break;
        }
        if (at.kind === 'table') {
          issues.push(issue('not_held', s.step, `step ${s.step} places the ${obj}, but no arm holds it (it is on the table): pick it up first`));
          break;
        }
        if (named !== undefined && arms.has(named)) {
          const h = arms.get(named)!;
          if (h === null || (typeof h === 'string' && h !== obj)) {
            issues.push(issue('not_held', s.step, `step ${s.step}: ${armWords(named)} ${h === null ? 'holds nothing' : `holds the ${h}, not the ${obj}`}`));
            break;
          }
        }
        const holder = holderOf(obj) ?? named ?? null;
        if (holder !== null && arms.has(holder)) arms.set(holder, null);
        where.set(obj, { kind: 'stowed' });
        break;
      }
      default:
        break;
    }
  }
  const still = [...arms].filter(([, h]) => typeof h === 'string');
  if (steps.length > 0 && still.length > 0) {
    const last = steps[steps.length - 1]!.step;
    issues.push(issue('left_holding', last, `the plan ends with ${still.map(([a, h]) => `${armWords(a)} holding the ${String(h)}`).join(' and ')}`));
  }
  if (goal !== undefined) {
    // Only what is known out: an object the observation does not place (unknown) may be away already.
    const out = goal.objects.flatMap((id) => {
      const w = where.get(id)!;
      return w.kind === 'table' ? [`the ${id} still on the table`] : w.kind === 'held' ? [`the ${id} still held`] : [];
    });
    if (out.length > 0) issues.push(goal.say(out));
  }
  return issues;
}

// ---- T-shirt ----------------------------------------------------------------------------------

type Tri = boolean | typeof UNKNOWN;
/** Reports a finding on a step; true when the step is refused, so its effects are not applied. */
type Say = (code: Parameters<typeof issue>[0], s: StepMeaning, text: string) => boolean;
const CORNER = { bottom_left: 'shirt.bottom_left', bottom_right: 'shirt.bottom_right' } as const;

function tshirtSequence(steps: readonly StepMeaning[], profile: RobotProfile, start?: ObservedStart, past: readonly PastStep[] = [], goal?: TshirtGoal & { say: SayUndone }): PlanIssue[] {
  const issues: PlanIssue[] = [];
  const arms = armsState(profile, start);
  const folded: Record<'left_sleeve' | 'right_sleeve' | 'bottom' | 'half', Tri> = { left_sleeve: UNKNOWN, right_sleeve: UNKNOWN, bottom: UNKNOWN, half: UNKNOWN };
  let collarTidy: Tri = UNKNOWN;
  let aside: Tri = UNKNOWN;
  const pair = profile.arms.slice(0, 2).map((a) => a.name);
  /** A planned step's finding: recorded, and the step is refused (its effects are not applied). */
  const refuse: Say = (code, s, text) => {
    issues.push(issue(code, s.step, `step ${s.step}: ${text}`));
    return true;
  };
  /** A step the robot reported done: its effects stand whatever this model of the state thought. */
  const trust: Say = () => false;
  /** Is the corner known to be held (true), known free (false) or unknown? */
  const cornerHeld = (corner: string): Tri => {
    const values = [...arms.values()];
    if (values.includes(corner)) return true;
    return values.includes(UNKNOWN) ? UNKNOWN : false;
  };
  /** Arms that must be free for the step (holding nothing, or holding `own`). */
  const busy = (names: readonly string[], own: readonly string[] = []): string | null => {
    for (const n of names) {
      const h = arms.get(n);
      if (typeof h === 'string' && !own.includes(h)) return `${armWords(n)} is holding ${h.replace('shirt.', 'the ').replace('_', ' ')}`;
    }
    return null;
  };

  /** Checks one step against the state, then applies its effects unless `say` refused it. */
  const apply = (s: StepMeaning, say: Say): void => {
    const acting = s.arms ?? [];
    switch (s.verb) {
      case 'tidy': {
        if (collarTidy === true && say('already_done', s, 'the collar is already tidy')) return;
        if (folded.half === true && say('order', s, 'the collar is under the half fold; tidy it before folding in half')) return;
        const b = busy(acting);
        if (b !== null && say('arm_busy', s, b)) return;
        collarTidy = true;
        for (const a of acting) arms.set(a, null);
        return;
      }
      case 'fold': {
        const part = s.part;
        if (part === 'left_sleeve' || part === 'right_sleeve') {
          if ((folded.bottom === true || folded.half === true) && say('order', s, `the ${part.replace('_', ' ')} is under the bottom fold; sleeves are folded before the bottom`)) return;
          if (folded[part] === true && say('already_done', s, `the ${part.replace('_', ' ')} is already folded in`)) return;
          const b = busy(acting, [`shirt.${part}`]);
          if (b !== null && say('arm_busy', s, b)) return;
          folded[part] = true;
          for (const a of acting) arms.set(a, null);
        } else if (part === 'bottom') {
          if (folded.bottom === true && say('already_done', s, 'the bottom is already folded up')) return;
          const unfolded = (['left_sleeve', 'right_sleeve'] as const).filter((p) => folded[p] === false);
          if (unfolded.length > 0 && say('order', s, `the bottom fold comes after the sleeves; fold ${unfolded.map((p) => `the ${p.replace('_', ' ')}`).join(' and ')} first`)) return;
          const missing = (['bottom_left', 'bottom_right'] as const).filter((c) => cornerHeld(CORNER[c]) === false);
          if (missing.length > 0 && say('corners_not_held', s, `the bottom fold needs both bottom corners held; ${missing.map((c) => c.replace('_', '-')).join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not: grasp the bottom corners first`)) return;
          folded.bottom = true;
          for (const [a, h] of arms) if (h === CORNER.bottom_left || h === CORNER.bottom_right) arms.set(a, null);
          for (const a of acting) arms.set(a, null);
        } else if (part === 'half') {
          if (folded.half === true && say('already_done', s, 'the shirt is already folded in half')) return;
          if (folded.bottom === false && say('order', s, 'fold the bottom up before folding the shirt in half')) return;
          const b = busy(acting.length > 0 ? acting : pair, ['shirt.half']);
          if (b !== null && say('arm_busy', s, b)) return;
          folded.half = true;
          folded.bottom = true;
          for (const a of acting) arms.set(a, null);
        }
        // Later folds imply earlier ones were made: a plan that folds the bottom had its sleeves in.
        if (folded.bottom === true) {
          for (const p of ['left_sleeve', 'right_sleeve'] as const) if (folded[p] === UNKNOWN) folded[p] = true;
        }
        return;
      }
      case 'grasp': {
        const part = s.part;
        if (part !== 'bottom_corners' && part !== 'bottom_left' && part !== 'bottom_right') return;
        if (folded.bottom === true && say('already_done', s, 'the bottom is already folded up; its corners are not there to grasp')) return;
        const unfolded = (['left_sleeve', 'right_sleeve'] as const).filter((p) => folded[p] === false);
        if (unfolded.length > 0 && say('order', s, `fold ${unfolded.map((p) => `the ${p.replace('_', ' ')}`).join(' and ')} in before grasping the bottom corners`)) return;
        if (part === 'bottom_corners') {
          const [l, r] = acting.length === 2 ? acting : pair;
          const b = busy([l!, r!].filter((x) => x !== undefined), [CORNER.bottom_left, CORNER.bottom_right]);
          if (b !== null && say('arm_busy', s, b)) return;
          if (l !== undefined) arms.set(l, CORNER.bottom_left);
          if (r !== undefined) arms.set(r, CORNER.bottom_right);
        } else {
          const holder = [...arms].find(([, h]) => h === CORNER[part])?.[0];
          if (holder !== undefined && say('already_done', s, `the ${part.replace('_', '-')} corner is already held by ${armWords(holder)}`)) return;
          const b = busy(acting, [CORNER[part]]);
          if (b !== null && say('arm_busy', s, b)) return;
          if (acting.length === 1) arms.set(acting[0]!, CORNER[part]);
          else for (const [a, h] of arms) if (h === UNKNOWN) arms.set(a, UNKNOWN);
        }
        return;
      }
      case 'move': {
        if (aside === true && say('already_done', s, 'the shirt is already aside')) return;
        if (folded.half === false && say('order', s, 'fold the shirt before moving it aside')) return;
        const b = busy(acting);
        if (b !== null && say('arm_busy', s, b)) return;
        aside = true;
        folded.half = true;
        return;
      }
      case 'release': {
        const names = acting.length > 0 ? acting : [...arms.keys()];
        const holds = names.filter((n) => arms.get(n) !== null);
        if (holds.length === 0 && say('not_held', s, `${names.map(armWords).join(' and ')} ${names.length > 1 ? 'hold' : 'holds'} nothing to release`)) return;
        for (const n of names) arms.set(n, null);
        return;
      }
      default:
        return;
    }
  };

  /**
   * A step the robot reported not done (a miss) or gave up on (timeout, cancel): what it was to
   * achieve is known undone after a miss and unknown after a timeout or cancel, and whatever its arms
   * hold now is unknown (a partial fold ends with the cloth still in the grippers).
   */
  const unfinished = (s: StepMeaning, status: 'miss' | 'timeout' | 'cancelled'): void => {
    const outcome: Tri = status === 'miss' ? false : UNKNOWN;
    for (const a of s.arms ?? [...arms.keys()]) arms.set(a, UNKNOWN);
    if (s.verb === 'tidy') collarTidy = outcome;
    else if (s.verb === 'move') aside = outcome;
    else if (s.verb === 'fold' && (s.part === 'left_sleeve' || s.part === 'right_sleeve' || s.part === 'bottom' || s.part === 'half')) {
      folded[s.part] = outcome;
      // The half fold lies on the bottom fold: without the bottom, no half.
      if (s.part === 'bottom' && outcome === false) folded.half = false;
    }
  };

  const proveOrder = (s: StepMeaning): void => {
    // Nothing known yet becomes known-undone the moment a later step proves the order: unknowns stay unknown.
    if (s.verb === 'fold' && (s.part === 'left_sleeve' || s.part === 'right_sleeve') && folded.bottom === UNKNOWN) folded.bottom = false;
    if (s.verb === 'grasp' && folded.bottom === UNKNOWN) folded.bottom = false;
  };

  // The run so far: what the robot reported done happened, what it missed did not.
  for (const p of past) {
    if (p.meaning.object === 'shirt') {
      if (p.status === 'done') {
        apply(p.meaning, trust);
        proveOrder(p.meaning);
      } else if (p.status !== 'rejected') unfinished(p.meaning, p.status);
    }
    // What the robot says its grippers hold replaces this model's guess: after "grasp the bottom
    // corners" slipped on one corner, it tells which one is still held, which no picture shows.
    for (const [a, h] of Object.entries(p.holding ?? {})) if (arms.has(a)) arms.set(a, h);
  }
  // The observation is newer than any report: a gripper it shows at home holds nothing.
  for (const a of start?.emptyArms ?? []) if (arms.has(a)) arms.set(a, null);

  for (const s of steps) {
    if (s.object !== 'shirt') continue;
    apply(s, refuse);
    proveOrder(s);
  }
  const still = [...arms].filter(([, h]) => typeof h === 'string');
  if (steps.length > 0 && still.length > 0) {
    const last = steps[steps.length - 1]!.step;
    issues.push(issue('left_holding', last, `the plan ends with ${still.map(([a, h]) => `${armWords(a)} holding ${String(h).replace('shirt.', 'the ').replace('_', ' ')}`).join(' and ')}`));
  }
  if (goal !== undefined) {
    // Three-valued as everywhere here: one picture does not tell how far a shirt is folded, so only
    // what the run or the plan proves undone counts (a missed fold, the bottom before a planned sleeve).
    const undone = [
      ...goal.folds.filter((f) => folded[f] === false).map((f) => `the ${FOLD_WORDS[f]} not made`),
      // (TypeScript does not see the closures above assign these two, hence the widening.)
      ...(goal.collar && (collarTidy as Tri) === false ? ['the collar not tidy'] : []),
      ...(goal.aside && (aside as Tri) === false ? ['the shirt not moved aside'] : []),
    ];
    if (undone.length > 0) issues.push(goal.say(undone));
  }
  return issues;
}

const FOLD_WORDS = { left_sleeve: 'left sleeve fold', right_sleeve: 'right sleeve fold', bottom: 'bottom fold', half: 'half fold' } as const;

