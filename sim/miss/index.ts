import type { SceneId } from '../../src/schema/index.js';
import type { MissModel } from './miss-model.js';
import { tableMisses } from './table.js';
import { tshirtMisses } from './tshirt.js';

export type { MissKind, MissModel, MissOutcome } from './miss-model.js';
export { MISS_KINDS } from './miss-model.js';
export { tableMisses, tshirtMisses };

// Erased to `any` as the scene registry is: callers pass back a state of the scene they named.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const MISS_MODELS: Record<SceneId, MissModel<any>> = { table: tableMisses, tshirt: tshirtMisses };

/** The miss model of a scene. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function missModelOf(scene: SceneId): MissModel<any> {
  return MISS_MODELS[scene];
}
