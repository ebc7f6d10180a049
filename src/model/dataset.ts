import type { SceneId } from '../schema/index.js';

/**
 * What the embedded model's training data covers (scripts/export-dataset.ts writes it; the benches
 * measure on the same robots): episodes from scene seeds below HELDOUT_SEED_BASE train, seeds from it
 * on are held out.
 */
export const HELDOUT_SEED_BASE = 100_000;

export const DATASET_ROBOTS: Record<SceneId, readonly string[]> = {
  tshirt: ['aloha-agilex', 'aloha-stanford', 'agibot-g1'],
  table: ['agibot-g1', 'aloha-agilex', 'franka-fr3'],
};
