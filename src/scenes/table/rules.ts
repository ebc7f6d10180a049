import { HOME_OF, TIPPABLE, type ObjectId, type Pose, type ReceptacleId } from './model.js';

/*
 * The table's rules, written once: the simulator's candidates and the validator's sequence check
 * both ask these, each in its own words.
 */

/** Where an object is put away: dishes in the rack, trash in the bin, the fork in the basket. */
export function receptacleOf(id: ObjectId): ReceptacleId {
  return HOME_OF[id];
}

/** Only a cup, bowl or bottle can lie tipped over, so only they are stood up. */
export function standsUp(id: ObjectId): boolean {
  return TIPPABLE.has(id);
}

/** A tipped object is stood upright before it is picked up. */
export function pickable(pose: Pose): boolean {
  return pose !== 'tipped';
}
