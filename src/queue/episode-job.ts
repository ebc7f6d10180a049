import { z } from 'zod';
import { RobotProfile, SceneId } from '../schema/index.js';
import { EpisodeSummary } from '../run/rollout-result.js';
import { KEYFRAME_SAMPLERS } from '../model/world-model.js';

/** The queue of episode jobs workers take, and the queue of rollout (parent) jobs nobody processes. */
export const EPISODE_QUEUE = 'keystep-episodes';
export const ROLLOUT_QUEUE = 'keystep-rollouts';

/** RolloutSettings on the wire: the worker re-checks what another machine wrote into Redis. */
export const RolloutSettingsData = z.object({
  profile: RobotProfile,
  scene: SceneId,
  task: z.string(),
  episodes: z.number().int().positive(),
  missRate: z.number().min(0).max(1),
  seed: z.number().int().min(0),
  backend: z.enum(['onnx', 'oracle', 'oracle-vq', 'oracle-pal']),
  replan: z.boolean(),
  partialPlans: z.boolean().optional(),
  sampler: z.enum(KEYFRAME_SAMPLERS).optional(),
  passes: z.number().int().min(1).max(16).optional(),
  keepBias: z.number().optional(),
  missedKeepBias: z.number().optional(),
  missedDraws: z.number().int().positive().optional(),
  putOffAfter: z.number().int().min(0).optional(),
});

/** One episode job: which rollout (its folder name, for the sheet's title), its settings, the index. */
export const EpisodeJobData = z.object({
  rollout: z.string(),
  settings: RolloutSettingsData,
  index: z.number().int().min(0),
});
export type EpisodeJobData = z.infer<typeof EpisodeJobData>;

/** A file of the episode's folder (run log, observations, plan keyframes, sheet), base64. */
export const EpisodeFile = z.object({ path: z.string(), base64: z.string() });
export type EpisodeFile = z.infer<typeof EpisodeFile>;

/**
 * What a worker returns for an episode: its summary and its whole epNNNN folder, carried in the job
 * result so that workers and the rollout share no file system (README, "Rollouts across several machines").
 */
export const EpisodeJobResult = z.object({ summary: EpisodeSummary, files: z.array(EpisodeFile) });
export type EpisodeJobResult = z.infer<typeof EpisodeJobResult>;

/** Progress a worker reports while an episode runs. */
export const EpisodeProgress = z.object({ episode: z.number().int(), phase: z.enum(['started', 'finished']) });
export type EpisodeProgress = z.infer<typeof EpisodeProgress>;
