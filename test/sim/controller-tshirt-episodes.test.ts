import { describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load.js';
import { runOracleEpisode } from '../../sim/episode.js';
import { SimWorld } from '../../sim/world.js';
import { goalsReached } from './oracle-episodes.js';

/*
 * The sim controller (sim/controller.ts) over whole episodes: every oracle plan, keyframes rendered at
 * the camera's size, reaches the goal. One file per scene so the two run side by side.
 */

const agilex = loadProfile('aloha-agilex');

describe('goal-conditioned sim controller, T-shirt episodes', () => {
  it('reaches the tshirt goal in 100 of 100 seeds from oracle plans with rendered keyframes', async () => {
    expect(await goalsReached(agilex, 'tshirt', 'fold the t-shirt', 7)).toBe(100);
  }, 300_000);

  it('misses at about the configured rate and replans to the goal', async () => {
    let misses = 0;
    let steps = 0;
    let successes = 0;
    for (let seed = 0; seed < 30; seed++) {
      const world = new SimWorld({ profile: agilex, scene: 'tshirt', task: 'fold the t-shirt', seed, missRate: 0.3 });
      const episode = await runOracleEpisode(world, { maxReplans: 20, frames: false });
      misses += episode.misses;
      steps += episode.steps.length;
      if (episode.success) successes++;
    }
    expect(successes).toBe(30);
    expect(misses / steps).toBeGreaterThan(0.2);
    expect(misses / steps).toBeLessThan(0.4);
  });
});
