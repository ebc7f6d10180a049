import type { Action, Point2 } from '../../src/schema/index.js';
import { moveArm } from '../../src/scenes/arms.js';
import { fmt, isObjectId, randomSpot, retreat, withObject } from '../../src/scenes/table/logic.js';
import type { ObjectId, Pose, TableState } from '../../src/scenes/table/model.js';
import {
  HOME_OF, TIPPABLE, carryingArms, clearOfObjects, fitsOnTable, footprint, objectOf, roundAngle, roundPoint,
} from '../../src/scenes/table/model.js';
import { NOUN } from '../../src/scenes/table/words.js';
import type { Rng } from '../../src/util/rng.js';
import type { MissKind, MissModel, MissOutcome } from './miss-model.js';

/**
 * How table steps fail: a grasp slips, a carried object drops somewhere on the table, a pick knocks a
 * standing cup, bowl or bottle over, a place falls short of its receptacle.
 */
/** The miss kinds that can happen to an action. */
export function missKinds(state: TableState, action: Action): MissKind[] {
  if (!isObjectId(action.object)) return [];
  const obj = objectOf(state, action.object);
  switch (action.verb) {
    case 'pick':
      return TIPPABLE.has(obj.id) && obj.pose === 'upright' ? ['slip', 'drop', 'knocked_over'] : ['slip', 'drop'];
    case 'place':
      return ['drop'];
    case 'upright':
      return ['slip'];
    default:
      return [];
  }
}

/** Where a dropped or knocked object comes to rest: clear of everything, and carriable to its receptacle. */
function restingSpot(
  state: TableState,
  id: ObjectId,
  pose: Pose,
  sample: (attempt: number) => Point2,
  fallback: Point2,
): Point2 {
  for (let t = 0; t < 200; t++) {
    const p = roundPoint(sample(t));
    if (restsAt(state, id, pose, p)) return p;
  }
  return fallback;
}

/** Whether the object can lie at `p` in `pose`: on the open table, clear of the rest, carriable by some arm. */
function restsAt(state: TableState, id: ObjectId, pose: Pose, p: Point2): boolean {
  const r = footprint(id, pose);
  return fitsOnTable(p, r) && clearOfObjects(state, p, r, id) && carryingArms(state, id, p, state.reach).length > 0;
}

/**
 * A miss of a given kind; a dropped or knocked object lands where some arm (state.reach) can carry it.
 * Throws RangeError for a kind that cannot happen to the action (see missKinds).
 */
export function missOfKind(state: TableState, action: Action, kind: MissKind, rng: Rng): MissOutcome<TableState> {
  if (!missKinds(state, action).includes(kind)) {
    throw new RangeError(`a ${action.verb} of the ${action.object} cannot end in ${kind}`);
  }
  const id = action.object as ObjectId;
  const obj = objectOf(state, id);
  const armName = action.arms[0]!;
  const noun = NOUN[id]!;
  const gripper = armName === 'arm' ? 'the gripper' : `the ${armName} gripper`;
  const open = { closed: false, holding: null };
  if (action.verb === 'pick' || action.verb === 'upright') {
    // The gripper backs off after a failed grasp, so the camera sees what happened.
    const at = { ...state, arms: moveArm(state.arms, armName, { pos: retreat(obj.pos), ...open }) };
    if (kind === 'slip') {
      const what = action.verb === 'pick' ? `the ${noun} slipped out of ${gripper}` : `${gripper} slipped off the ${noun}; it is still lying on its side`;
      return { kind, state: at, reason: what };
    }
    if (kind === 'knocked_over') {
      const pose: Pose = 'tipped';
      // A little way off; further only when the near spots are taken (a tipped bottle is long).
      const pos = restingSpot(at, id, pose, (t) => {
        const a = rng.range(0, 2 * Math.PI);
        const d = rng.range(0.02, 0.06 + t * 0.001);
        return [obj.pos[0] + d * Math.cos(a), obj.pos[1] + d * Math.sin(a)];
      }, obj.pos);
      const next = withObject(at, id, { pos, pose, angle: roundAngle(rng.range(0, 2 * Math.PI)) });
      return { kind, state: next, reason: `${gripper} knocked the ${noun} over` };
    }
    // drop while carrying
    const pose: Pose = TIPPABLE.has(id) && rng.chance(0.5) ? 'tipped' : 'upright';
    const pos = restingSpot(at, id, pose, () => randomSpot(rng), obj.pos);
    const next = withObject(at, id, { pos, pose, angle: roundAngle(rng.range(0, 2 * Math.PI)), at: { kind: 'table' } });
    return { kind, state: next, reason: `the ${noun} fell out of ${gripper} on the way and landed ${pose === 'tipped' ? 'on its side ' : ''}at ${fmt(pos)}` };
  }
  // place: the object falls short of the receptacle.
  const armPos = retreat(action.position ?? obj.pos);
  const after = { ...state, arms: moveArm(state.arms, armName, { pos: armPos, ...open }) };
  const carried = withObject(after, id, { at: { kind: 'table' } });
  const pose: Pose = TIPPABLE.has(id) && rng.chance(0.5) ? 'tipped' : 'upright';
  const pos = restingSpot(carried, id, pose, () => randomSpot(rng), obj.pos);
  const next = withObject(carried, id, { pos, pose, angle: roundAngle(rng.range(0, 2 * Math.PI)) });
  return { kind, state: next, reason: `${gripper} dropped the ${noun} on the table at ${fmt(pos)} instead of in the ${HOME_OF[id]}` };
}

export const tableMisses: MissModel<TableState> = { kinds: missKinds, ofKind: missOfKind, miss };

/**
 * A layout whose standing cups, bowls and bottles each lie on their side with chance one half, at any
 * angle: in place where the tipped footprint fits, else somewhere free on the table as a drop leaves
 * it (a tipped bottle is long and never fits near where a full table's bottle stands), and left
 * standing where neither fits. Stand-up steps otherwise come only after a knock or a drop, the
 * bottle's only once the table has room, and they are the rarest in the training data.
 */
export function tippedStart(state: TableState, rng: Rng): TableState {
  let next = state;
  for (const obj of state.objects) {
    if (!TIPPABLE.has(obj.id) || obj.pose !== 'upright' || obj.at.kind !== 'table' || !rng.chance(0.5)) continue;
    const angle = roundAngle(rng.range(0, 2 * Math.PI));
    const pos = restsAt(next, obj.id, 'tipped', obj.pos) ? obj.pos : restingSpot(next, obj.id, 'tipped', () => randomSpot(rng), obj.pos);
    // restingSpot falls back to where the object stands when nothing is free: it stays up.
    if (restsAt(next, obj.id, 'tipped', pos)) next = withObject(next, obj.id, { pos, pose: 'tipped', angle });
  }
  return next;
}

/** What goes wrong when `action` misses: one of the kinds that can happen to it, drawn with `rng`. */
export function miss(state: TableState, action: Action, rng: Rng): MissOutcome<TableState> {
  const kinds = missKinds(state, action);
  if (kinds.length === 0) throw new RangeError(`a ${action.verb} of the ${action.object} cannot miss in the table scene`);
  return missOfKind(state, action, rng.pick(kinds), rng);
}
