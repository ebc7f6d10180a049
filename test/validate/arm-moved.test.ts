import { describe, expect, it } from 'vitest';
import { PALETTE } from '../../src/scenes/palette.js';
import type { Picture } from '../../src/validate/picture.js';
import { objectIssues } from '../../src/validate/keyframe-checks.js';
import { painted, profile, rect, shift, type Px } from './helpers.js';

/** A table-coloured picture with the left gripper at rest and the right gripper drawn as `right`. */
function picture(right: Px): Picture {
  const left = [...rect(28, 76, 29, 83), ...rect(33, 76, 34, 83), ...rect(28, 82, 34, 83)];
  return painted(PALETTE.table, [[PALETTE.gripperLeft, left], [PALETTE.gripperRight, right]]);
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
