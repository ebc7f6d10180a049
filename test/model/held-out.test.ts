import { describe, expect, it } from 'vitest';
import { sceneById } from '../../src/scenes/registry.js';
import { cellErrors, heldOutCases, heldOutRecoveries } from '../../src/run/model-bench.js';
import { HELDOUT_SEED_BASE } from '../../src/model/dataset.js';

describe('heldOutRecoveries', () => {
  it('gives failure states with the oracle recovery plan, from held-out seeds, the same on every call', () => {
    const cases = heldOutRecoveries('table', 12);
    expect(cases).toHaveLength(12);
    expect(heldOutRecoveries('table', 12).map((c) => c.steps.map((s) => s.instruction))).toEqual(cases.map((c) => c.steps.map((s) => s.instruction)));
    const table = sceneById('table');
    for (const c of cases) {
      expect(c.at).toBe(0);
      expect(c.steps.length).toBeGreaterThan(0);
      // The oracle's first step from the failure state is what the case asks the model to draw.
      expect(c.steps[0]!.instruction).toBe((table.oracle(c.state as never, (table.parseTask(c.task) as { ok: true; goal: never }).goal, c.profile) as { instruction: string }[])[0]!.instruction);
    }
    // Recovery steps never come along the oracle's own path: the set holds steps heldOutCases has not.
    const along = new Set(heldOutCases('table', 60).map((c) => c.steps[c.at]!.instruction.split(' ')[0]));
    expect(cases.some((c) => !along.has(c.steps[0]!.instruction.split(' ')[0]))).toBe(true);
  });

  it('has no cases when nothing misses', () => {
    expect(heldOutRecoveries('tshirt', 5, HELDOUT_SEED_BASE + 700, 0)).toEqual([]);
  });
});

describe('cellErrors', () => {
  it('tells cells the draw kept, drew wrong and redrew, two codes a cell', () => {
    //                cell:   0     1     2     3     4
    const start = Int32Array.from([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    const truth = Int32Array.from([1, 1, 9, 9, 8, 8, 7, 7, 5, 5]);
    // 0: kept as it should; 1: changed but kept; 2: changed, drawn half right; 3: changed, right; 4: redrawn.
    const drawn = Int32Array.from([1, 1, 2, 2, 8, 0, 7, 7, 5, 6]);
    expect(cellErrors(start, truth, drawn, 2)).toEqual({ kept: 1, wrong: 1, redrawn: 1, changed: 3 });
    expect(cellErrors(start, truth, truth, 2)).toEqual({ kept: 0, wrong: 0, redrawn: 0, changed: 3 });
    expect(cellErrors(start, truth, start, 2)).toEqual({ kept: 3, wrong: 0, redrawn: 0, changed: 3 });
  });
});
