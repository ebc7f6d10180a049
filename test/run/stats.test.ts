import { describe, expect, it } from 'vitest';
import { percentile, wilsonInterval } from '../../src/run/stats.js';

describe('wilsonInterval', () => {
  it('gives the published 95 % Wilson intervals (Newcombe 1998, table I)', () => {
    // 81 / 263 and 15 / 148 are Newcombe's examples; 8 / 10 and 0 / 10 are the textbook ones.
    const at = (s: number, n: number) => {
      const { low, high } = wilsonInterval(s, n);
      return [Number(low.toFixed(4)), Number(high.toFixed(4))];
    };
    expect(at(81, 263)).toEqual([0.2553, 0.3662]);
    expect(at(15, 148)).toEqual([0.0624, 0.1605]);
    expect(at(8, 10)).toEqual([0.4902, 0.9433]);
    expect(at(0, 10)).toEqual([0, 0.2775]);
  });

  it('is not zero-width at n / n, stays in [0, 1], and knows nothing at n = 0', () => {
    const all = wilsonInterval(5, 5);
    expect(all.high).toBe(1);
    expect(all.low).toBeCloseTo(0.5655, 4);
    expect(wilsonInterval(0, 0)).toEqual({ low: 0, high: 1 });
  });
});

describe('percentile', () => {
  it('is the nearest rank', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([5, 1, 4, 2, 3], 95)).toBe(5);
    expect(percentile([], 50)).toBeNaN();
  });
});
