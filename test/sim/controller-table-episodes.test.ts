import { describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load.js';
import { goalsReached } from './oracle-episodes.js';

/*
 * The sim controller (sim/controller.ts) over whole episodes: every oracle plan, keyframes rendered at
 * the camera's size, reaches the goal. One file per scene so the two run side by side.
 */

const agibot = loadProfile('agibot-g1');

describe('goal-conditioned sim controller, table episodes', () => {
  it('reaches the table goal in 100 of 100 seeds from oracle plans with rendered keyframes', async () => {
    expect(await goalsReached(agibot, 'table', 'clear the table', 12)).toBe(100);
  }, 300_000);
});
