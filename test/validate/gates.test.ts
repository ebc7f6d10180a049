import { describe, expect, it } from 'vitest';
import type { PlanRequest } from '../../src/planner/planner.js';
import { keyframeGate, stepSubject, textGate } from '../../src/validate/gates.js';
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

describe('textGate', () => {
  it("passes the oracle's texts and refuses, with their codes, texts that do not parse or name an arm that cannot reach", async () => {
    const p = await oracle('agibot-g1', 'table', 100007);
    const request: PlanRequest = { robot: profile('agibot-g1'), task: 'clear the table', scene: 'table', observation: p.observation, history: [], version: 1 };
    const gate = textGate();
    const texts = p.draft.steps.map((s) => s.instruction);
    expect(await gate(texts, request)).toEqual([]);
    const other = (t: string) => (t.includes('left arm') ? t.replace('left arm', 'right arm') : t.replace('right arm', 'left arm'));
    // Swap the arm of each pick in turn: the seed's layout has objects only one arm can carry away.
    const refused: number[] = [];
    for (const [k, t] of texts.entries()) {
      if (!/^pick up .* (left|right) arm$/.test(t)) continue;
      const issues = await gate(texts.map((u, i) => (i === k ? other(u) : u)), request);
      if (issues.some((i) => i.code === 'out_of_reach' && i.step === k)) refused.push(k);
    }
    expect(refused.length).toBeGreaterThan(0);
    expect((await gate(['juggle the cup', ...texts], request)).map((i) => i.code)).toContain('unparseable');
  });
});

describe('stepSubject', () => {
  it('names what a step acts on, whichever arm the words name; null without a scene or for words that do not parse', () => {
    const request: PlanRequest = { robot: profile('agibot-g1'), task: 'clear the table', scene: 'table', observation: new Uint8Array(0), history: [], version: 1 };
    const left = stepSubject('pick up the cup with the left arm', request);
    expect(left).toBe(stepSubject('pick up the cup with the right arm', request));
    expect(left).not.toBe(stepSubject('pick up the bowl with the left arm', request));
    expect(stepSubject('put the cup in the rack', request)).not.toBe(left);
    expect(stepSubject('juggle the cup', request)).toBeNull();
    const { scene: _scene, ...noScene } = request;
    expect(stepSubject('pick up the cup', noScene)).toBeNull();
  });
});
