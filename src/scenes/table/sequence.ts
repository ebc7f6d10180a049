import type { Point2 } from '../../schema/action.js';
import { issue, type PlanIssue } from '../../schema/plan-issue.js';
import type { RobotProfile } from '../../schema/robot-profile.js';
import type { Holding as ReportedHolding } from '../../schema/step-feedback.js';
import { armWords, armsState, type ObservedStart, type PastStep, type SayUndone, type StepMeaning } from '../sequence.js';
import { OBJECT_IDS, RECEPTACLES, type ObjectId, type TableGoal } from './model.js';
import { pickable, receptacleOf, standsUp } from './rules.js';

/*
 * The validator's sequence rules for the table, on what the observation shows (the table's objects
 * are where the camera sees them, so the run's history matters only for what grippers hold).
 */

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

export function checkTableSequence(steps: readonly StepMeaning[], profile: RobotProfile, start: ObservedStart | undefined, past: readonly PastStep[], goal: (TableGoal & { say: SayUndone }) | undefined): PlanIssue[] {
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
        if (s.verb === 'upright' && (!standsUp(obj as ObjectId) || pose.get(obj) === 'upright')) {
          const why = standsUp(obj as ObjectId) ? 'already stands upright in the observation' : 'lies flat as it should; only the cup, the bowl and the bottle stand up';
          issues.push(issue('already_done', s.step, `step ${s.step}: the ${obj} ${why}`));
          break;
        }
        const seenPose = pose.get(obj);
        if (s.verb === 'pick' && seenPose !== undefined && !pickable(seenPose)) {
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
        const home = RECEPTACLES[receptacleOf(obj as ObjectId)];
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
        if (s.target !== undefined && s.target !== receptacleOf(obj as ObjectId)) {
          issues.push(issue('wrong_target', s.step, `step ${s.step}: the ${obj} goes in the ${receptacleOf(obj as ObjectId)}, not the ${s.target}`));
        }
        if (at.kind === 'stowed') {
          issues.push(issue('already_done', s.step, `step ${s.step}: the ${obj} is already in the ${receptacleOf(obj as ObjectId)}; it cannot be placed twice`));
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

