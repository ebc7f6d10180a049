import type { Line, Point2, Polygon } from '../geometry.js';
import { bounds, reflect, rotate, side, splitPolygon } from '../geometry.js';
import type { SceneStateBase } from '../scene.js';

/**
 * The T-shirt as polygons. The flat shirt is fixed named-part polygons in shirt-local coordinates
 * (metres, origin mid-body, +y towards the collar, the hem towards the robot); the state holds only
 * the pose on the table, the ordered folds (each a line in shirt-local coordinates), and flags.
 * What a camera sees is the parts with every fold applied in order: each layer is split by the
 * fold line and the moving side is reflected onto the top of the stack, flipped (inside up).
 */

export type FoldId = 'left_sleeve' | 'right_sleeve' | 'bottom' | 'half';
export const FOLD_IDS: readonly FoldId[] = ['left_sleeve', 'right_sleeve', 'bottom', 'half'];

export interface Fold {
  id: FoldId;
  /** The line actually folded along (shirt-local); the moving side is left of `d` (geometry.side > 0). */
  line: Line;
  /** 1 = complete; below 1 = a partial fold that stopped short (the line sits nearer the moving edge). */
  extent: number;
}

export interface Pose {
  /** Table frame position (metres) of the shirt-local origin. */
  x: number;
  y: number;
  /** Radians, counter-clockwise. */
  angle: number;
}

export interface TshirtState extends SceneStateBase {
  scene: 'tshirt';
  pose: Pose;
  /** Folds in the order they were made. */
  folds: Fold[];
  /**
   * The crumpled collar: the neck flap is folded over along this shirt-local line (present at the
   * start of every episode); null once tidied.
   */
  collarCrumple: Line | null;
  /** Where the folded shirt was set aside: 0 = left side of the table, 1 = right side; null = not aside. */
  aside: 0 | 1 | null;
}

/** What a task asks for: these folds complete, the collar tidy, the shirt aside. */
export interface TshirtGoal {
  folds: FoldId[];
  collar: boolean;
  aside: boolean;
}

// ---- The flat shirt (shirt-local metres) -------------------------------------------------------

const NECK: Point2[] = [[-0.07, 0.22], [-0.035, 0.195], [0, 0.188], [0.035, 0.195], [0.07, 0.22]];

export const BODY: Polygon = [
  [-0.18, -0.24], [0.18, -0.24], [0.18, 0.07], [0.15, 0.21],
  ...NECK.slice().reverse(),
  [-0.15, 0.21], [-0.18, 0.07],
];
export const LEFT_SLEEVE: Polygon = [[-0.15, 0.21], [-0.305, 0.135], [-0.26, 0.03], [-0.18, 0.07]];
export const RIGHT_SLEEVE: Polygon = LEFT_SLEEVE.map(([x, y]) => [-x, y] as Point2).reverse();
/** The collar band: a ribbon along the neckline. */
export const COLLAR: Polygon = [
  ...NECK.map(([x, y]) => [x - Math.sign(x) * 0.008, y + 0.012] as Point2),
  ...NECK.slice().reverse().map(([x, y]) => [x + Math.sign(x) * 0.006, y - 0.02] as Point2),
];

/** Where a fold is complete. Sleeves fold along the body's sides, the bottom up to just under the collar. */
export const FULL_LINES: Record<FoldId, Line> = {
  left_sleeve: { p: [-0.165, 0], d: [0, 1] },
  right_sleeve: { p: [0.165, 0], d: [0, -1] },
  // Hem (y -0.24) lands at y 0.10, under the collar.
  bottom: { p: [0, -0.07], d: [-1, 0] },
  // The folded stack spans y -0.07..0.215; the near half goes up onto the far half.
  half: { p: [0, 0.0725], d: [-1, 0] },
};

/** Shirt-local points the grippers act on. */
export const FEATURES = {
  leftSleeveTip: [-0.2825, 0.0825] as Point2,
  rightSleeveTip: [0.2825, 0.0825] as Point2,
  bottomLeft: [-0.18, -0.24] as Point2,
  bottomRight: [0.18, -0.24] as Point2,
  /** The folded edge after the bottom fold, where the half fold grasps it. */
  halfLeft: [-0.11, -0.07] as Point2,
  halfRight: [0.11, -0.07] as Point2,
};

/** The two places "aside" can mean, table frame: left and right ends of the table. */
export const ASIDE_SLOTS: readonly Point2[] = [[-0.38, 0.06], [0.38, 0.06]];

/** Half width of the crumpled neck flap, around the crumple line's anchor. */
const FLAP_HALF_WIDTH = 0.085;

// ---- Numbers in the state ---------------------------------------------------------------------

/** Rounds to 0.1 mm (0.0001 rad) so states stay readable and -0 never appears. */
export function r4(v: number): number {
  const r = Math.round(v * 1e4) / 1e4;
  return r === 0 ? 0 : r;
}
export function rp(p: Point2): Point2 {
  return [r4(p[0]), r4(p[1])];
}
export function rline(l: Line): Line {
  return { p: rp(l.p), d: rp(l.d) };
}

// ---- Folding ----------------------------------------------------------------------------------

export type PieceKind = 'body' | 'left_sleeve' | 'right_sleeve' | 'collar';

/** One layer of cloth as drawn. `flipped`: the inside faces up. */
export interface Piece {
  kind: PieceKind;
  poly: Polygon;
  flipped: boolean;
}

/** Folds the stack (bottom layer first) along `line`: the moving side lands on top, reversed and flipped. */
export function foldStack(stack: readonly Piece[], line: Line): Piece[] {
  const stay: Piece[] = [];
  const moved: Piece[] = [];
  for (const piece of stack) {
    const [mov, st] = splitPolygon(piece.poly, line);
    if (st.length > 0) stay.push({ ...piece, poly: st });
    if (mov.length > 0) moved.push({ kind: piece.kind, poly: mov.map((q) => reflect(q, line)), flipped: !piece.flipped });
  }
  return [...stay, ...moved.reverse()];
}

/** Splits off the neck flap (above the crumple line, near its anchor): [flap, rest]. */
function splitFlap(poly: Polygon, crumple: Line): [Polygon[], Polygon[]] {
  const [above, below] = splitPolygon(poly, crumple);
  const flap: Polygon[] = [];
  const rest: Polygon[] = below.length > 0 ? [below] : [];
  if (above.length === 0) return [flap, rest];
  const cx = crumple.p[0];
  const [outLeft, inLeft] = splitPolygon(above, { p: [cx - FLAP_HALF_WIDTH, 0], d: [0, 1] });
  const [outRight, mid] = splitPolygon(inLeft, { p: [cx + FLAP_HALF_WIDTH, 0], d: [0, -1] });
  if (mid.length > 0) flap.push(mid);
  for (const p of [outLeft, outRight]) if (p.length > 0) rest.push(p);
  return [flap, rest];
}

/** The flat shirt's layers, with the crumpled neck flap (if any) folded over on top. */
export function baseStack(collarCrumple: Line | null): Piece[] {
  const stack: Piece[] = [
    { kind: 'left_sleeve', poly: LEFT_SLEEVE, flipped: false },
    { kind: 'right_sleeve', poly: RIGHT_SLEEVE, flipped: false },
    { kind: 'body', poly: BODY, flipped: false },
  ];
  if (collarCrumple === null) {
    stack.push({ kind: 'collar', poly: COLLAR, flipped: false });
    return stack;
  }
  // The front panel's neck flips over (the back panel stays underneath, so the body stays whole).
  const [neckFlap] = splitFlap(BODY, collarCrumple);
  const [collarFlap, collarRest] = splitFlap(COLLAR, collarCrumple);
  for (const poly of collarRest) stack.push({ kind: 'collar', poly, flipped: false });
  const flap: Piece[] = [
    ...neckFlap.map((poly) => ({ kind: 'body' as const, poly, flipped: false })),
    ...collarFlap.map((poly) => ({ kind: 'collar' as const, poly, flipped: false })),
  ];
  return [...stack, ...foldStack(flap, collarCrumple)];
}

/** Every layer of the shirt, shirt-local, bottom first. */
export function localStack(state: Pick<TshirtState, 'folds' | 'collarCrumple'>): Piece[] {
  let stack = baseStack(state.collarCrumple);
  for (const f of state.folds) stack = foldStack(stack, f.line);
  return stack;
}

/** Where a shirt-local point of the flat shirt ends up after the folds (still shirt-local). */
export function foldedPoint(folds: readonly Fold[], q: Point2): Point2 {
  let p = q;
  for (const f of folds) if (side(f.line, p) > 1e-9) p = reflect(p, f.line);
  return p;
}

export function toTable(pose: Pose, q: Point2): Point2 {
  const r = rotate(q, pose.angle);
  return [r[0] + pose.x, r[1] + pose.y];
}

/** Table-frame position of a flat-shirt feature point in this state. */
export function featureAt(state: Pick<TshirtState, 'folds' | 'pose'>, q: Point2): Point2 {
  return rp(toTable(state.pose, foldedPoint(state.folds, q)));
}

/**
 * The line for a fold of `extent` (0..1]: the full line moved towards the moving edge so the edge
 * travels only `extent` of the way. `stack` is the cloth before this fold.
 */
export function foldLine(stack: readonly Piece[], id: FoldId, extent: number): Line {
  const full = FULL_LINES[id];
  if (extent >= 1) return full;
  const len = Math.hypot(full.d[0], full.d[1]);
  const n: Point2 = [-full.d[1] / len, full.d[0] / len];
  let reach = 0;
  for (const piece of stack) for (const q of piece.poly) reach = Math.max(reach, side(full, q) / len);
  const shift = (1 - extent) * reach;
  return rline({ p: [full.p[0] + n[0] * shift, full.p[1] + n[1] * shift], d: full.d });
}

/** The folds with `id` made (or remade) at `extent`; a refold replaces the earlier one in place. */
export function withFold(state: Pick<TshirtState, 'folds' | 'collarCrumple'>, id: FoldId, extent: number): Fold[] {
  const at = state.folds.findIndex((f) => f.id === id);
  const before = at >= 0 ? state.folds.slice(0, at) : state.folds;
  let stack = baseStack(state.collarCrumple);
  for (const f of before) stack = foldStack(stack, f.line);
  const fold: Fold = { id, line: foldLine(stack, id, extent), extent: r4(Math.min(1, extent)) };
  if (at < 0) return [...state.folds, fold];
  const folds = state.folds.slice();
  folds[at] = fold;
  return folds;
}

export function foldOf(state: Pick<TshirtState, 'folds'>, id: FoldId): Fold | undefined {
  return state.folds.find((f) => f.id === id);
}

export function isFolded(state: Pick<TshirtState, 'folds'>, id: FoldId): boolean {
  return (foldOf(state, id)?.extent ?? 0) >= 1;
}

/** Centre of the shirt's bounding box, shirt-local (the folded bundle's middle once folded). */
export function localCentre(state: Pick<TshirtState, 'folds' | 'collarCrumple'>): Point2 {
  const all = localStack(state).flatMap((p) => p.poly);
  const b = bounds(all);
  return [(b.min[0] + b.max[0]) / 2, (b.min[1] + b.max[1]) / 2];
}

/** The pose that puts the local point `c` at table point `at`, rotated by `angle`. */
export function poseAt(c: Point2, at: Point2, angle: number): Pose {
  const r = rotate(c, angle);
  return { x: r4(at[0] - r[0]), y: r4(at[1] - r[1]), angle: r4(angle) };
}

/** Centre of the crumpled neck flap on the table (where the collar is tidied). */
export function collarPoint(state: Pick<TshirtState, 'folds' | 'pose' | 'collarCrumple'>): Point2 {
  const c = state.collarCrumple;
  const local: Point2 = c === null ? [0, 0.19] : reflect([c.p[0], c.p[1] + 0.035], c);
  return featureAt(state, local);
}
