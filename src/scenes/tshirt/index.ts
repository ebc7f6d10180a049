import type { SceneModule, View } from '../scene.js';
import { checkTshirtSequence } from './sequence.js';
import { drawShirt } from './draw.js';
import { candidates, initial, isGoal } from './logic.js';
import type { TshirtGoal, TshirtState } from './model.js';
import { localStack } from './model.js';
import { oracle } from './oracle.js';
import { TASKS, VOCABULARY, parseInstruction, parseTask } from './words.js';

export type { Fold, FoldId, Pose, TshirtGoal, TshirtState } from './model.js';
export { ASIDE_SLOTS, FULL_LINES, localStack } from './model.js';
export { perform } from './logic.js';

/**
 * T-shirt folding for a bimanual (ALOHA-style) robot: the shirt is polygons, folds are lines applied
 * in order, so partial and failed folds are drawn as they are. Seven steps, see logic.ts.
 */
export const tshirtScene: SceneModule<TshirtState, TshirtGoal> = {
  id: 'tshirt',
  tasks: TASKS,
  vocabulary: VOCABULARY,
  parseTask,
  initial,
  isGoal,
  oracle,
  parseInstruction,
  candidates,
  checkSequence: checkTshirtSequence,
  draw: (state: TshirtState, view: View) => drawShirt(state, localStack(state), view),
};
