import type { RobotProfile } from '../../schema/index.js';
import type { Candidate, OracleStep } from '../scene.js';
import { UnsupportedTaskError } from '../scene.js';
import { candidates, isGoal } from './logic.js';
import type { FoldId, TshirtGoal, TshirtState } from './model.js';
import { isFolded, localCentre, toTable } from './model.js';
import { parseInstruction } from './words.js';

/** Why this robot cannot do the task at all, or null. */
export function unsupported(goal: TshirtGoal, profile: RobotProfile): string | null {
  const needs = (v: RobotProfile['primitives'][number]) => profile.primitives.includes(v);
  if (goal.folds.some((f) => f === 'bottom' || f === 'half') && (!profile.bimanual || profile.arms.length < 2)) {
    return `folding the t-shirt needs two arms working together; ${profile.id} has ${profile.arms.length === 1 ? 'one' : 'no bimanual pair'}`;
  }
  const missing: string[] = [];
  if (goal.folds.length > 0 && !needs('fold')) missing.push('fold');
  if (goal.folds.includes('bottom') && !needs('grasp')) missing.push('grasp');
  if (goal.collar && !needs('tidy')) missing.push('tidy');
  if (goal.aside && !needs('move')) missing.push('move');
  if (missing.length > 0) return `${profile.id} lacks the ${missing.join(', ')} primitive${missing.length > 1 ? 's' : ''} this task needs`;
  return null;
}

function withArms(names: readonly string[], profile: RobotProfile): string {
  if (names.length >= 2) return ' with both arms';
  if (profile.arms.length === 1) return ' with the arm';
  return ` with the ${names[0]} arm`;
}

/** Arms to try for a one-arm step, the preferred first. */
function prefer(profile: RobotProfile, first: string): string[] {
  const names = profile.arms.map((a) => a.name);
  return names.includes(first) ? [first, ...names.filter((n) => n !== first)] : names;
}

const FOLD_TEXT: Record<FoldId, string> = {
  left_sleeve: 'fold the left sleeve in',
  right_sleeve: 'fold the right sleeve in',
  bottom: 'fold the bottom up to the collar',
  half: 'fold the shirt in half',
};

type Pick = (c: Candidate<TshirtState>[]) => Candidate<TshirtState> | undefined;

/** The instructions worth trying next, most urgent first, each with how to choose among its candidates. */
function options(state: TshirtState, goal: TshirtGoal, profile: RobotProfile): { text: string; pick?: Pick }[] {
  const out: { text: string; pick?: Pick }[] = [];
  const pair = profile.arms.slice(0, 2).map((a) => a.name);
  const holdersOf = (h: string) => state.arms.filter((a) => a.holding === h).map((a) => a.name);
  // A fold that stopped short is finished first: its arms still hold the cloth.
  for (const f of state.folds) {
    if (f.extent >= 1) continue;
    if (f.id === 'left_sleeve' || f.id === 'right_sleeve') {
      const h = holdersOf(`shirt.${f.id}`);
      const arms = h.length > 0 ? h : prefer(profile, f.id === 'left_sleeve' ? 'left' : 'right');
      for (const a of arms) out.push({ text: FOLD_TEXT[f.id] + withArms([a], profile) });
    } else {
      out.push({ text: FOLD_TEXT[f.id] + withArms(pair, profile) });
    }
  }
  if (goal.collar && state.collarCrumple !== null) {
    for (const a of prefer(profile, 'right')) out.push({ text: 'tidy the collar' + withArms([a], profile) });
  }
  for (const id of ['left_sleeve', 'right_sleeve'] as const) {
    if (!goal.folds.includes(id) || isFolded(state, id)) continue;
    for (const a of prefer(profile, id === 'left_sleeve' ? 'left' : 'right')) out.push({ text: FOLD_TEXT[id] + withArms([a], profile) });
  }
  if (goal.folds.includes('bottom') && !isFolded(state, 'bottom')) {
    const hl = holdersOf('shirt.bottom_left');
    const hr = holdersOf('shirt.bottom_right');
    // Each corner belongs to the arm on its side; a corner held crosswise is let go and taken again.
    const crossed = [
      ...hl.filter((a) => a !== pair[0]).map((a) => ({ a, corner: 'bottom-left' })),
      ...hr.filter((a) => a !== pair[1]).map((a) => ({ a, corner: 'bottom-right' })),
    ];
    if (crossed.length > 0) {
      for (const { a, corner } of crossed) out.push({ text: `release the ${corner} corner` + withArms([a], profile) });
    } else if (hl.length > 0 && hr.length > 0) out.push({ text: FOLD_TEXT.bottom + withArms(pair, profile) });
    else if (hl.length === 0 && hr.length === 0) out.push({ text: 'grasp the bottom corners' + withArms(pair, profile) });
    else if (hl.length === 0) out.push({ text: 'grasp the bottom-left corner' + withArms([pair[0]!], profile) });
    else out.push({ text: 'grasp the bottom-right corner' + withArms([pair[1]!], profile) });
  }
  if (goal.folds.includes('half') && !isFolded(state, 'half')) out.push({ text: FOLD_TEXT.half + withArms(pair, profile) });
  if (goal.aside && state.aside === null) {
    // The end of the table nearer the shirt; the other end if that one is out of reach.
    const x = toTable(state.pose, localCentre(state))[0];
    const want = x >= 0 ? 1 : 0;
    out.push({
      text: 'move the folded shirt aside',
      pick: (cs) => cs.find((c) => c.action.slot === want) ?? cs[0],
    });
  }
  // Last resort, when holding something blocks every step above: let go of it.
  const names: Record<string, string> = {
    'shirt.bottom_left': 'the bottom-left corner',
    'shirt.bottom_right': 'the bottom-right corner',
    'shirt.left_sleeve': 'the left sleeve',
    'shirt.right_sleeve': 'the right sleeve',
  };
  for (const a of state.arms) {
    if (a.holding === null) continue;
    out.push({ text: `release ${names[a.holding] ?? 'the shirt'}` + withArms([a.name], profile) });
  }
  return out;
}

function nextStep(state: TshirtState, goal: TshirtGoal, profile: RobotProfile): OracleStep<TshirtState> | undefined {
  for (const { text, pick } of options(state, goal, profile)) {
    const parsed = parseInstruction(text, profile);
    if (!parsed.ok) throw new Error(`tshirt oracle: its own instruction "${text}" does not parse: ${parsed.reason}`);
    const res = candidates(state, parsed.template, profile);
    if (!res.ok) continue;
    const c = pick ? pick(res.candidates) : res.candidates[0];
    if (c !== undefined) return { instruction: text, action: c.action, next: c.next };
  }
  return undefined;
}

export function oracle(state: TshirtState, goal: TshirtGoal, profile: RobotProfile): OracleStep<TshirtState>[] {
  const why = unsupported(goal, profile);
  if (why !== null) throw new UnsupportedTaskError(why, { scene: 'tshirt', robot: profile.id });
  const steps: OracleStep<TshirtState>[] = [];
  let s = state;
  for (let i = 0; i < 30 && !isGoal(s, goal); i++) {
    const step = nextStep(s, goal, profile);
    if (step === undefined) {
      throw new Error(`tshirt oracle: stuck with no next step (folds ${JSON.stringify(s.folds.map((f) => [f.id, f.extent]))}, arms ${JSON.stringify(s.arms.map((a) => [a.name, a.holding]))})`);
    }
    steps.push(step);
    s = step.next;
  }
  if (!isGoal(s, goal)) throw new Error('tshirt oracle: the plan did not reach the goal in 30 steps');
  return steps;
}
