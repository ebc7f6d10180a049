import type { Action, RobotProfile } from '../../schema/index.js';
import { initialArms, moveArm } from '../arms.js';
import type { Point2 } from '../geometry.js';
import { lerp } from '../geometry.js';
import type { Rng } from '../../util/rng.js';
import type { ActionTemplate, ArmState, Candidate, CandidateResult } from '../scene.js';
import type { FoldId, TshirtGoal, TshirtState } from './model.js';
import { COVERED_BY, PREREQUISITES, type Milestone } from './rules.js';
import {
  ASIDE_SLOTS, FEATURES, FOLD_IDS, collarPoint, featureAt, foldOf, isFolded, localCentre, poseAt, r4, rp, withFold,
} from './model.js';

/*
 * The canonical fold, seven steps, each a visible change in the overhead view:
 *   1 "tidy the collar with the right arm"                 the crumpled neck flap is laid flat
 *   2 "fold the left sleeve in with the left arm"
 *   3 "fold the right sleeve in with the right arm"
 *   4 "grasp the bottom corners with both arms"            grippers close on the hem corners (lifted)
 *   5 "fold the bottom up to the collar with both arms"
 *   6 "fold the shirt in half with both arms"              the folded edge goes up onto the shoulders
 *   7 "move the folded shirt aside"                        left or right end of the table (keyframe decides)
 * The collar comes first because every later fold covers part of it, and the half fold covers all of it.
 */

const SHIRT = 'shirt';

/** Whether a milestone of the fold (rules.ts) is complete in this state. */
function done(state: TshirtState, m: Milestone): boolean {
  switch (m) {
    case 'collar':
      return state.collarCrumple === null;
    case 'aside':
      return state.aside !== null;
    default:
      return isFolded(state, m);
  }
}

/** Whether a milestone has begun: a fold part-way lies on what it covers as much as a full one. */
function begun(state: TshirtState, m: Milestone): boolean {
  switch (m) {
    case 'collar':
    case 'aside':
      return done(state, m);
    default:
      return foldOf(state, m) !== undefined;
  }
}

export function initial(profile: RobotProfile, rng: Rng): TshirtState {
  const layout = rng.fork('tshirt.layout');
  const x = layout.range(-0.03, 0.03);
  const y = 0.02 + layout.range(-0.03, 0.03);
  const angle = layout.range(-6, 6) * (Math.PI / 180);
  // The crumpled neck: a flap folded down along a line a little under the neckline.
  const cx = layout.range(-0.03, 0.03);
  const cy = layout.range(0.125, 0.14);
  const tilt = layout.range(-20, 20) * (Math.PI / 180);
  return {
    scene: 'tshirt',
    arms: initialArms(profile),
    pose: { x: r4(x), y: r4(y), angle: r4(angle) },
    folds: [],
    collarCrumple: { p: [r4(cx), r4(cy)], d: [r4(Math.cos(tilt)), r4(Math.sin(tilt))] },
    aside: null,
  };
}

export function isGoal(state: TshirtState, goal: TshirtGoal): boolean {
  if (!goal.folds.every((id) => isFolded(state, id))) return false;
  if (goal.collar && state.collarCrumple !== null) return false;
  if (goal.aside && state.aside === null) return false;
  return state.arms.every((a) => a.holding === null);
}

// ---- Performing actions -----------------------------------------------------------------------

type Part = 'left_sleeve' | 'right_sleeve' | 'bottom' | 'half' | 'bottom_corners' | 'bottom_left' | 'bottom_right' | 'collar';

const HOLD: Record<'bottom_left' | 'bottom_right', string> = {
  bottom_left: 'shirt.bottom_left',
  bottom_right: 'shirt.bottom_right',
};

export const PART_WORDS: Record<string, string> = {
  left_sleeve: 'the left sleeve',
  right_sleeve: 'the right sleeve',
  bottom: 'the bottom',
  half: 'the shirt in half',
  bottom_corners: 'the bottom corners',
  bottom_left: 'the bottom-left corner',
  bottom_right: 'the bottom-right corner',
  collar: 'the collar',
  sleeves: 'the sleeves',
};

/** Arms in profile order (the first is the leftmost), as the state lists them. */
export function ordered(state: TshirtState, arms: readonly string[]): string[] {
  const names = state.arms.map((a) => a.name);
  return arms.slice().sort((a, b) => names.indexOf(a) - names.indexOf(b));
}

export function arm(state: TshirtState, name: string): ArmState {
  const a = state.arms.find((x) => x.name === name);
  if (a === undefined) throw new Error(`tshirt: no arm "${name}" in the state`);
  return a;
}

export function setArms(arms: ArmState[], name: string, pos: Point2, closed: boolean, holding: string | null): ArmState[] {
  return moveArm(arms, name, { pos: rp(pos), closed, holding });
}

/** Where each acting arm grasps for a fold, and which flat-shirt point it carries. */
export function foldGrips(state: TshirtState, id: FoldId, arms: readonly string[]): { arm: string; feature: Point2 }[] {
  switch (id) {
    case 'left_sleeve':
      return [{ arm: arms[0]!, feature: FEATURES.leftSleeveTip }];
    case 'right_sleeve':
      return [{ arm: arms[0]!, feature: FEATURES.rightSleeveTip }];
    case 'bottom': {
      // Each arm carries the corner it holds; arms not holding one take the corners left to right.
      const out: { arm: string; feature: Point2 }[] = [];
      const rest = ordered(state, arms);
      for (const name of arms) {
        const h = arm(state, name).holding;
        if (h === HOLD.bottom_left) out.push({ arm: name, feature: FEATURES.bottomLeft });
        else if (h === HOLD.bottom_right) out.push({ arm: name, feature: FEATURES.bottomRight });
      }
      for (const name of rest) {
        if (out.some((o) => o.arm === name)) continue;
        const free = out.some((o) => o.feature === FEATURES.bottomLeft) ? FEATURES.bottomRight : FEATURES.bottomLeft;
        out.push({ arm: name, feature: free });
      }
      return out;
    }
    case 'half': {
      const [a, b] = ordered(state, arms);
      return [{ arm: a!, feature: FEATURES.halfLeft }, { arm: b!, feature: FEATURES.halfRight }];
    }
  }
}

/** The fold made at `extent`; the acting arms end on the carried points, holding them if it stopped short. */
export function doFold(state: TshirtState, id: FoldId, arms: readonly string[], extent: number): TshirtState {
  const grips = foldGrips(state, id, arms);
  const folds = withFold(state, id, extent);
  const next: TshirtState = { ...state, folds };
  let a = state.arms;
  for (const g of grips) {
    // Stopped short: the arms still hold the cloth (a bottom fold's arms still hold their corners).
    const hold = id !== 'bottom' ? `shirt.${id}` : g.feature === FEATURES.bottomLeft ? HOLD.bottom_left : HOLD.bottom_right;
    a = setArms(a, g.arm, featureAt(next, g.feature), extent < 1, extent < 1 ? hold : null);
  }
  return { ...next, arms: a };
}

/** The state an action leads to when it works; `action` is a candidate action of this scene. */
export function perform(state: TshirtState, action: Action): TshirtState {
  const part = action.part as Part | undefined;
  switch (action.verb) {
    case 'fold':
      if (part === 'left_sleeve' || part === 'right_sleeve' || part === 'bottom' || part === 'half') {
        return doFold(state, part, action.arms, 1);
      }
      break;
    case 'grasp': {
      if (part === 'bottom_corners') {
        const [l, r] = ordered(state, action.arms);
        let a = setArms(state.arms, l!, featureAt(state, FEATURES.bottomLeft), true, HOLD.bottom_left);
        a = setArms(a, r!, featureAt(state, FEATURES.bottomRight), true, HOLD.bottom_right);
        return { ...state, arms: a };
      }
      if (part === 'bottom_left' || part === 'bottom_right') {
        const f = part === 'bottom_left' ? FEATURES.bottomLeft : FEATURES.bottomRight;
        return { ...state, arms: setArms(state.arms, action.arms[0]!, featureAt(state, f), true, HOLD[part]) };
      }
      break;
    }
    case 'tidy': {
      const at = collarPoint(state);
      return { ...state, collarCrumple: null, arms: setArms(state.arms, action.arms[0]!, at, false, null) };
    }
    case 'move': {
      const slot = action.slot === 1 ? 1 : 0;
      const to = ASIDE_SLOTS[slot]!;
      const pose = poseAt(localCentre(state), to, 0);
      // Two arms lift it together; the arm on that side carries it the rest of the way.
      const carrier = carrierOf(state, action);
      let a = setArms(state.arms, carrier, to, false, null);
      for (const other of action.arms) if (other !== carrier) a = setArms(a, other, featureAtCentre(state), false, null);
      return { ...state, pose, aside: slot, arms: a };
    }
    case 'release': {
      let a = state.arms;
      for (const name of action.arms) a = moveArm(a, name, { closed: false, holding: null });
      return { ...state, arms: a };
    }
    default:
      break;
  }
  throw new Error(`tshirt: cannot perform ${JSON.stringify(action)}`);
}

// ---- Candidates -------------------------------------------------------------------------------

type Result = CandidateResult<TshirtState>;

function fail(reason: string): Result {
  return { ok: false, reason };
}

function reaches(profile: RobotProfile, name: string, p: Point2): boolean {
  const ws = profile.arms.find((a) => a.name === name)?.workspace;
  if (ws === undefined) return false;
  return p[0] >= ws.min[0] && p[0] <= ws.max[0] && p[1] >= ws.min[1] && p[1] <= ws.max[1];
}

export function fmt(p: Point2): string {
  return `(${p[0].toFixed(2)}, ${p[1].toFixed(2)})`;
}

/** Who holds what, in words: "the left arm is holding shirt.bottom_left". */
function busy(state: TshirtState, name: string): string | null {
  const h = arm(state, name).holding;
  return h === null ? null : `the ${name} arm is holding ${h.replace('shirt.', 'the ').replace('_', ' ')}`;
}

function mid(points: readonly Point2[]): Point2 {
  return rp([points.reduce((s, p) => s + p[0], 0) / points.length, points.reduce((s, p) => s + p[1], 0) / points.length]);
}

function action(verb: Action['verb'], arms: readonly string[], part: string | undefined, position: Point2, extra: Partial<Action> = {}): Action {
  const a: Action = { verb, arms: arms.slice(), object: SHIRT };
  if (part !== undefined) a.part = part;
  Object.assign(a, extra);
  a.position = rp(position);
  return a;
}

/** Single-arm choices: the named arm, or every arm of the robot. */
function singleArmChoices(state: TshirtState, template: ActionTemplate, what: string): string[] | string {
  if (template.arms === undefined) return state.arms.map((a) => a.name);
  if (template.arms.length !== 1) return `${what} takes one arm, not ${template.arms.length}`;
  return template.arms;
}

/** Two-arm choices: the named pair, or the robot's first two arms. */
function pairChoice(state: TshirtState, template: ActionTemplate, profile: RobotProfile, what: string): string[] | string {
  if (!profile.bimanual || profile.arms.length < 2) {
    return `${what} needs two arms; ${profile.id} has ${profile.arms.length === 1 ? 'one' : 'no bimanual pair'}`;
  }
  if (template.arms === undefined) return ordered(state, profile.arms.slice(0, 2).map((a) => a.name));
  if (template.arms.length !== 2) return `${what} needs two arms, and the instruction names ${template.arms.length === 1 ? `only the ${template.arms[0]} arm` : `${template.arms.length}`}`;
  return ordered(state, template.arms);
}

function needPrimitive(profile: RobotProfile, verb: Action['verb']): string | null {
  return profile.primitives.includes(verb) ? null : `${profile.id} has no "${verb}" primitive (it has: ${profile.primitives.join(', ')})`;
}

function foldSleeve(state: TshirtState, template: ActionTemplate, profile: RobotProfile, id: 'left_sleeve' | 'right_sleeve'): Result {
  const what = `folding ${PART_WORDS[id]}`;
  const p = needPrimitive(profile, 'fold');
  if (p !== null) return fail(p);
  if (isFolded(state, id)) return fail(`${PART_WORDS[id]} is already folded in`);
  if (COVERED_BY[id].some((m) => begun(state, m))) {
    return fail(`${PART_WORDS[id]} is under the bottom fold now; sleeves are folded before the bottom`);
  }
  const holder = state.arms.find((a) => a.holding === `shirt.${id}`)?.name;
  let choices = singleArmChoices(state, template, what);
  if (typeof choices === 'string') return fail(choices);
  if (holder !== undefined) {
    if (!choices.includes(holder)) return fail(`the ${holder} arm is holding ${PART_WORDS[id]}; finish the fold with it`);
    choices = [holder];
  }
  const tip = id === 'left_sleeve' ? FEATURES.leftSleeveTip : FEATURES.rightSleeveTip;
  const grasp = featureAt(state, tip);
  const out: Candidate<TshirtState>[] = [];
  const why: string[] = [];
  for (const name of choices) {
    const b = name === holder ? null : busy(state, name);
    if (b !== null) { why.push(b); continue; }
    const next = doFold(state, id, [name], 1);
    const land = arm(next, name).pos;
    if (!reaches(profile, name, grasp) || !reaches(profile, name, land)) {
      why.push(`${PART_WORDS[id]} at ${fmt(grasp)} is outside the ${name} arm's workspace`);
      continue;
    }
    out.push({ action: action('fold', [name], id, grasp), next });
  }
  return out.length > 0 ? { ok: true, candidates: out } : fail(why.join('; '));
}

function graspCorners(state: TshirtState, template: ActionTemplate, profile: RobotProfile, part: 'bottom_corners' | 'bottom_left' | 'bottom_right'): Result {
  const what = `grasping ${PART_WORDS[part]}`;
  if (part === 'bottom_corners') {
    const pair = pairChoice(state, template, profile, what);
    if (typeof pair === 'string') return fail(pair);
  }
  const p = needPrimitive(profile, 'grasp');
  if (p !== null) return fail(p);
  if (isFolded(state, 'bottom')) return fail('the bottom is already folded up');
  // The corners are grasped for the bottom fold: its prerequisites hold for the grasp.
  if (PREREQUISITES.bottom.some((m) => !done(state, m))) {
    return fail('fold both sleeves in before grasping the bottom corners');
  }
  const heldBy = (h: string) => state.arms.find((a) => a.holding === h)?.name;
  if (part === 'bottom_corners') {
    const [l, r] = pairChoice(state, template, profile, what) as string[];
    const hl = heldBy(HOLD.bottom_left);
    const hr = heldBy(HOLD.bottom_right);
    if (hl !== undefined && hr !== undefined) return fail('both bottom corners are already held');
    for (const [name, own] of [[l!, HOLD.bottom_left], [r!, HOLD.bottom_right]] as const) {
      const h = arm(state, name).holding;
      if (h !== null && h !== own) return fail(busy(state, name)!);
    }
    if ((hl !== undefined && hl !== l) || (hr !== undefined && hr !== r)) return fail('the corners are held by the other arms');
    const pl = featureAt(state, FEATURES.bottomLeft);
    const pr = featureAt(state, FEATURES.bottomRight);
    if (!reaches(profile, l!, pl)) return fail(`the bottom-left corner at ${fmt(pl)} is outside the ${l} arm's workspace`);
    if (!reaches(profile, r!, pr)) return fail(`the bottom-right corner at ${fmt(pr)} is outside the ${r} arm's workspace`);
    const act = action('grasp', [l!, r!], 'bottom_corners', mid([pl, pr]));
    return { ok: true, candidates: [{ action: act, next: perform(state, act) }] };
  }
  const hold = HOLD[part];
  const holder = heldBy(hold);
  if (holder !== undefined) return fail(`${PART_WORDS[part]} is already held by the ${holder} arm`);
  const choices = singleArmChoices(state, template, what);
  if (typeof choices === 'string') return fail(choices);
  const at = featureAt(state, part === 'bottom_left' ? FEATURES.bottomLeft : FEATURES.bottomRight);
  const out: Candidate<TshirtState>[] = [];
  const why: string[] = [];
  for (const name of choices) {
    const b = busy(state, name);
    if (b !== null) { why.push(b); continue; }
    if (!reaches(profile, name, at)) { why.push(`${PART_WORDS[part]} at ${fmt(at)} is outside the ${name} arm's workspace`); continue; }
    const act = action('grasp', [name], part, at);
    out.push({ action: act, next: perform(state, act) });
  }
  return out.length > 0 ? { ok: true, candidates: out } : fail(why.join('; '));
}

function foldBottom(state: TshirtState, template: ActionTemplate, profile: RobotProfile): Result {
  const what = 'folding the bottom up';
  const pair = pairChoice(state, template, profile, what);
  if (typeof pair === 'string') return fail(pair);
  const p = needPrimitive(profile, 'fold');
  if (p !== null) return fail(p);
  if (isFolded(state, 'bottom')) return fail('the bottom is already folded up');
  const hl = state.arms.find((a) => a.holding === HOLD.bottom_left)?.name;
  const hr = state.arms.find((a) => a.holding === HOLD.bottom_right)?.name;
  if (hl === undefined || hr === undefined) {
    const missing = [hl === undefined ? 'bottom-left' : null, hr === undefined ? 'bottom-right' : null].filter((x) => x !== null);
    return fail(`the ${missing.join(' and ')} corner${missing.length > 1 ? 's are' : ' is'} not held; grasp the bottom corners first`);
  }
  const holders = ordered(state, [hl, hr]);
  if (template.arms !== undefined && (holders[0] !== pair[0] || holders[1] !== pair[1])) {
    return fail(`the corners are held by the ${holders.join(' and ')} arms`);
  }
  const next = doFold(state, 'bottom', holders, 1);
  for (const name of holders) {
    const land = arm(next, name).pos;
    if (!reaches(profile, name, land)) return fail(`the ${name} arm cannot reach ${fmt(land)} to lay the bottom down`);
  }
  const act = action('fold', holders, 'bottom', mid(holders.map((n) => arm(state, n).pos)));
  return { ok: true, candidates: [{ action: act, next }] };
}

function foldHalf(state: TshirtState, template: ActionTemplate, profile: RobotProfile): Result {
  const what = 'folding the shirt in half';
  const pair = pairChoice(state, template, profile, what);
  if (typeof pair === 'string') return fail(pair);
  const p = needPrimitive(profile, 'fold');
  if (p !== null) return fail(p);
  if (isFolded(state, 'half')) return fail('the shirt is already folded in half');
  const missing = PREREQUISITES.half.filter((m) => !done(state, m));
  if (missing.includes('bottom')) return fail('fold the bottom up before folding the shirt in half');
  if (missing.includes('collar')) return fail('tidy the collar first: the half fold covers it');
  const holders = state.arms.filter((a) => a.holding === 'shirt.half').map((a) => a.name);
  let arms = pair;
  if (holders.length > 0) {
    if (template.arms !== undefined && !holders.every((h) => pair.includes(h))) {
      return fail(`the ${holders.join(' and ')} arm${holders.length > 1 ? 's are' : ' is'} holding the folded edge; finish the fold with ${holders.length > 1 ? 'them' : 'it'}`);
    }
    if (holders.length === 2) arms = ordered(state, holders);
  }
  for (const name of arms) {
    const h = arm(state, name).holding;
    if (h !== null && h !== 'shirt.half') return fail(busy(state, name)!);
  }
  const grips = foldGrips(state, 'half', arms);
  const next = doFold(state, 'half', arms, 1);
  for (const g of grips) {
    const from = featureAt(state, g.feature);
    const to = arm(next, g.arm).pos;
    if (!reaches(profile, g.arm, from) || !reaches(profile, g.arm, to)) {
      return fail(`the folded edge at ${fmt(from)} is outside the ${g.arm} arm's workspace`);
    }
  }
  const act = action('fold', arms, 'half', mid(grips.map((g) => featureAt(state, g.feature))));
  return { ok: true, candidates: [{ action: act, next }] };
}

function tidyCollar(state: TshirtState, template: ActionTemplate, profile: RobotProfile): Result {
  const p = needPrimitive(profile, 'tidy');
  if (p !== null) return fail(p);
  if (state.collarCrumple === null) return fail('the collar is already tidy');
  if (COVERED_BY.collar.some((m) => begun(state, m))) return fail('the collar is folded under the half fold');
  const choices = singleArmChoices(state, template, 'tidying the collar');
  if (typeof choices === 'string') return fail(choices);
  const at = collarPoint(state);
  const out: Candidate<TshirtState>[] = [];
  const why: string[] = [];
  for (const name of choices) {
    const b = busy(state, name);
    if (b !== null) { why.push(b); continue; }
    if (!reaches(profile, name, at)) { why.push(`the collar at ${fmt(at)} is outside the ${name} arm's workspace`); continue; }
    const act = action('tidy', [name], 'collar', at);
    out.push({ action: act, next: perform(state, act) });
  }
  return out.length > 0 ? { ok: true, candidates: out } : fail(why.join('; '));
}

function moveAside(state: TshirtState, template: ActionTemplate, profile: RobotProfile): Result {
  const p = needPrimitive(profile, 'move');
  if (p !== null) return fail(p);
  if (PREREQUISITES.aside.some((m) => !done(state, m))) return fail('the shirt is not folded yet; fold it before moving it aside');
  if (state.aside !== null) return fail(`the shirt is already aside (${state.aside === 0 ? 'left' : 'right'})`);
  const slots = template.target === 'aside_left' ? [0] : template.target === 'aside_right' ? [1] : [0, 1];
  const from = rp(featureAtCentre(state));
  const out: Candidate<TshirtState>[] = [];
  const why: string[] = [];
  if (template.arms !== undefined && template.arms.length >= 2) {
    // Both arms lift it; the arm on the chosen side carries it there (the other cannot reach that far).
    const pair = pairChoice(state, template, profile, 'moving the shirt with both arms');
    if (typeof pair === 'string') return fail(pair);
    for (const name of pair) {
      const b = busy(state, name);
      if (b !== null) return fail(b);
      if (!reaches(profile, name, from)) return fail(`the shirt at ${fmt(from)} is outside the ${name} arm's workspace`);
    }
    for (const slot of slots) {
      const to = ASIDE_SLOTS[slot]!;
      const act = action('move', pair, undefined, to, { target: 'aside', slot });
      const carrier = carrierOf(state, act);
      if (!reaches(profile, carrier, to)) { why.push(`the ${slot === 0 ? 'left' : 'right'} side ${fmt(to)} is outside the ${carrier} arm's workspace`); continue; }
      out.push({ action: act, next: perform(state, act) });
    }
    return out.length > 0 ? { ok: true, candidates: out } : fail(why.join('; '));
  }
  const choices = template.arms ?? state.arms.map((a) => a.name);
  for (const name of choices) {
    const b = busy(state, name);
    if (b !== null) { why.push(b); continue; }
    if (!reaches(profile, name, from)) { why.push(`the shirt at ${fmt(from)} is outside the ${name} arm's workspace`); continue; }
    for (const slot of slots) {
      const to = ASIDE_SLOTS[slot]!;
      if (!reaches(profile, name, to)) { why.push(`the ${slot === 0 ? 'left' : 'right'} side ${fmt(to)} is outside the ${name} arm's workspace`); continue; }
      const act = action('move', [name], undefined, to, { target: 'aside', slot });
      out.push({ action: act, next: perform(state, act) });
    }
  }
  return out.length > 0 ? { ok: true, candidates: out } : fail(why.join('; '));
}

/** Open the grippers that hold the shirt (all named ones, or those holding the named part); the cloth stays put. */
function release(state: TshirtState, template: ActionTemplate, profile: RobotProfile): Result {
  const p = needPrimitive(profile, 'release');
  if (p !== null) return fail(p);
  const holds = (a: ArmState): boolean => {
    if (a.holding === null) return false;
    const part = template.part;
    if (part === undefined) return true;
    if (part === 'bottom_corners') return a.holding === HOLD.bottom_left || a.holding === HOLD.bottom_right;
    return a.holding === `shirt.${part}`;
  };
  const named = template.arms ?? state.arms.map((a) => a.name);
  const arms = state.arms.filter((a) => named.includes(a.name) && holds(a)).map((a) => a.name);
  if (arms.length === 0) {
    return fail(`${template.arms ? `the ${template.arms.join(' and ')} arm${template.arms.length > 1 ? 's hold' : ' holds'}` : 'no arm holds'} ${PART_WORDS[template.part ?? ''] ?? 'any of the shirt'}`);
  }
  const act = action('release', arms, template.part, mid(arms.map((n) => arm(state, n).pos)));
  return { ok: true, candidates: [{ action: act, next: perform(state, act) }] };
}

/** The arm that carries the shirt aside: the only one, or of two the one on the side it goes to. */
export function carrierOf(state: TshirtState, act: Action): string {
  if (act.arms.length < 2) return act.arms[0]!;
  const pair = ordered(state, act.arms);
  return act.slot === 1 ? pair[pair.length - 1]! : pair[0]!;
}

export function featureAtCentre(state: TshirtState): Point2 {
  return featureAt({ folds: [], pose: state.pose }, localCentre(state));
}

export function candidates(state: TshirtState, template: ActionTemplate, profile: RobotProfile): Result {
  const names = profile.arms.map((a) => a.name);
  // "with both arms" on a one-arm robot: say what is missing (two arms), not which name is.
  if ((template.arms?.length ?? 0) >= 2 && (!profile.bimanual || profile.arms.length < 2)) {
    return fail(`${PART_WORDS[template.part ?? ''] ?? 'this step'} with ${template.arms!.length} arms needs two arms; ${profile.id} has ${profile.arms.length === 1 ? 'one' : 'no bimanual pair'}`);
  }
  for (const a of template.arms ?? []) {
    if (!names.includes(a)) return fail(`${profile.id} has no ${a} arm (its arms: ${names.join(', ')})`);
  }
  if (template.object !== SHIRT) return fail(`there is no ${template.object} in the t-shirt scene`);
  const part = template.part;
  switch (template.verb) {
    case 'fold': {
      if (part === 'left_sleeve' || part === 'right_sleeve') return foldSleeve(state, template, profile, part);
      if (part === 'bottom' || part === 'bottom_corners') return foldBottom(state, template, profile);
      if (part === 'half') return foldHalf(state, template, profile);
      if (part === 'sleeves') return fail('fold one sleeve at a time: say which (the left sleeve or the right sleeve)');
      if (part === undefined) {
        // "fold the shirt": whichever fold can be made next.
        const out: Candidate<TshirtState>[] = [];
        const why: string[] = [];
        for (const id of FOLD_IDS) {
          const r = candidates(state, { ...template, part: id }, profile);
          if (r.ok) out.push(...r.candidates);
          else why.push(r.reason);
        }
        return out.length > 0 ? { ok: true, candidates: out } : fail(why.join('; '));
      }
      return fail(`cannot fold ${PART_WORDS[part] ?? part}; folds are: the left sleeve, the right sleeve, the bottom, in half`);
    }
    case 'grasp':
      if (part === 'bottom_corners' || part === 'bottom_left' || part === 'bottom_right') return graspCorners(state, template, profile, part);
      if (part === 'bottom') return graspCorners(state, template, profile, 'bottom_corners');
      return fail(`grasping ${PART_WORDS[part ?? ''] ?? 'that'} is not a step of this fold; grasp the bottom corners`);
    case 'tidy':
      if (part === undefined || part === 'collar') return tidyCollar(state, template, profile);
      return fail(`only the collar gets tidied, not ${PART_WORDS[part] ?? part}`);
    case 'move':
      if (part !== undefined) return fail(`move the whole folded shirt, not ${PART_WORDS[part] ?? part}`);
      return moveAside(state, template, profile);
    case 'release':
      return release(state, template, profile);
    default:
      return fail(`"${template.verb}" is not a step of folding the t-shirt (fold, grasp, tidy, move)`);
  }
}
