import { z } from 'zod';
import type { RunReport } from '../executor/index.js';

/** One episode of a rollout, as summary.json lists it. */
export interface EpisodeSummary {
  episode: number;
  seed: number;
  success: boolean;
  outcome: RunReport['outcome'];
  reason?: string;
  /** Steps sent to the robot, repeats included. */
  steps: number;
  doneSteps: number;
  misses: number;
  replans: number;
  /** Planning rounds after a partial plan was done (see ExecutorInput.partialPlans). */
  continuations: number;
  planLatencyMs: number[];
}

/** What `keystep rollout --json` prints: exactly these fields. */
export const RolloutResult = z.object({
  episodes: z.number().int(),
  successes: z.number().int(),
  successRate: z.number(),
  steps: z.number().int(),
  misses: z.number().int(),
  replans: z.number().int(),
  planLatencyMs: z.object({ p50: z.number(), p95: z.number() }),
  wallS: z.number(),
  /** Present (true) when Ctrl-C stopped the rollout: the figures count the episodes that finished. */
  interrupted: z.literal(true).optional(),
});
export type RolloutResult = z.infer<typeof RolloutResult>;
