import { describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load.js';
import { sceneById } from '../../src/scenes/registry.js';
import type { PastStep, StepMeaning } from '../../src/scenes/sequence.js';
import { checkTshirtSequence } from '../../src/scenes/tshirt/sequence.js';
import { COVERED_BY, PREREQUISITES, type Milestone } from '../../src/scenes/tshirt/rules.js';
import type { TshirtState } from '../../src/scenes/tshirt/index.js';
import { Rng } from '../../src/util/rng.js';

/**
 * The fold order is written once (rules.ts) and read by the simulator's candidates and the
 * validator's sequence check: for every milestone with a prerequisite, both refuse it while the
 * prerequisite is not done, and both accept it once it is.
 */
const profile = loadProfile('aloha-agilex');
const scene = sceneById('tshirt');

const MEANING: Record<Milestone, Omit<StepMeaning, 'step'>> = {
  collar: { verb: 'tidy', object: 'shirt', part: 'collar', arms: ['right'] },
  left_sleeve: { verb: 'fold', object: 'shirt', part: 'left_sleeve', arms: ['left'] },
  right_sleeve: { verb: 'fold', object: 'shirt', part: 'right_sleeve', arms: ['right'] },
  bottom: { verb: 'fold', object: 'shirt', part: 'bottom', arms: ['left', 'right'] },
  half: { verb: 'fold', object: 'shirt', part: 'half', arms: ['left', 'right'] },
  aside: { verb: 'move', object: 'shirt', arms: ['left'] },
};

/** The oracle's fold, as (instruction, state before) pairs. */
function canonical(): { instruction: string; before: TshirtState }[] {
  const goal = scene.parseTask('fold the t-shirt');
  if (!goal.ok) throw new Error(goal.reason);
  let state = scene.initial(profile, new Rng(3)) as TshirtState;
  return scene.oracle(state, goal.goal, profile).map((step: { instruction: string; next: TshirtState }) => {
    const before = state;
    state = step.next;
    return { instruction: step.instruction, before };
  });
}

describe('the T-shirt fold order, shared by the simulator and the validator', () => {
  it('the tables say what the fold needs: the bottom over the sleeves, the half over the bottom and the collar', () => {
    expect(PREREQUISITES.bottom).toEqual(['left_sleeve', 'right_sleeve']);
    expect(PREREQUISITES.half).toEqual(['bottom', 'collar']);
    expect(COVERED_BY.collar).toContain('half');
  });

  it('the validator refuses a milestone whose prerequisite the run missed, and accepts it after it was done', () => {
    for (const [m, needs] of Object.entries(PREREQUISITES) as [Milestone, readonly Milestone[]][]) {
      for (const need of needs) {
        const past = (status: PastStep['status']): PastStep[] => [{ meaning: { step: 0, ...MEANING[need] }, status }];
        const plan = [{ step: 1, ...MEANING[m] }];
        const refused = checkTshirtSequence(plan, profile, undefined, past('miss'), undefined);
        expect(refused.map((i) => i.code), `${m} after a missed ${need}`).toContain('order');
        const accepted = checkTshirtSequence(plan, profile, undefined, past('done'), undefined);
        expect(accepted.filter((i) => i.code === 'order'), `${m} after a done ${need}`).toEqual([]);
      }
    }
  });

  it('the simulator refuses the half fold before the collar is tidy, in the words the validator uses', () => {
    const steps = canonical();
    const half = steps.findIndex((s) => s.instruction.startsWith('fold the shirt in half'));
    expect(half).toBeGreaterThan(0);
    // The state before the half fold, with the collar crumpled again.
    const untidy = { ...steps[half]!.before, collarCrumple: steps[0]!.before.collarCrumple };
    expect(untidy.collarCrumple).not.toBeNull();
    const parsed = scene.parseInstruction(steps[half]!.instruction, profile);
    if (!parsed.ok) throw new Error(parsed.reason);
    const result = scene.candidates(untidy, parsed.template, profile);
    expect(result).toEqual({ ok: false, reason: 'tidy the collar first: the half fold covers it' });
    const issues = checkTshirtSequence(
      [{ step: 0, ...MEANING.half }],
      profile,
      undefined,
      [{ meaning: { step: 0, ...MEANING.collar }, status: 'miss' }],
      undefined,
    );
    expect(issues.find((i) => i.code === 'order')?.message).toContain('tidy the collar first: the half fold covers it');
  });
});
