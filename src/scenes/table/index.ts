import type { SceneModule } from '../scene.js';
import { checkTableSequence } from './sequence.js';
import { draw } from './draw.js';
import { candidates, initial, isGoal } from './logic.js';
import { oracle } from './oracle.js';
import type { TableGoal, TableState } from './model.js';
import { TASKS, VOCABULARY, parseInstruction, parseTask } from './words.js';

export type { ObjectId, ReceptacleId, TableGoal, TableObject, TableState, Where } from './model.js';
export { HOME_OF, OBJECT_IDS, RECEPTACLES, TIPPABLE } from './model.js';

/**
 * Table clearing: pick six objects (cup, plate, bowl, fork, napkin, bottle) off the table and put
 * each in its receptacle (dishes in the rack, trash in the bin, the fork in the basket). Each object
 * takes a pick and a place; a knocked-over cup, bowl or bottle must be stood upright first.
 */
export const tableScene: SceneModule<TableState, TableGoal> = {
  id: 'table',
  tasks: TASKS,
  vocabulary: VOCABULARY,
  parseTask,
  initial,
  isGoal,
  oracle,
  parseInstruction,
  candidates,
  checkSequence: checkTableSequence,
  draw,
};
