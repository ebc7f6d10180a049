import { OnnxPlanner } from '../model/onnx-planner.js';
import type { KeyframeSampler } from '../model/world-model.js';
import type { Planner } from '../planner/planner.js';
import { keyframeGate, stepSubject, textGate } from '../validate/index.js';
import type { ModelHost } from './model-host.js';
import { WorkerPlanner } from './worker-planner.js';

export interface PlannerChoice {
  seed: number;
  sampler?: KeyframeSampler;
  /** DiDA passes per keyframe; undefined: the model's default. */
  passes?: number;
}

/** Makes the planner one request to /v1/plans or /v1/plans/stream plans with. */
export interface PlanMaker {
  /** What plans (`onnx`, or the worker's URL): for logs and errors. */
  readonly name: string;
  planner(choice: PlannerChoice): Promise<Planner>;
  close?(): Promise<void>;
}

/** The embedded model: the same planner a run's onnx backend builds (run/session.ts), one per request. */
export function embeddedPlans(model: ModelHost): PlanMaker {
  return {
    name: 'onnx',
    async planner({ seed, sampler, passes }) {
      return new OnnxPlanner(await model.model(), { seed, check: keyframeGate(), textCheck: textGate(), stepSubject, ...(sampler ? { sampler } : {}), ...(passes !== undefined ? { passes } : {}) });
    },
  };
}

/**
 * A model worker at `url` (keystep serve --worker): one connection for every request, which the plan
 * queue hands it one at a time. Each request's seed goes with it (and a refused draft with a retry);
 * sampler and passes are the worker's own.
 */
export function workerPlans(url: string): PlanMaker {
  const planner = new WorkerPlanner(url);
  return { name: url, planner: async ({ seed }) => planner.withSeed(seed), close: () => planner.close() };
}
