import { describe, expect, it } from 'vitest';
import { draftSeeds } from '../../src/model/seed-scheme.js';

describe('the planner seed scheme', () => {
  it('derives every seed as the table in seed-scheme.ts says (rollout figures were measured with these)', () => {
    const seeds = draftSeeds(4, 2, 3);
    expect(seeds.draft).toBe(4 + 2 * 7_919 + 3 * 104_729);
    expect(seeds.text(0)).toBe(seeds.draft);
    expect(seeds.text(2)).toBe(seeds.draft + 2 * 65_537);
    expect(seeds.keyframe(0, 0)).toBe(seeds.draft + 1);
    expect(seeds.keyframe(5, 3)).toBe(seeds.draft + 6 + 3 * 65_537);
    expect(draftSeeds(0, 1, 0).draft).toBe(7_919);
  });

  it('gives no two text draws and no two keyframe draws of one planner the same seed, within the bounds it promises', () => {
    const texts = new Set<number>();
    const keyframes = new Set<number>();
    let drawn = 0;
    for (let version = 1; version <= 40; version++) {
      for (let draft = 0; draft < 10; draft++) {
        const seeds = draftSeeds(7, version, draft);
        for (let draw = 0; draw < 16; draw++) {
          texts.add(seeds.text(draw));
          for (let step = 0; step < 64; step++) keyframes.add(seeds.keyframe(step, draw));
        }
        drawn++;
      }
    }
    expect(texts.size).toBe(drawn * 16);
    expect(keyframes.size).toBe(drawn * 16 * 64);
  });
});
