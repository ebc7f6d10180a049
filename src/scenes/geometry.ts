import type { Point2 } from '../schema/action.js';

export type { Point2 };
export type Polygon = Point2[];

/** The table: x in [-TABLE.halfW, TABLE.halfW], y in [-TABLE.halfD, TABLE.halfD], metres. */
export const TABLE = { halfW: 0.6, halfD: 0.4 } as const;

/** Table frame (metres, y away from the robot) -> SVG user units (millimetres, y down the image). */
export function toSvg(p: Point2): [number, number] {
  return [Math.round(p[0] * 10000) / 10, Math.round(-p[1] * 10000) / 10];
}

export function svgPoints(poly: Polygon): string {
  return poly.map((p) => toSvg(p).join(',')).join(' ');
}

export function dist(a: Point2, b: Point2): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}

export function add(a: Point2, b: Point2): Point2 {
  return [a[0] + b[0], a[1] + b[1]];
}

export function lerp(a: Point2, b: Point2, t: number): Point2 {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
}

export function rotate(p: Point2, angle: number, about: Point2 = [0, 0]): Point2 {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const x = p[0] - about[0];
  const y = p[1] - about[1];
  return [about[0] + c * x - s * y, about[1] + s * x + c * y];
}

/** Signed area (positive when counter-clockwise). */
export function area(poly: Polygon): number {
  let s = 0;
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i]!;
    const b = poly[(i + 1) % poly.length]!;
    s += a[0] * b[1] - b[0] * a[1];
  }
  return s / 2;
}

export function centroid(poly: Polygon): Point2 {
  let x = 0;
  let y = 0;
  for (const p of poly) {
    x += p[0];
    y += p[1];
  }
  return [x / poly.length, y / poly.length];
}

export function bounds(poly: Polygon): { min: Point2; max: Point2 } {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x, y] of poly) {
    minX = Math.min(minX, x);
    minY = Math.min(minY, y);
    maxX = Math.max(maxX, x);
    maxY = Math.max(maxY, y);
  }
  return { min: [minX, minY], max: [maxX, maxY] };
}

/**
 * A directed line through `p` with direction `d`; the "moving" side of a fold is the left of the
 * direction (cross product > 0).
 */
export interface Line {
  p: Point2;
  d: Point2;
}

export function side(line: Line, q: Point2): number {
  return line.d[0] * (q[1] - line.p[1]) - line.d[1] * (q[0] - line.p[0]);
}

export function reflect(q: Point2, line: Line): Point2 {
  const len2 = line.d[0] ** 2 + line.d[1] ** 2;
  const t = ((q[0] - line.p[0]) * line.d[0] + (q[1] - line.p[1]) * line.d[1]) / len2;
  const foot: Point2 = [line.p[0] + t * line.d[0], line.p[1] + t * line.d[1]];
  return [2 * foot[0] - q[0], 2 * foot[1] - q[1]];
}

/**
 * Splits a simple polygon by a line: [part on the left (side > 0), part on the right]. Either may be
 * empty. Exact for convex polygons; for concave ones it keeps the boundary order, which is what a
 * fold needs (the pieces are reflected and drawn, never used for area maths).
 */
export function splitPolygon(poly: Polygon, line: Line): [Polygon, Polygon] {
  const left: Polygon = [];
  const right: Polygon = [];
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i]!;
    const b = poly[(i + 1) % poly.length]!;
    const sa = side(line, a);
    const sb = side(line, b);
    if (sa >= 0) left.push(a);
    if (sa <= 0) right.push(a);
    if ((sa > 0 && sb < 0) || (sa < 0 && sb > 0)) {
      const t = sa / (sa - sb);
      const x = lerp(a, b, t);
      left.push(x);
      right.push(x);
    }
  }
  return [left.length >= 3 ? left : [], right.length >= 3 ? right : []];
}

/** Ray-casting point-in-polygon. */
export function contains(poly: Polygon, q: Point2): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const a = poly[i]!;
    const b = poly[j]!;
    if (a[1] > q[1] !== b[1] > q[1] && q[0] < ((b[0] - a[0]) * (q[1] - a[1])) / (b[1] - a[1]) + a[0]) {
      inside = !inside;
    }
  }
  return inside;
}
