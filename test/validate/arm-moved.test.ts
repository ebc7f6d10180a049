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

/** A table-coloured picture with the left gripper at rest and the right gripper drawn as `right`. */
function picture(right: Px): Picture {
  const img = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) img.set(rgb(PALETTE.table), i * 3);
  const left = [...rect(28, 76, 29, 83), ...rect(33, 76, 34, 83), ...rect(28, 82, 34, 83)];
  for (const [x, y] of left) img.set(rgb(PALETTE.gripperLeft), (y * W + x) * 3);
  for (const [x, y] of right) img.set(rgb(PALETTE.gripperRight), (y * W + x) * 3);
  return analysePicture(img, W, H);
}

function armIssues(prev: Picture, k: Picture): string[] {
  return objectIssues({ scene: 'tshirt', step: 1, k, prev, prevName: 'step 0', reference: prev, arms: ['left'], profile: profile('aloha-agilex') })
    .filter((i) => i.code === 'arm_mismatch')
    .map((i) => i.message);
}

describe('arm_mismatch', () => {
  // The idle right gripper drawn as two fragments; from one keyframe to the next the other fragment
  // becomes the larger one, so the largest piece's centroid jumps while the gripper stays put.
  const before = [...rect(56, 36, 65, 37), ...rect(68, 38, 71, 41)];
  const after = [...rect(56, 36, 61, 37), ...rect(68, 38, 72, 41)];

  it('is not raised when only which fragment is largest changes', () => {
    const prev = picture(before);
    const k = picture(after);
    const lx = Math.hypot(k.blob.gripper_right.lx - prev.blob.gripper_right.lx, k.blob.gripper_right.ly - prev.blob.gripper_right.ly);
    expect(lx).toBeGreaterThan(7);
    expect(armIssues(prev, k)).toEqual([]);
  });

  it('is raised when the idle gripper moves, fragments and all', () => {
    expect(armIssues(picture(before), picture(shift(before, 12)))).toEqual([
      'step 1 names the left arm, but its keyframe shows the right gripper moving',
    ]);
  });
});
