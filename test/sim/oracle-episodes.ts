import { expect } from 'vitest';
import type { RobotProfile } from '../../src/schema/index.js';
import type { SceneId } from '../../src/schema/task.js';
import { runOracleEpisode } from '../../sim/episode.js';
import { SimWorld } from '../../sim/world.js';

/**
 * Oracle episodes of seeds 0..seeds-1 without misses, keyframes rendered at the camera's size: every
 * step must be done by the controller and every plan must have `steps` steps. Returns how many reached
 * the goal.
 */
export async function goalsReached(profile: RobotProfile, scene: SceneId, task: string, steps: number, seeds = 100): Promise<number> {
  let reached = 0;
  for (let seed = 0; seed < seeds; seed++) {
    const world = new SimWorld({ profile, scene, task, seed, missRate: 0 });
    const episode = await runOracleEpisode(world, { frames: false });
    expect(episode.steps.map((s) => s.feedback.status).filter((s) => s !== 'done'), `seed ${seed}`).toEqual([]);
    expect(episode.steps).toHaveLength(steps);
    if (episode.success) reached++;
  }
  return reached;
}
