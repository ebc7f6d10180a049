import type { Action, Arm, Point2, RobotProfile } from '../../schema/index.js';
import { homePosition, initialArms, moveArm } from '../arms.js';
import { dist } from '../geometry.js';
import type { Rng } from '../../util/rng.js';
import type {
  ActionTemplate,
  Candidate,
  CandidateResult,
} from '../scene.js';
import { UnsupportedTaskError } from '../scene.js';
import type { ObjectId, Pose, ReceptacleId, TableGoal, TableObject, TableState } from './model.js';
import {
  HOME_OF,
  OBJECT_IDS,
  RECEPTACLES,
  RECEPTACLE_IDS,
  TABLE_AREA,
  TIPPABLE,
  carryingArms,
  clearOfObjects,
  fitsOnTable,
  footprint,
  inBox,
  objectOf,
  reachOf,
  reachableFreeSlots,
  roundAngle,
  roundPoint,
} from './model.js';
import { pickable } from './rules.js';
import { NOUN, parseInstruction } from './words.js';

export const isObjectId = (s: string): s is ObjectId => (OBJECT_IDS as readonly string[]).includes(s);
const isReceptacleId = (s: string): s is ReceptacleId => (RECEPTACLE_IDS as readonly string[]).includes(s);

export function withObject(state: TableState, id: ObjectId, patch: Partial<Omit<TableObject, 'id'>>): TableState {
  return { ...state, objects: state.objects.map((o) => (o.id === id ? { ...o, ...patch } : o)) };
}

/**
 * Where a gripper waits after letting go: a hand's breadth back towards the robot, so the camera sees
 * what it just put down instead of the fingers on top of it.
 */
export function retreat(p: Point2): Point2 {
  return roundPoint([p[0], p[1] - 0.09]);
}

export const fmt = (p: Point2): string => `(${p[0].toFixed(2)}, ${p[1].toFixed(2)})`;

export function randomSpot(rng: Rng): Point2 {
  return [rng.range(TABLE_AREA.min[0], TABLE_AREA.max[0]), rng.range(TABLE_AREA.min[1], TABLE_AREA.max[1])];
}

// ---------------------------------------------------------------------------------------------
// Start state

/**
 * Start positions are on the side of the arm that will carry the object: the arm whose home is
 * nearest must be able to take it to its receptacle, clearly nearer than any other arm, so a planner
 * that sees only the picture can tell which arm to use (trash starts on the bin's side, the fork on
 * the basket's side, dishes anywhere but the exact middle).
 */
function onCarriersSide(state: TableState, id: ObjectId, p: Point2, profile: RobotProfile): boolean {
  const carriers = carryingArms(state, id, p, profile.arms);
  if (carriers.length === 0) return false;
  const n = profile.arms.length;
  if (n === 1) return true;
  const byNearness = profile.arms
    .filter((a) => inBox(p, a))
    .map((a) => ({ a, d: dist(p, homePosition(a.name, n)) }))
    .sort((x, y) => x.d - y.d);
  const first = byNearness[0]!;
  const second = byNearness[1];
  return first.a === carriers[0] && (second === undefined || second.d - first.d > 0.04);
}

export function initial(profile: RobotProfile, rng: Rng): TableState {
  const empty: TableState = { scene: 'table', arms: initialArms(profile), objects: [], reach: reachOf(profile) };
  for (let attempt = 0; attempt < 100; attempt++) {
    let state: TableState = { ...empty, objects: [] };
    let ok = true;
    for (const id of OBJECT_IDS) {
      const r = footprint(id, 'upright');
      let placed = false;
      for (let t = 0; t < 300 && !placed; t++) {
        const p = roundPoint(randomSpot(rng));
        if (!fitsOnTable(p, r) || !clearOfObjects(state, p, r, null)) continue;
        if (!onCarriersSide(state, id, p, profile)) continue;
        const angle = roundAngle(rng.range(0, 2 * Math.PI));
        state = { ...state, objects: [...state.objects, { id, pos: p, angle, pose: 'upright', at: { kind: 'table' } }] };
        placed = true;
      }
      if (!placed) {
        ok = false;
        break;
      }
    }
    if (ok) return state;
  }
  throw new UnsupportedTaskError(`no table layout lets ${profile.id}'s arms reach every object and its receptacle`, {
    scene: 'table',
    robot: profile.id,
  });
}

// ---------------------------------------------------------------------------------------------
// Goal

export function isGoal(state: TableState, goal: TableGoal): boolean {
  if (state.arms.some((a) => a.holding !== null)) return false;
  return goal.objects.every((id) => {
    const o = objectOf(state, id);
    return o.at.kind === 'receptacle' && o.at.receptacle === HOME_OF[id];
  });
}

// ---------------------------------------------------------------------------------------------
// Candidates

type Result = CandidateResult<TableState>;
const refuse = (reason: string): Result => ({ ok: false, reason });

/** The arms the template names, checked against the profile; undefined = any. */
function namedArms(template: ActionTemplate, profile: RobotProfile): { ok: true; arms: Arm[] | undefined } | { ok: false; reason: string } {
  if (template.arms === undefined) return { ok: true, arms: undefined };
  const arms: Arm[] = [];
  for (const name of template.arms) {
    const arm = profile.arms.find((a) => a.name === name);
    if (!arm) {
      return { ok: false, reason: `${profile.id} has no ${name} arm (its arms: ${profile.arms.map((a) => a.name).join(', ')})` };
    }
    arms.push(arm);
  }
  if (arms.length > 1) {
    return { ok: false, reason: `one arm does this; the instruction names ${arms.length} (${template.arms.join(' and ')})` };
  }
  return { ok: true, arms };
}

function armLabel(name: string): string {
  return name === 'arm' ? 'the arm' : `the ${name} arm`;
}

function wherePhrase(o: TableObject): string {
  switch (o.at.kind) {
    case 'table':
      return 'on the table';
    case 'held':
      return `held by ${armLabel(o.at.arm)}`;
    case 'receptacle':
      return `already in the ${o.at.receptacle}`;
  }
}

export function candidates(state: TableState, template: ActionTemplate, profile: RobotProfile): Result {
  if (!profile.primitives.includes(template.verb)) {
    return refuse(`${profile.id} cannot ${template.verb} (its primitives: ${profile.primitives.join(', ')})`);
  }
  if (!isObjectId(template.object)) return refuse(`there is no ${template.object} on this table`);
  if (template.part !== undefined) return refuse(`the ${template.object} has no part "${template.part}"`);
  const id = template.object;
  const noun = NOUN[id]!;
  const home = HOME_OF[id];
  if (template.target !== undefined) {
    if (!isReceptacleId(template.target)) return refuse(`there is no ${template.target} on this table`);
    if (template.target !== home) return refuse(`the ${noun} goes in the ${home}, not the ${template.target}`);
  }
  const named = namedArms(template, profile);
  if (!named.ok) return refuse(named.reason);
  const obj = objectOf(state, id);
  switch (template.verb) {
    case 'pick':
      return pickCandidates(state, obj, named.arms, profile);
    case 'place':
      return placeCandidates(state, obj, named.arms, profile);
    case 'upright':
      return uprightCandidates(state, obj, named.arms, profile);
    default:
      return refuse(`"${template.verb}" does not apply to the ${noun}; say pick up, put ... in, or stand ... upright`);
  }
}

export function armStateOf(state: TableState, name: string) {
  const a = state.arms.find((x) => x.name === name);
  if (!a) throw new Error(`table state has no arm ${name}`);
  return a;
}

function pickCandidates(state: TableState, obj: TableObject, arms: Arm[] | undefined, profile: RobotProfile): Result {
  const noun = NOUN[obj.id]!;
  if (obj.at.kind !== 'table') return refuse(`the ${noun} is ${wherePhrase(obj)}, not on the table`);
  if (!pickable(obj.pose)) return refuse(`the ${noun} is tipped over: stand it upright first`);
  let chosen: Arm[];
  if (arms !== undefined) {
    const arm = arms[0]!;
    const held = armStateOf(state, arm.name).holding;
    if (held !== null) return refuse(`${armLabel(arm.name)} is holding the ${NOUN[held] ?? held}`);
    if (!inBox(obj.pos, arm)) return refuse(`the ${noun} at ${fmt(obj.pos)} is out of ${armLabel(arm.name)}'s reach`);
    if (reachableFreeSlots(state, obj.id, arm).length === 0) {
      return refuse(`${armLabel(arm.name)} cannot reach a free spot in the ${HOME_OF[obj.id]} for the ${noun}`);
    }
    chosen = [arm];
  } else {
    chosen = carryingArms(state, obj.id, obj.pos, profile.arms).filter((a) => armStateOf(state, a.name).holding === null);
    if (chosen.length === 0) {
      return refuse(`no free arm can reach the ${noun} at ${fmt(obj.pos)} and the ${HOME_OF[obj.id]}`);
    }
  }
  const candidates: Candidate<TableState>[] = chosen.map((arm) => {
    const next = withObject(
      { ...state, arms: moveArm(state.arms, arm.name, { pos: obj.pos, closed: true, holding: obj.id }) },
      obj.id,
      { at: { kind: 'held', arm: arm.name } },
    );
    return { action: { verb: 'pick', arms: [arm.name], object: obj.id, position: obj.pos }, next };
  });
  return { ok: true, candidates };
}

function placeCandidates(state: TableState, obj: TableObject, arms: Arm[] | undefined, profile: RobotProfile): Result {
  const noun = NOUN[obj.id]!;
  const home = HOME_OF[obj.id];
  if (arms !== undefined) {
    const arm = arms[0]!;
    const held = armStateOf(state, arm.name).holding;
    if (held === null) return refuse(`${armLabel(arm.name)} holds nothing`);
    if (held !== obj.id) return refuse(`${armLabel(arm.name)} holds the ${NOUN[held] ?? held}, not the ${noun}`);
  }
  if (obj.at.kind !== 'held') {
    return refuse(`the ${noun} is ${wherePhrase(obj)}, not in a gripper: pick it up first`);
  }
  const armName = obj.at.arm;
  const arm = profile.arms.find((a) => a.name === armName);
  if (!arm) return refuse(`${profile.id} has no ${armName} arm`);
  const slots = reachableFreeSlots(state, obj.id, arm);
  if (slots.length === 0) return refuse(`${armLabel(armName)} cannot reach a free spot in the ${home}`);
  const candidates = slots.map((slot) => {
    const s = RECEPTACLES[home].slots[slot]!;
    const pos = roundPoint(s.pos);
    const next = withObject(
      { ...state, arms: moveArm(state.arms, armName, { pos: retreat(pos), closed: false, holding: null }) },
      obj.id,
      { pos, angle: roundAngle(s.angle), pose: 'upright', at: { kind: 'receptacle', receptacle: home, slot } },
    );
    const action: Action = { verb: 'place', arms: [armName], object: obj.id, target: home, slot, position: pos };
    return { action, next };
  });
  return { ok: true, candidates };
}

function uprightCandidates(state: TableState, obj: TableObject, arms: Arm[] | undefined, profile: RobotProfile): Result {
  const noun = NOUN[obj.id]!;
  if (obj.at.kind !== 'table') return refuse(`the ${noun} is ${wherePhrase(obj)}, not lying on the table`);
  if (obj.pose === 'upright') return refuse(`the ${noun} is already ${TIPPABLE.has(obj.id) ? 'upright' : 'lying flat as it should'}`);
  let chosen: Arm[];
  if (arms !== undefined) {
    const arm = arms[0]!;
    const held = armStateOf(state, arm.name).holding;
    if (held !== null) return refuse(`${armLabel(arm.name)} is holding the ${NOUN[held] ?? held}`);
    if (!inBox(obj.pos, arm)) return refuse(`the ${noun} at ${fmt(obj.pos)} is out of ${armLabel(arm.name)}'s reach`);
    chosen = [arm];
  } else {
    chosen = uprightArms(state, obj, profile);
    if (chosen.length === 0) return refuse(`no free arm can reach the ${noun} at ${fmt(obj.pos)}`);
  }
  const candidates = chosen.map((arm) => {
    const next = withObject({ ...state, arms: moveArm(state.arms, arm.name, { pos: retreat(obj.pos), closed: false, holding: null }) }, obj.id, {
      pose: 'upright' as Pose,
    });
    return { action: { verb: 'upright' as const, arms: [arm.name], object: obj.id, position: obj.pos }, next };
  });
  return { ok: true, candidates };
}

/** Free arms that reach a tipped object; the ones that could then carry it first. */
export function uprightArms(state: TableState, obj: TableObject, profile: RobotProfile): Arm[] {
  const carriers = carryingArms(state, obj.id, obj.pos, profile.arms);
  const others = profile.arms.filter((a) => inBox(obj.pos, a) && !carriers.includes(a));
  return [...carriers, ...others].filter((a) => armStateOf(state, a.name).holding === null);
}
