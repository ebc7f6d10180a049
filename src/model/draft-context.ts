import type { PlanRequest } from '../planner/planner.js';
import type { PlanAttempt } from './plan-attempts.js';
import type { Picture } from './picture.js';
import type { DraftSeeds } from './seed-scheme.js';
import type { PlanningModel } from './planning-model.js';

/** What every draw of one draft reads: fixed for the draft, so the text and keyframe phases share it. */
export interface DraftContext {
  readonly model: PlanningModel;
  readonly request: PlanRequest;
  /** Where this draft stands among the planner's tries. */
  readonly attempt: PlanAttempt;
  readonly seeds: DraftSeeds;
  /** request.observation as the model sees it: the first keyframe is drawn from it. */
  readonly observation: Picture;
  /** OnnxPlannerOptions.retryTemperature, resolved (see drawTemperature). */
  readonly retryTemperature: number;
  /** What a step acts on (OnnxPlannerOptions.stepSubject, else its text). */
  readonly subjectOf: (instruction: string) => string;
}
