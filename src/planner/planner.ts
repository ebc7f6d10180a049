import type { HistoryEntry, PlanDraft, PlanIssue, PlannedStep, RobotProfile, SceneId } from '../schema/index.js';
import type { PlanProgressListener } from './plan-progress.js';

export type { HistoryEntry, PlanDraft, PlanIssue };


/**
 * Where a repair of `previous` starts: its first step with an error, or 0 (redraw everything) when an
 * error belongs to the whole plan (step null) or there is no error to go by.
 */
export function repairFrom(rejected: readonly PlanIssue[] | undefined, steps: number): number {
  const errors = (rejected ?? []).filter((i) => i.severity === 'error');
  if (errors.length === 0 || errors.some((i) => i.step === null)) return 0;
  return Math.max(0, Math.min(steps, ...errors.map((i) => i.step!)));
}

/**
 * Checks the last of `steps` (a plan drawn so far) before a planner commits to it, and returns its
 * errors; [] when it passes. Lets a backend that draws keyframes one at a time redraw a refused one
 * on the spot instead of having the whole draft refused later.
 */
export type StepCheck = (steps: readonly PlannedStep[], request: PlanRequest) => Promise<PlanIssue[]>;

/** Checks a plan's step texts before any keyframe is drawn; returns their errors, [] when they pass. */
export type TextCheck = (instructions: readonly string[], request: PlanRequest) => Promise<PlanIssue[]>;

export interface PlanRequest {
  robot: RobotProfile;
  task: string;
  scene?: SceneId;
  /** The latest keyframe-camera frame, PNG. */
  observation: Uint8Array;
  /** Done, missed and rejected steps so far in this run, oldest first. */
  history: readonly HistoryEntry[];
  /** The version the new plan gets (1 for the first plan of a run). */
  version: number;
  /** Issues that made the validator reject earlier drafts for this same planning round. */
  rejected?: readonly PlanIssue[];
  /**
   * The draft `rejected` is about (the latest one). A backend may keep its steps before the first one
   * with an error and redraw only the rest: the kept steps passed the same checks, and a 7-step plan
   * refused for its last keyframe should not throw away six good ones.
   */
  previous?: PlanDraft;
  signal?: AbortSignal;
  /** Told about the plan as it is written (plan-progress.ts); a backend may report less or nothing. */
  onProgress?: PlanProgressListener;
}

/**
 * The one interface every planner backend implements: the sim's oracle, the embedded ONNX world model,
 * an Emu3.5 deployment. Returns the steps still to do from the observation, [] when the task is done.
 */
export interface Planner {
  readonly name: string;
  plan(request: PlanRequest): Promise<PlanDraft>;
}
