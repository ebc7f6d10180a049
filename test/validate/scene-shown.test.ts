import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load.js';
import { decodeImage } from '../../src/validate/validate-draft.js';
import { sceneShown } from '../../src/validate/scene-shown.js';
import type { SceneId } from '../../src/schema/task.js';
import { SimWorld } from '../../sim/world.js';

const TASK: Record<SceneId, string> = { tshirt: 'fold the t-shirt', table: 'clear the table' };

async function shown(png: Uint8Array): Promise<SceneId | undefined> {
  const decoded = await decodeImage(png);
  if (!decoded.ok) throw new Error(decoded.error);
  return sceneShown(decoded.picture);
}

describe('sceneShown reads which scene a camera picture plainly shows', () => {
  // The start, the middle and the goal of the oracle's plan: a folded shirt is small, a cleared table
  // shows its objects only in the receptacles.
  it.each(['aloha-agilex', 'agibot-g1'])('every state of both scenes on %s, start to goal', async (robot) => {
    const profile = loadProfile(robot);
    for (const scene of ['tshirt', 'table'] as const) {
      for (const seed of [11, 12]) {
        const world = new SimWorld({ profile, scene, task: TASK[scene], seed, missRate: 0 });
        const states = [world.state, ...world.oracle().map((s) => s.next)];
        for (const state of [states[0]!, states[Math.floor(states.length / 2)]!, states.at(-1)!]) {
          world.state = state;
          expect(await shown(await world.observe()), `${robot} ${scene} seed ${seed}`).toBe(scene);
        }
      }
    }
  });

  it('a picture that shows neither plainly reads as no scene, so a real camera is never refused on colour', async () => {
    const grey = await sharp({ create: { width: 128, height: 96, channels: 3, background: { r: 120, g: 120, b: 120 } } }).png().toBuffer();
    expect(await shown(grey)).toBeUndefined();
    // Both scenes' colours at once (a T-shirt on a table with a cup) is not plainly either.
    const both = await sharp({ create: { width: 128, height: 96, channels: 3, background: { r: 0x2f, g: 0x6f, b: 0xd6 } } })
      .composite([{ input: await sharp({ create: { width: 40, height: 40, channels: 3, background: { r: 0xe6, g: 0x39, b: 0x46 } } }).png().toBuffer(), left: 10, top: 10 }])
      .png()
      .toBuffer();
    expect(await shown(both)).toBeUndefined();
  });
});
