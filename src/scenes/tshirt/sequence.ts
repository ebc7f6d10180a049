import { issue, type PlanIssue } from '../../schema/plan-issue.js';
import type { RobotProfile } from '../../schema/robot-profile.js';
import { UNKNOWN, armWords, armsState, type ObservedStart, type PastStep, type SayUndone, type StepMeaning } from '../sequence.js';
import type { TshirtGoal } from './model.js';
import { COVERED_BY, PREREQUISITES, type Milestone } from './rules.js';

/*
 * The validator's sequence rules for the T-shirt. The run so far matters here: a half fold that
 * stopped at 60 % looks folded to the camera, but the robot reported it missed.
 */

type Tri = boolean | typeof UNKNOWN;
/** Reports a finding on a step; true when the step is refused, so its effects are not applied. */
type Say = (code: Parameters<typeof issue>[0], s: StepMeaning, text: string) => boolean;
const CORNER = { bottom_left: 'shirt.bottom_left', bottom_right: 'shirt.bottom_right' } as const;

export function checkTshirtSequence(steps: readonly StepMeaning[], profile: RobotProfile, start: ObservedStart | undefined, past: readonly PastStep[], goal: (TshirtGoal & { say: SayUndone }) | undefined): PlanIssue[] {
  const issues: PlanIssue[] = [];
  const arms = armsState(profile, start);
  const folded: Record<'left_sleeve' | 'right_sleeve' | 'bottom' | 'half', Tri> = { left_sleeve: UNKNOWN, right_sleeve: UNKNOWN, bottom: UNKNOWN, half: UNKNOWN };
  let collarTidy: Tri = UNKNOWN;
  let aside: Tri = UNKNOWN;
  const pair = profile.arms.slice(0, 2).map((a) => a.name);
  /** What this model knows of a milestone of the fold (rules.ts). */
  const known = (m: Milestone): Tri => (m === 'collar' ? collarTidy : m === 'aside' ? aside : folded[m]);
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
        if (COVERED_BY.collar.some((m) => known(m) === true) && say('order', s, 'the collar is under the half fold; tidy it before folding in half')) return;
        const b = busy(acting);
        if (b !== null && say('arm_busy', s, b)) return;
        collarTidy = true;
        for (const a of acting) arms.set(a, null);
        return;
      }
      case 'fold': {
        const part = s.part;
        if (part === 'left_sleeve' || part === 'right_sleeve') {
          if (COVERED_BY[part].some((m) => known(m) === true) && say('order', s, `the ${part.replace('_', ' ')} is under the bottom fold; sleeves are folded before the bottom`)) return;
          if (folded[part] === true && say('already_done', s, `the ${part.replace('_', ' ')} is already folded in`)) return;
          const b = busy(acting, [`shirt.${part}`]);
          if (b !== null && say('arm_busy', s, b)) return;
          folded[part] = true;
          for (const a of acting) arms.set(a, null);
        } else if (part === 'bottom') {
          if (folded.bottom === true && say('already_done', s, 'the bottom is already folded up')) return;
          const unfolded = PREREQUISITES.bottom.filter((m) => known(m) === false);
          if (unfolded.length > 0 && say('order', s, `the bottom fold comes after the sleeves; fold ${unfolded.map((p) => `the ${p.replace('_', ' ')}`).join(' and ')} first`)) return;
          const missing = (['bottom_left', 'bottom_right'] as const).filter((c) => cornerHeld(CORNER[c]) === false);
          if (missing.length > 0 && say('corners_not_held', s, `the bottom fold needs both bottom corners held; ${missing.map((c) => c.replace('_', '-')).join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not: grasp the bottom corners first`)) return;
          folded.bottom = true;
          for (const [a, h] of arms) if (h === CORNER.bottom_left || h === CORNER.bottom_right) arms.set(a, null);
          for (const a of acting) arms.set(a, null);
        } else if (part === 'half') {
          if (folded.half === true && say('already_done', s, 'the shirt is already folded in half')) return;
          const before = PREREQUISITES.half.filter((m) => known(m) === false);
          if (before.includes('bottom') && say('order', s, 'fold the bottom up before folding the shirt in half')) return;
          if (before.includes('collar') && say('order', s, 'tidy the collar first: the half fold covers it')) return;
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
        // The corners are grasped for the bottom fold: its prerequisites hold for the grasp.
        const unfolded = PREREQUISITES.bottom.filter((m) => known(m) === false);
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
        if (PREREQUISITES.aside.some((m) => known(m) === false) && say('order', s, 'fold the shirt before moving it aside')) return;
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

