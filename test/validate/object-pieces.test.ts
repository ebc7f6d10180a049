import { describe, expect, it } from 'vitest';
import { PALETTE, rgb } from '../../src/scenes/palette.js';
import { analysePicture, type Picture } from '../../src/validate/picture.js';
import { objectIssues } from '../../src/validate/keyframe-checks.js';
import { profile } from './helpers.js';

const W = 128;
const H = 96;
type Px = [number, number][];

const rect = (x0: number, y0: number, x1: number, y1: number): Px => {
  const out: Px = [];
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) out.push([x, y]);
  return out;
};
const shift = (px: Px, dx: number): Px => px.map(([x, y]) => [x + dx, y]);

/** A bare table with the fork drawn as `fork`. */
function picture(fork: Px): Picture {
  const img = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) img.set(rgb(PALETTE.table), i * 3);
  for (const [x, y] of fork) img.set(rgb(PALETTE.fork), (y * W + x) * 3);
  return analysePicture(img, W, H);
}

/** The issues a step that acts on the plate raises about the fork. */
function forkIssues(prev: Picture, k: Picture): string[] {
  return objectIssues({ scene: 'table', step: 3, k, prev, prevName: 'step 2', reference: prev, actedOn: 'plate', profile: profile('aloha-agilex') })
    .filter((i) => i.message.includes('fork'))
    .map((i) => `${i.code}: ${i.message}`);
}

describe('a thin object drawn in pieces', () => {
  const whole = rect(50, 40, 64, 41);
  // The fork drawn where it was as two pieces, and again with the other piece the larger one.
  const pieces = [...rect(50, 40, 57, 41), ...rect(59, 40, 64, 41)];
  const otherPieces = [...rect(50, 40, 55, 41), ...rect(57, 40, 64, 41)];

  it('is not a second object when one piece becomes two', () => {
    const prev = picture(whole);
    const k = picture(pieces);
    expect([prev.blob.fork.blobs, k.blob.fork.blobs]).toEqual([1, 2]);
    expect(forkIssues(prev, k)).toEqual([]);
  });

  it('has not moved when only which piece is largest changes', () => {
    const prev = picture(pieces);
    const k = picture(otherPieces);
    expect(Math.hypot(k.blob.fork.lx - prev.blob.fork.lx, k.blob.fork.ly - prev.blob.fork.ly)).toBeGreaterThan(6);
    expect(forkIssues(prev, k)).toEqual([]);
  });

  it('still counts a second fork as an object that appeared', () => {
    expect(forkIssues(picture(whole), picture([...whole, ...shift(whole, 40)]))).toEqual([
      "object_appeared: step 3's keyframe shows 2 separate fork-coloured object blobs where step 2 has 1: an object appeared",
    ]);
  });

  it('still counts the fork moved, pieces and all, as moved', () => {
    expect(forkIssues(picture(pieces), picture(shift(pieces, 12)))).toEqual([
      "object_moved: the fork moved 12 px between step 2 and step 3's keyframe, but the step acts on the plate",
    ]);
  });
});
