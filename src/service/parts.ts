import type { ModelHost } from './model-host.js';
import type { PlanQueue } from './plan-queue.js';
import type { RunRegistry } from './run-registry.js';

/** What the routes share: the model, the plan queue and the runs. */
export interface ServiceParts {
  model: ModelHost;
  queue: PlanQueue;
  runs: RunRegistry;
}
