import { describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load.js';
import { runOracleEpisode } from '../../sim/episode.js';
import { SimWorld } from '../../sim/world.js';

/*
 * The sim controller (sim/controller.ts) over whole episodes: every oracle plan, keyframes rendered at
 * the camera's size, reaches the goal. One file per scene so the two run side by side.
 */

const agibot = loadProfile('agibot-g1');

describe('goal-conditioned sim controller, table episodes', () => {
  it('reaches the table goal in 100 of 100 seeds from oracle plans with rendered keyframes', async () => {
    let reached = 0;
    for (let seed = 0; seed < 100; seed++) {
      const world = new SimWorld({ profile: agibot, scene: 'table', task: 'clear the table', seed, missRate: 0 });
      const episode = await runOracleEpisode(world, { frames: false });
      expect(episode.steps.map((s) => s.feedback.status).filter((s) => s !== 'done'), `seed ${seed}`).toEqual([]);
      expect(episode.steps).toHaveLength(12);
      if (episode.success) reached++;
    }
    expect(reached).toBe(100);
  }, 300_000);
});
