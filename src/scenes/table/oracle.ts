import type { RobotProfile } from '../../schema/index.js';
import type { Candidate, OracleStep } from '../scene.js';
import { UnsupportedTaskError } from '../scene.js';
import { armStateOf, candidates, fmt, isGoal, isObjectId, uprightArms } from './logic.js';
import type { ObjectId, TableGoal, TableState } from './model.js';
import { HOME_OF, OBJECT_IDS, carryingArms, objectOf, reachableFreeSlots } from './model.js';
import { NOUN, parseInstruction } from './words.js';

/*
 * The table's oracle: from any state, failure states included, the steps that clear what the goal
 * asks for, each read back through the scene's own words so the controller can match it.
 */

function say(verb: 'pick' | 'place' | 'upright', id: ObjectId, arm: string | undefined): string {
  const noun = NOUN[id]!;
  const withArm = arm === undefined ? '' : ` with the ${arm} arm`;
  switch (verb) {
    case 'pick':
      return `pick up the ${noun}${withArm}`;
    case 'place':
      return `put the ${noun} in the ${HOME_OF[id]}`;
    case 'upright':
      return `stand the ${noun} upright${withArm}`;
  }
}

/** Reads the instruction back and takes the candidate `choose` picks, so every step is one the controller can match. */
function step(
  state: TableState,
  instruction: string,
  profile: RobotProfile,
  choose: (c: Candidate<TableState>) => boolean,
): OracleStep<TableState> {
  const parsed = parseInstruction(instruction, profile);
  if (!parsed.ok) throw new Error(`oracle instruction "${instruction}" does not parse: ${parsed.reason}`);
  const found = candidates(state, parsed.template, profile);
  if (!found.ok) throw new Error(`oracle instruction "${instruction}" is refused: ${found.reason}`);
  const c = found.candidates.find(choose);
  if (!c) throw new Error(`oracle instruction "${instruction}" has no matching candidate`);
  return { instruction, action: c.action, next: c.next };
}

function nextStep(state: TableState, goal: TableGoal, profile: RobotProfile): OracleStep<TableState> {
  const named = profile.arms.length > 1;
  // 1. Finish what the grippers hold: put it where it belongs, in the first free slot the arm reaches.
  for (const arm of profile.arms) {
    const held = armStateOf(state, arm.name).holding;
    if (held === null || !isObjectId(held)) continue;
    const slot = reachableFreeSlots(state, held, arm)[0];
    if (slot === undefined) throw new Error(`${arm.name} arm holds the ${held} and reaches no free slot`);
    return step(state, say('place', held, undefined), profile, (c) => c.action.slot === slot);
  }
  // 2. The next goal object still out on the table, in a fixed order.
  for (const id of OBJECT_IDS) {
    if (!goal.objects.includes(id)) continue;
    const obj = objectOf(state, id);
    if (obj.at.kind !== 'table') continue;
    if (obj.pose === 'tipped') {
      const arm = uprightArms(state, obj, profile)[0];
      if (!arm) throw new UnsupportedTaskError(`no arm of ${profile.id} reaches the ${id} at ${fmt(obj.pos)}`, { scene: 'table', robot: profile.id, task: goal.task });
      return step(state, say('upright', id, named ? arm.name : undefined), profile, (c) => c.action.arms[0] === arm.name);
    }
    const arm = carryingArms(state, id, obj.pos, profile.arms).find((a) => armStateOf(state, a.name).holding === null);
    if (!arm) {
      throw new UnsupportedTaskError(`no arm of ${profile.id} can carry the ${id} at ${fmt(obj.pos)} to the ${HOME_OF[id]}`, {
        scene: 'table',
        robot: profile.id,
        task: goal.task,
      });
    }
    return step(state, say('pick', id, named ? arm.name : undefined), profile, (c) => c.action.arms[0] === arm.name);
  }
  throw new Error('table oracle: not at the goal but nothing left to do');
}

export function oracle(state: TableState, goal: TableGoal, profile: RobotProfile): OracleStep<TableState>[] {
  for (const verb of ['pick', 'place'] as const) {
    if (!profile.primitives.includes(verb)) {
      throw new UnsupportedTaskError(`${profile.id} has no "${verb}" primitive; clearing the table needs pick and place`, {
        scene: 'table',
        robot: profile.id,
        task: goal.task,
      });
    }
  }
  const steps: OracleStep<TableState>[] = [];
  let s = state;
  while (!isGoal(s, goal)) {
    if (steps.length > 40) throw new Error('table oracle: no plan within 40 steps');
    const next = nextStep(s, goal, profile);
    steps.push(next);
    s = next.next;
  }
  return steps;
}
