import { describe, expect, it } from 'vitest';
import { PALETTE } from '../../src/scenes/palette.js';
import type { Picture } from '../../src/validate/picture.js';
import { objectIssues } from '../../src/validate/keyframe-checks.js';
import { painted, profile, rect, shift, type Px } from './helpers.js';

/** A bare table with the fork drawn as `fork`. */
const picture = (fork: Px): Picture => painted(PALETTE.table, [[PALETTE.fork, fork]]);

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
