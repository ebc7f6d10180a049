import { describe, expect, it } from 'vitest';
import type { PlanRequest } from '../../src/planner/planner.js';
import { keyframeGate } from '../../src/validate/keyframe-gate.js';
import { oracle, profile } from './helpers.js';

describe('keyframeGate', () => {
  it('passes every step of an oracle plan, checked as it would be drawn (prefix by prefix)', async () => {
    const p = await oracle('agibot-g1', 'table', 3);
    const request: PlanRequest = { robot: profile('agibot-g1'), task: 'clear the table', scene: 'table', observation: p.observation, history: [], version: 1 };
    const gate = keyframeGate();
    for (let k = 1; k <= p.draft.steps.length; k++) expect(await gate(p.draft.steps.slice(0, k), request), `step ${k - 1}`).toEqual([]);
  });

  it("returns the last step's picture errors, not its text errors (redrawing cannot fix those)", async () => {
    const p = await oracle('agibot-g1', 'table', 3);
    const request: PlanRequest = { robot: profile('agibot-g1'), task: 'clear the table', scene: 'table', observation: p.observation, history: [], version: 1 };
    const gate = keyframeGate();
    const copy = () => p.draft.steps.map((s) => ({ ...s }));
    // Step 1's keyframe is step 0's again: the step would do nothing.
    const still = copy();
    still[1]!.keyframe = new Uint8Array(still[0]!.keyframe);
    expect((await gate(still.slice(0, 2), request)).map((i) => [i.code, i.step])).toEqual([['keyframe_unchanged', 1]]);
    // Step 2's instruction does not parse: the validator refuses it, the gate leaves it to the validator.
    const words = copy();
    words[2]!.instruction = 'juggle the cup';
    expect(await gate(words.slice(0, 3), request)).toEqual([]);
  });
});
