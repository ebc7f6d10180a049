import type { PlannedStep, RobotProfile, SceneId } from '../schema/index.js';

/** What happened to one attempt at one step, as the planner sees it when it replans. */
export interface HistoryEntry {
  stepIndex: number;
  attempt: number;
  instruction: string;
  status: 'done' | 'miss' | 'rejected' | 'timeout' | 'cancelled';
  reason?: string;
}

/** A plan in memory: keyframes are PNG bytes. `version` goes up with every replan of a run. */
export interface PlanDraft {
  id: string;
  version: number;
  backend: string;
  createdAt: string;
  scene?: SceneId;
  steps: PlannedStep[];
}

/** A validation finding, as data (the validator issue fills in the checks). */
export interface PlanIssue {
  code: string;
  severity: 'error' | 'warning';
  step: number | null;
  message: string;
}

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
  signal?: AbortSignal;
}

/**
 * The one interface every planner backend implements: the sim's oracle, the embedded ONNX world model,
 * an Emu3.5 deployment. Returns the steps still to do from the observation, [] when the task is done.
 */
export interface Planner {
  readonly name: string;
  plan(request: PlanRequest): Promise<PlanDraft>;
}
