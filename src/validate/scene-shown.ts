import { SceneId } from '../schema/task.js';
import { UnknownTaskError } from '../scenes/unknown-task-error.js';
import { SCENE_OBJECTS, type PixelClass } from './palette-classes.js';
import type { Picture } from './picture.js';
import { decodeImage } from './validate-draft.js';

/**
 * Pixels (at the compare size, 128x96 = 12,288) a scene's own colours must cover for a picture to
 * show that scene, and the most the other scene's colours may cover beside them. Measured on the
 * simulator's renders of every robot, start to goal: a folded T-shirt still covers about 380 pixels
 * and a table shows under 25 table-object pixels (blend fringes); a table covers 1,300 or more with
 * its objects and receptacles and no T-shirt pixel at all.
 */
const SHOWS = { own: 150, other: 100 } as const;

const SCENE_COLOURS: Record<SceneId, readonly PixelClass[]> = {
  tshirt: SCENE_OBJECTS.tshirt,
  table: [...SCENE_OBJECTS.table, 'rack', 'bin', 'basket'],
};

function covered(picture: Picture, classes: readonly PixelClass[]): number {
  return classes.reduce((sum, c) => sum + picture.blob[c].pixels, 0);
}

/**
 * The scene a camera picture plainly shows, or undefined when it shows neither plainly (a real camera
 * whose colours are not the renderer's, an empty table). Pure: the picture in, a scene out.
 */
export function sceneShown(picture: Picture): SceneId | undefined {
  const cover = SceneId.options.map((id) => [id, covered(picture, SCENE_COLOURS[id])] as const);
  const shown = cover.filter(([id, own]) => own >= SHOWS.own && cover.every(([other, c]) => other === id || c < SHOWS.other)).map(([id]) => id);
  return shown.length === 1 ? shown[0] : undefined;
}

/**
 * Refuses a task of one scene when the robot's camera plainly shows the other, before the lease is
 * taken and anything is planned: planning a fold from a picture of a table only ends in refused
 * plans. Throws UnknownTaskError (exit 3) naming both scenes and the way past the check.
 */
export async function checkSceneShown(observation: Uint8Array, task: string, scene: SceneId): Promise<void> {
  const decoded = await decodeImage(observation);
  if (!decoded.ok) return;
  const shown = sceneShown(decoded.picture);
  if (shown === undefined || shown === scene) return;
  throw new UnknownTaskError(
    `"${task}" is a ${scene} task, but the robot's camera shows the ${shown} scene; check that this is the robot you meant, or give it a ${shown} task (--skip-scene-check plans anyway)`,
    { task, scene },
  );
}
