import { describe, expect, it } from 'vitest';
import { filledAfter } from '../../src/model/dida.js';
import { causalMask, forceAt, greedy, logProbTap, multinomial, softmax, topK, topP } from '../../src/model/generation.js';
import { Rng } from '../../src/util/rng.js';

const ctx = { generated: [], step: 0 };

describe('generation parts', () => {
  it('the log-probability tap scores chosen tokens by the logits it saw, not by what later processors forced', () => {
    const tap = logProbTap();
    const a = Float32Array.from([0, Math.log(3), -Infinity]);
    tap.processor(a, { generated: [], step: 0 });
    forceAt(() => true, 2)(a, ctx);
    const b = Float32Array.from([Math.log(2), Math.log(2)]);
    tap.processor(b, { generated: [], step: 1 });
    expect(tap.logProbOf([1, 0])).toBeCloseTo(Math.log(3 / 4) + Math.log(1 / 2), 6);
    expect(tap.logProbOf([2])).toBe(-Infinity);
  });

  it('top-k keeps the k best scores', () => {
    const l = Float32Array.from([1, 5, 3, 4, 2]);
    topK(2)(l, ctx);
    expect(Array.from(l)).toEqual([-Infinity, 5, -Infinity, 4, -Infinity]);
  });

  it('top-p keeps the smallest set reaching p', () => {
    const l = Float32Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]);
    topP(0.75)(l, ctx);
    expect(Array.from(l).map((x) => x > -Infinity)).toEqual([true, true, false, false]);
  });

  it('forces a token only at the steps asked', () => {
    const l = Float32Array.from([1, 2, 3]);
    forceAt((s) => s === 0, 0)(l, ctx);
    expect(greedy(l, new Rng(1))).toBe(0);
    const m = Float32Array.from([1, 2, 3]);
    forceAt((s) => s === 1, 0)(m, ctx);
    expect(greedy(m, new Rng(1))).toBe(2);
  });

  it('samples reproducibly from a seed', () => {
    const l = Float32Array.from([0, 0.5, 1, 1.5]);
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 20 }, () => multinomial(l, rng));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    expect(softmax(l).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('builds a causal mask over a cached prefix', () => {
    expect(Array.from(causalMask(2, 1))).toEqual([1, 1, 0, 1, 1, 1]);
  });

  it('DiDA schedules fill everything on the last pass and grow monotonically', () => {
    for (const schedule of ['cosine', 'linear'] as const) {
      for (const passes of [1, 2, 4, 8]) {
        const filled = Array.from({ length: passes }, (_, p) => filledAfter(p, passes, 256, schedule));
        expect(filled.at(-1)).toBe(256);
        for (let i = 1; i < filled.length; i++) expect(filled[i]!).toBeGreaterThanOrEqual(filled[i - 1]!);
      }
    }
    // Cosine commits few tokens early, when the model has seen least.
    expect(filledAfter(0, 4, 256, 'cosine')).toBeLessThan(filledAfter(0, 4, 256, 'linear'));
  });
});
