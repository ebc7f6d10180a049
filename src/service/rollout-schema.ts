import { z } from 'zod';
import { EpisodeSummary, RolloutResult } from '../run/rollout-result.js';
import { BACKENDS } from '../run/session.js';
import { SceneId } from '../schema/index.js';
import { RobotRef, RunId, Task } from './api-schema.js';

/** POST /v1/rollouts: what `keystep rollout` takes, episodes against the service's own keystep sim. */
export const RolloutBody = z.strictObject({
  robot: RobotRef,
  scene: SceneId,
  task: Task,
  episodes: z.number().int().min(1).max(1000),
  seed: z.number().int().min(0).max(2 ** 31 - 1).optional().describe('default 0; episode i is seeded from it'),
  missRate: z.number().min(0).max(1).optional().describe("the simulated robot's chance of missing a step (default 0)"),
  backend: z.enum(BACKENDS).optional().describe('default onnx'),
  replan: z.boolean().optional().describe('replan after a miss (default true)'),
});
export type RolloutBody = z.infer<typeof RolloutBody>;

export const RolloutState = z.enum(['running', 'finished', 'failed', 'aborted']);
export type RolloutState = z.infer<typeof RolloutState>;

export const RolloutStatus = z.object({
  rollout: z.object({
    id: RunId,
    state: RolloutState,
    robot: z.string(),
    scene: SceneId,
    task: z.string(),
    backend: z.string(),
    seed: z.number().int().describe('episode i runs with seed + i'),
    missRate: z.number(),
    startedAt: z.number().describe('ms since the epoch'),
    error: z.string().optional().describe('why the rollout stopped without finishing'),
  }),
  progress: z.object({ done: z.number().int(), episodes: z.number().int(), successes: z.number().int() }),
  episodes: z.array(EpisodeSummary).describe('the episodes finished so far'),
  result: RolloutResult.nullable().describe('what `keystep rollout --json` prints, once finished'),
  summary: z.record(z.string(), z.unknown()).nullable().describe("the rollout's summary.json, once finished"),
});
export type RolloutStatus = z.infer<typeof RolloutStatus>;

export const RolloutList = z.object({
  rollouts: z.array(RolloutStatus.shape.rollout.extend({ progress: RolloutStatus.shape.progress })).describe('newest first, those of earlier starts of the service included'),
});
export type RolloutList = z.infer<typeof RolloutList>;

/** What a rollout's folder keeps of its request (request.json), so a restarted service lists it. */
export const RolloutRecord = z.object({ id: RunId, body: RolloutBody, robot: z.string(), startedAt: z.number() });
export type RolloutRecord = z.infer<typeof RolloutRecord>;

export const RolloutCreated = z.object({ id: RunId, url: z.string() });
export type RolloutCreated = z.infer<typeof RolloutCreated>;

export const EpisodeSheetParams = z.strictObject({
  id: RunId,
  episode: z.coerce.number().int().min(0).max(999).describe('0-based, as the rollout lists its episodes'),
});
