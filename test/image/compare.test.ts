import { describe, expect, it } from 'vitest';
import { boxBlur, COMPARE_SIZE, strongDiffArea } from '../../src/image/compare.js';

const { width: W, height: H } = COMPARE_SIZE;

/** A tan table with a filled rectangle of `rgb` (x0..x1, y0..y1 inclusive). */
function picture(rects: { x: [number, number]; y: [number, number]; rgb: [number, number, number] }[]): Uint8Array {
  const out = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) out.set([200, 184, 150], i * 3);
  for (const r of rects) for (let y = r.y[0]; y <= r.y[1]; y++) for (let x = r.x[0]; x <= r.x[1]; x++) out.set(r.rgb, (y * W + x) * 3);
  return out;
}

describe('boxBlur / strongDiffArea', () => {
  const cyan: [number, number, number] = [0, 220, 255];
  const jaw = picture([{ x: [40, 40], y: [30, 45], rgb: cyan }]); // a 1 px gripper jaw
  const smear = picture([{ x: [39, 41], y: [30, 45], rgb: [133, 202, 185] }]); // the same jaw as a decoder smears it

  it('a thin stroke and its smear differ outright unblurred, not after a 1 px blur', () => {
    expect(strongDiffArea(jaw, smear)).toBeGreaterThan(0);
    expect(strongDiffArea(boxBlur(jaw), boxBlur(smear))).toBe(0);
  });

  it('a moved solid object still differs outright after the blur', () => {
    const cup = (x: number) => picture([{ x: [x, x + 6], y: [50, 56], rgb: [200, 30, 40] }]);
    const area = strongDiffArea(boxBlur(cup(20)), boxBlur(cup(90)));
    // Both places (where it was, where it is) keep most of their 49 px each.
    expect(area * W * H).toBeGreaterThan(60);
  });

  it('keeps a flat picture as it is, and radius 0 is the identity', () => {
    const flat = picture([]);
    expect(boxBlur(flat)).toEqual(flat);
    expect(boxBlur(jaw, 0)).toBe(jaw);
  });

  it('gives exactly what the textbook two-pass box blur gives, edges and all, at radius 1 to 3', () => {
    // Seeded noise over a few shapes: every pixel's sum differs, so any change in what is summed or
    // in its order shows.
    let state = 12345;
    const noise = new Uint8Array(W * H * 3).map(() => ((state = (state * 1103515245 + 12345) >>> 0) >>> 24));
    for (const input of [noise, jaw, picture([{ x: [0, 5], y: [90, 95], rgb: [10, 250, 3] }])]) {
      for (const radius of [1, 2, 3]) expect(boxBlur(input, radius)).toEqual(textbookBlur(input, radius));
    }
  });

  it('names the size it expected when the bytes do not fit', () => {
    expect(() => boxBlur(new Uint8Array(12))).toThrow(/12 bytes is not 128x96 RGB/);
  });
});

/** The blur written the plain way, to hold boxBlur to: each sum over 2r + 1 clamped pixels, in order. */
function textbookBlur(rgb: Uint8Array, radius: number): Uint8Array {
  const span = 2 * radius + 1;
  const at = (x: number, limit: number) => Math.min(Math.max(x, 0), limit - 1);
  let src = Float32Array.from(rgb);
  for (let pass = 0; pass < 2; pass++) {
    const tmp = new Float32Array(src.length);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let c = 0; c < 3; c++) {
          let sum = 0;
          for (let d = -radius; d <= radius; d++) sum += src[(y * W + at(x + d, W)) * 3 + c]!;
          tmp[(y * W + x) * 3 + c] = sum / span;
        }
    const next = new Float32Array(src.length);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let c = 0; c < 3; c++) {
          let sum = 0;
          for (let d = -radius; d <= radius; d++) sum += tmp[(at(y + d, H) * W + x) * 3 + c]!;
          next[(y * W + x) * 3 + c] = sum / span;
        }
    src = next;
  }
  return Uint8Array.from(src, (v) => Math.round(v));
}
