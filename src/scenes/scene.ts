import type { Action, Point2, RobotProfile, SceneId } from '../schema/index.js';
import type { SequenceCheck } from './sequence.js';
import type { Rng } from '../util/rng.js';

/** One gripper as the simulator tracks it. Scenes move grippers as part of every action. */
export interface ArmState {
  name: string;
  /** Gripper position in the table frame (metres). */
  pos: Point2;
  /** Closed gripper: holding something or pinching cloth. */
  closed: boolean;
  /** Vocabulary id of what the gripper holds ("cup", "shirt.bottom_left"), or null. */
  holding: string | null;
}

/** What every scene state has in common. Scene states are plain JSON: logs and tests can diff them. */
export interface SceneStateBase {
  scene: SceneId;
  arms: ArmState[];
}

/** One step of the oracle: what to say, what it means, and the state it should lead to. */
export interface OracleStep<S> {
  instruction: string;
  action: Action;
  next: S;
}

/**
 * An instruction read against the scene's vocabulary. Fields the words leave open (which arm, which
 * rack slot, where "aside" is) are left undefined: the controller fills them from the keyframe.
 */
export interface ActionTemplate {
  verb: Action['verb'];
  object: string;
  part?: string;
  target?: string;
  /** Arms named by the instruction ("with the left arm", "with both hands"); undefined = any. */
  arms?: string[];
}

export type ParseResult =
  | { ok: true; template: ActionTemplate }
  | { ok: false; reason: string; unknownWords: string[] };

/** One thing the robot could do for an instruction, and where it would leave the scene. */
export interface Candidate<S> {
  action: Action;
  next: S;
}

export type CandidateResult<S> =
  | { ok: true; candidates: Candidate<S>[] }
  /** The instruction is understood but impossible here: no such arm, nothing held, already folded. */
  | { ok: false; reason: string };

export type TaskResult<G> = { ok: true; goal: G } | { ok: false; reason: string };

export interface Vocabulary {
  /** Object ids and the words that name them. */
  objects: Record<string, string[]>;
  /** Part ids and the words that name them. */
  parts: Record<string, string[]>;
  /** Target ids (receptacles, places) and the words that name them. */
  targets: Record<string, string[]>;
}

/** A camera view to draw: the mount decides the projection, the arm picks the wrist to follow. */
export interface View {
  mount: 'overhead' | 'front' | 'low' | 'left_wrist' | 'right_wrist' | 'wrist';
  /** For wrist views: the arm the camera rides on. */
  arm?: string;
}

/**
 * A scene of the task domain: its words, rules, oracle and drawing. Pure: every function maps inputs to outputs, randomness comes in as an Rng.
 * `S` is the scene's state type, `G` what a task asks of it.
 */
export interface SceneModule<S extends SceneStateBase, G> {
  id: SceneId;
  /** Task phrases this scene knows, the first being the full task. */
  tasks: readonly string[];
  vocabulary: Vocabulary;
  parseTask(text: string): TaskResult<G>;
  /** A seeded start state for this robot (object layout, shirt pose, arms at home). */
  initial(profile: RobotProfile, rng: Rng): S;
  isGoal(state: S, goal: G): boolean;
  /**
   * The remaining steps from any state, failure states included; [] at the goal. Throws
   * UnsupportedTaskError when the robot cannot do the task at all (a T-shirt fold needs two arms).
   */
  oracle(state: S, goal: G, profile: RobotProfile): OracleStep<S>[];
  parseInstruction(text: string, profile: RobotProfile): ParseResult;
  /** Every outcome consistent with the template from this state, distinct in what a camera sees. */
  candidates(state: S, template: ActionTemplate, profile: RobotProfile): CandidateResult<S>;
  /** The validator's sequence rules for this scene (sequence.ts), next to the scene's own rules. */
  checkSequence(...args: Parameters<SequenceCheck<G>>): ReturnType<SequenceCheck<G>>;
  /** SVG elements (no <svg> wrapper) in table millimetres, see geometry.toSvg; grippers excluded. */
  draw(state: S, view: View): string;
}

export class UnsupportedTaskError extends Error {
  override readonly name = 'UnsupportedTaskError' as const;
  constructor(
    message: string,
    readonly context: { scene: SceneId; robot: string; task?: string },
  ) {
    super(message);
  }
}
