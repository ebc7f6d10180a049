import type { Action } from '../../src/schema/index.js';
import type { Rng } from '../../src/util/rng.js';

/** The ways real grasps fail, as the miss model produces them. */
export type MissKind = 'slip' | 'drop' | 'partial_fold' | 'knocked_over';
export const MISS_KINDS: readonly MissKind[] = ['slip', 'drop', 'partial_fold', 'knocked_over'];

export interface MissOutcome<S> {
  kind: MissKind;
  state: S;
  /** For people and logs: "the cup slipped out of the left gripper". */
  reason: string;
}

/**
 * What goes wrong when a step misses, per scene. Pure: the outcome depends only on the state, the
 * action and the Rng passed in, so a rollout's misses are reproducible from its seed.
 */
export interface MissModel<S> {
  /** The miss kinds that can happen to `action` (a candidate from `state`). */
  kinds(state: S, action: Action): MissKind[];
  /** A miss of one kind; throws RangeError for a kind `kinds` does not list. */
  ofKind(state: S, action: Action, kind: MissKind, rng: Rng): MissOutcome<S>;
  /** One of the kinds that can happen, drawn with `rng`. */
  miss(state: S, action: Action, rng: Rng): MissOutcome<S>;
}
