import { z } from 'zod';
import { RunOutcome } from '../executor/run-event.js';

/** One episode of a rollout, as summary.json lists it (and a queue worker returns it). */
export const EpisodeSummary = z.object({
  episode: z.number().int(),
  seed: z.number().int(),
  success: z.boolean(),
  outcome: RunOutcome,
  reason: z.string().optional(),
  /** Steps sent to the robot, repeats included. */
  steps: z.number().int(),
  doneSteps: z.number().int(),
  misses: z.number().int(),
  replans: z.number().int(),
  /** Planning rounds after a partial plan was done (see ExecutorInput.partialPlans). */
  continuations: z.number().int(),
  planLatencyMs: z.array(z.number()),
});
export type EpisodeSummary = z.infer<typeof EpisodeSummary>;

/** An episode a queued rollout gave up on: it crashed on every attempt (summary.json's `failed`). */
export const FailedEpisode = z.object({
  episode: z.number().int(),
  seed: z.number().int(),
  /** The last attempt's error. */
  error: z.string(),
});
export type FailedEpisode = z.infer<typeof FailedEpisode>;

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
  /**
   * Present with --queue when episodes crashed on every attempt: how many. They are left out of the
   * figures (which count finished episodes) and listed in summary.json's `failed`.
   */
  failed: z.number().int().positive().optional(),
});
export type RolloutResult = z.infer<typeof RolloutResult>;
