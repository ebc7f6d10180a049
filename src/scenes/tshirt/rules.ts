import type { FoldId } from './model.js';

/**
 * The order of the T-shirt fold, written once: the simulator's candidates refuse a step that breaks
 * it, and the validator's sequence check refuses a plan that does. A milestone is one visible result
 * of the fold; each has what must be done before it and what covers it once begun.
 */
export type Milestone = FoldId | 'collar' | 'aside';

/** Done before each milestone: the bottom goes over folded sleeves, the half fold over the bottom and a tidy collar. */
export const PREREQUISITES: Readonly<Record<Milestone, readonly Milestone[]>> = {
  collar: [],
  left_sleeve: [],
  right_sleeve: [],
  bottom: ['left_sleeve', 'right_sleeve'],
  half: ['bottom', 'collar'],
  aside: ['half'],
};

/** Milestones that lie on top of another once begun, so the one underneath can no longer be made. */
export const COVERED_BY: Readonly<Record<Milestone, readonly Milestone[]>> = {
  collar: ['half'],
  left_sleeve: ['bottom', 'half'],
  right_sleeve: ['bottom', 'half'],
  bottom: [],
  half: [],
  aside: [],
};
