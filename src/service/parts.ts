import type { ModelHost } from './model-host.js';
import type { PlanMaker } from './plan-maker.js';
import type { PlanQueue } from './plan-queue.js';
import type { RolloutRegistry } from './rollout-registry.js';
import type { RunRegistry } from './run-registry.js';

/** What the routes share: the model, what plans requests (the model or a worker), the plan queue, the runs and the rollouts. */
export interface ServiceParts {
  model: ModelHost;
  plans: PlanMaker;
  queue: PlanQueue;
  runs: RunRegistry;
  rollouts: RolloutRegistry;
}
