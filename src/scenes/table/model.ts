import type { Point2, RobotProfile } from '../../schema/index.js';
import { homePosition } from '../arms.js';
import { dist } from '../geometry.js';
import type { SceneStateBase } from '../scene.js';

/**
 * The table-clearing world: six objects, three receptacles at fixed places, in the table frame
 * (metres; x to the robot's right, y away from it). Everything here is plain data and pure helpers.
 */

export const OBJECT_IDS = ['cup', 'plate', 'bowl', 'fork', 'napkin', 'bottle'] as const;
export type ObjectId = (typeof OBJECT_IDS)[number];

export const RECEPTACLE_IDS = ['rack', 'bin', 'basket'] as const;
export type ReceptacleId = (typeof RECEPTACLE_IDS)[number];

/** Where each object belongs: dishes in the rack, trash in the bin, utensils in the basket. */
export const HOME_OF: Record<ObjectId, ReceptacleId> = {
  cup: 'rack',
  plate: 'rack',
  bowl: 'rack',
  fork: 'basket',
  napkin: 'bin',
  bottle: 'bin',
};

/** Objects that stand up and can be knocked over; the rest lie flat. */
export const TIPPABLE: ReadonlySet<ObjectId> = new Set<ObjectId>(['cup', 'bowl', 'bottle']);

export type Pose = 'upright' | 'tipped';

export type Where =
  | { kind: 'table' }
  | { kind: 'held'; arm: string }
  | { kind: 'receptacle'; receptacle: ReceptacleId; slot: number };

export interface TableObject {
  id: ObjectId;
  /** On the table: its centre. Held: where it was picked (the gripper is there too). In a receptacle: the slot. */
  pos: Point2;
  /** Radians, counter-clockwise in the table frame, in [0, 2pi). */
  angle: number;
  pose: Pose;
  at: Where;
}

/** An arm's reach on the table: the x/y extent of its workspace box. */
export interface Reacher {
  name: string;
  workspace: { min: readonly number[]; max: readonly number[] };
}

export interface TableState extends SceneStateBase {
  scene: 'table';
  /** Always all six, in OBJECT_IDS order. */
  objects: TableObject[];
  /**
   * The robot's reach (x/y of each arm's workspace, profile order), kept in the state because the miss
   * model gets no profile and a dropped object must land where some arm can carry it away.
   */
  reach: { name: string; workspace: { min: Point2; max: Point2 } }[];
}

export function reachOf(profile: RobotProfile): TableState['reach'] {
  return profile.arms.map((a) => ({
    name: a.name,
    workspace: { min: [a.workspace.min[0], a.workspace.min[1]], max: [a.workspace.max[0], a.workspace.max[1]] },
  }));
}

export interface TableGoal {
  /** The task phrase the goal came from. */
  task: string;
  /** Objects that must end up in their receptacles. */
  objects: ObjectId[];
}

export interface Rect {
  min: Point2;
  max: Point2;
}

export interface Slot {
  pos: Point2;
  angle: number;
}

export interface Receptacle {
  id: ReceptacleId;
  rect: Rect;
  slots: Slot[];
}

/**
 * Fixed receptacles: the dish rack centred on the far edge (every slot within reach of both arms of
 * the two-arm robots, whose workspaces overlap in x in [-0.15, 0.15]), the bin on the left side and
 * the utensil basket on the right. All slots lie inside the single-arm FR3's reach (|x| <= 0.5, y <= 0.32).
 */
export const RECEPTACLES: Record<ReceptacleId, Receptacle> = {
  rack: {
    id: 'rack',
    rect: { min: [-0.2, 0.19], max: [0.2, 0.35] },
    slots: [
      { pos: [-0.13, 0.27], angle: 0 },
      { pos: [0, 0.27], angle: 0 },
      { pos: [0.13, 0.27], angle: 0 },
    ],
  },
  bin: {
    id: 'bin',
    rect: { min: [-0.56, 0.0], max: [-0.36, 0.32] },
    slots: [
      { pos: [-0.46, 0.225], angle: 0 },
      { pos: [-0.46, 0.095], angle: 0 },
    ],
  },
  basket: {
    id: 'basket',
    rect: { min: [0.36, 0.02], max: [0.56, 0.32] },
    slots: [
      { pos: [0.42, 0.17], angle: Math.PI / 2 },
      { pos: [0.5, 0.17], angle: Math.PI / 2 },
    ],
  },
};

/**
 * Objects are drawn (and spaced) a quarter larger than life, so that at the small sizes pictures are
 * compared at (about 100 pixels across the table) every object still covers a few dozen pixels.
 */
export const DRAW_SCALE = 1.25;

/** Radius of the circle an object covers on the table (for spacing), by pose. */
export function footprint(id: ObjectId, pose: Pose): number {
  return Math.round(DRAW_SCALE * baseFootprint(id, pose) * 1e4) / 1e4;
}

function baseFootprint(id: ObjectId, pose: Pose): number {
  switch (id) {
    case 'cup':
      return pose === 'upright' ? 0.05 : 0.06;
    case 'plate':
      return 0.085;
    case 'bowl':
      return pose === 'upright' ? 0.065 : 0.07;
    case 'fork':
      return 0.09;
    case 'napkin':
      return 0.078;
    case 'bottle':
      return pose === 'upright' ? 0.04 : 0.115;
  }
}

/** Where object centres may lie on the table (away from the grippers' home row and the far receptacles). */
export const TABLE_AREA = { min: [-0.52, -0.2] as Point2, max: [0.52, 0.17] as Point2, homeRowY: -0.27, farY: 0.38, sideX: 0.59 };

const round4 = (v: number): number => {
  const r = Math.round(v * 1e4) / 1e4;
  return r === 0 ? 0 : r;
};

/** Canonical coordinates, so equal states compare equal. */
export function roundPoint(p: Point2): Point2 {
  return [round4(p[0]), round4(p[1])];
}

export function roundAngle(a: number): number {
  const twoPi = 2 * Math.PI;
  let v = a % twoPi;
  if (v < 0) v += twoPi;
  const r = round4(v);
  return r >= round4(twoPi) ? 0 : r;
}

export function inBox(p: Point2, arm: Reacher): boolean {
  const [x0 = -Infinity, y0 = -Infinity] = arm.workspace.min;
  const [x1 = Infinity, y1 = Infinity] = arm.workspace.max;
  return p[0] >= x0 && p[0] <= x1 && p[1] >= y0 && p[1] <= y1;
}

export function circleHitsRect(c: Point2, r: number, rect: Rect): boolean {
  const nx = Math.max(rect.min[0], Math.min(c[0], rect.max[0]));
  const ny = Math.max(rect.min[1], Math.min(c[1], rect.max[1]));
  return Math.hypot(c[0] - nx, c[1] - ny) < r;
}

export function objectOf(state: TableState, id: ObjectId): TableObject {
  const o = state.objects.find((x) => x.id === id);
  if (!o) throw new Error(`table state has no ${id}`);
  return o;
}

/** Slot indexes of a receptacle that nothing occupies. */
export function freeSlots(state: TableState, r: ReceptacleId): number[] {
  const taken = new Set<number>();
  for (const o of state.objects) if (o.at.kind === 'receptacle' && o.at.receptacle === r) taken.add(o.at.slot);
  return RECEPTACLES[r].slots.map((_, i) => i).filter((i) => !taken.has(i));
}

/** Free slots of the object's receptacle that `arm` reaches. */
export function reachableFreeSlots(state: TableState, id: ObjectId, arm: Reacher): number[] {
  const r = HOME_OF[id];
  return freeSlots(state, r).filter((i) => inBox(RECEPTACLES[r].slots[i]!.pos, arm));
}

/**
 * Arms that can carry object `id` from `p` to its receptacle: the workspace holds both the object and
 * a free slot. Sorted by how near the arm's home is to the object (the arm on the object's side
 * first), then by profile order.
 */
export function carryingArms<A extends Reacher>(state: TableState, id: ObjectId, p: Point2, arms: readonly A[]): A[] {
  const n = arms.length;
  return arms
    .map((arm, i) => ({ arm, i, d: dist(p, homePosition(arm.name, n)) }))
    .filter(({ arm }) => inBox(p, arm) && reachableFreeSlots(state, id, arm).length > 0)
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map(({ arm }) => arm);
}

/** Whether a circle at `p` fits on the open table: inside the edges, off the home row, off the receptacles. */
export function fitsOnTable(p: Point2, r: number): boolean {
  if (p[0] - r < -TABLE_AREA.sideX || p[0] + r > TABLE_AREA.sideX) return false;
  if (p[1] - r < TABLE_AREA.homeRowY || p[1] + r > TABLE_AREA.farY) return false;
  for (const rec of Object.values(RECEPTACLES)) if (circleHitsRect(p, r + 0.02, rec.rect)) return false;
  return true;
}

/** Whether a circle at `p` keeps clear of every object lying on the table (except `except`). */
export function clearOfObjects(state: TableState, p: Point2, r: number, except: ObjectId | null): boolean {
  for (const o of state.objects) {
    if (o.id === except || o.at.kind !== 'table') continue;
    if (dist(o.pos, p) < r + footprint(o.id, o.pose) + 0.02) return false;
  }
  return true;
}
