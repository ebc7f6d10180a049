import type { Point2 } from '../schema/action.js';
import { issue, type PlanIssue } from '../schema/plan-issue.js';
import type { RobotProfile, Verb } from '../schema/robot-profile.js';
// Named apart from this file's own Holding (an arm's state in the abstract model, unknown included).
import type { Holding as ReportedHolding } from '../schema/step-feedback.js';
import type { StepOutcome } from '../schema/history.js';

/*
 * The validator's view of a plan's sequence, shared by every scene: what each step means, what the
 * observation and the run so far tell about the start, and the three-valued arm state each scene's
 * sequence rules (table/sequence.ts, tshirt/sequence.ts) build on.
 */

/** What one step means, read from its instruction (and its action where the planner gave one). */
export interface StepMeaning {
  step: number;
  verb: Verb;
  object: string;
  part?: string;
  target?: string;
  /** Acting arms; undefined when neither the words nor the action say (any free arm). */
  arms?: string[];
}

/** Where the observation shows each scene object at the start, and which grippers wait empty at home. */
export interface ObservedStart {
  objects: Partial<Record<string, 'table' | 'stowed' | 'near_gripper' | 'absent'>>;
  /** Table frame position (metres) of objects seen on the table, from their blob in the observation. */
  positions?: Partial<Record<string, Point2>>;
  /** Whether a cup, bowl or bottle seen on the table stands or lies tipped over, where its footprint says. */
  poses?: Partial<Record<string, 'upright' | 'tipped'>>;
  /** Arms whose gripper is at its home position: they hold nothing. */
  emptyArms: string[];
}

/** A step of the run so far, as the robot reported it (see PlanRequest.history). */
export interface PastStep {
  meaning: StepMeaning;
  status: StepOutcome;
  /** What the robot said each gripper holds after the step (StepFeedback.holding), when it said. */
  holding?: ReportedHolding;
}

/** The run's task, and whether the plan is empty: the planner's "nothing left to do". */
export interface TaskCheck {
  text: string;
  emptyPlan: boolean;
}

/**
 * A scene's sequence rules: preconditions and effects on an abstract state built from the run so far
 * (`past`), the observation and the plan's own steps. `goal` is the run's task read by the scene, with
 * how to report what the plan's end state leaves undone; undefined when the task is not checked.
 */
export type SequenceCheck<G> = (
  steps: readonly StepMeaning[],
  profile: RobotProfile,
  start: ObservedStart | undefined,
  past: readonly PastStep[],
  goal: (G & { say: SayUndone }) | undefined,
) => PlanIssue[];

/** How what the end state leaves undone is reported: task_incomplete, or task_not_done for an empty plan. */
export type SayUndone = (missing: readonly string[]) => PlanIssue;

/** "the cup", "the cup and the plate", "the cup, the plate and the fork". */
function andList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]!}`;
}

export function incomplete(task: string, missing: readonly string[]): PlanIssue {
  return issue('task_incomplete', null, `the plan ends with ${andList(missing)}, so "${task}" is not done: the run plans again after these steps`);
}

export function notDone(task: string, missing: readonly string[]): PlanIssue {
  return issue('task_not_done', null, `the plan is empty ("nothing left to do"), but "${task}" is not done: ${andList(missing)}`);
}

export const UNKNOWN = Symbol('unknown');
export type Holding = string | null | typeof UNKNOWN;

export function armsState(profile: RobotProfile, start?: ObservedStart): Map<string, Holding> {
  const arms = new Map<string, Holding>();
  for (const a of profile.arms) arms.set(a.name, start?.emptyArms.includes(a.name) ? null : UNKNOWN);
  return arms;
}

export const armWords = (name: string) => (name === 'arm' ? 'the arm' : `the ${name} arm`);

