import type { SceneId } from '../schema/index.js';
import type { SceneModule, SceneStateBase } from './scene.js';
import { tableScene } from './table/index.js';
import { tshirtScene } from './tshirt/index.js';

/**
 * Every scene by id. The element type is erased to `any` here only: each scene is fully typed in its
 * own module, and callers that hold a state got it from the same scene they pass it back to.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyScene = SceneModule<any, any>;

export const SCENES: Record<SceneId, AnyScene> = {
  tshirt: tshirtScene,
  table: tableScene,
};

export function sceneById(id: SceneId): AnyScene {
  return SCENES[id];
}

export type { SceneStateBase };
