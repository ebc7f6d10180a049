import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FlowProducer, Job, Queue, type RedisOptions } from 'bullmq';
import { checkTask } from '../scenes/task-check.js';
import { rolloutName, rolloutResult, writeRolloutSummary, type RolloutOptions, type RolloutSettings } from '../run/rollout.js';
import type { EpisodeSummary, FailedEpisode, RolloutResult } from '../run/rollout-result.js';
import { EPISODE_QUEUE, EpisodeJobResult, ROLLOUT_QUEUE, type EpisodeJobData } from './episode-job.js';

export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_BACKOFF_MS = 1000;

export interface QueueProgress {
  total: number;
  /** Episodes finished (their result is in Redis). */
  finished: number;
  /** Episodes that crashed on every attempt. */
  failed: number;
}

export interface QueuedRolloutOptions extends Omit<RolloutOptions, 'model' | 'onEpisode'> {
  connection: RedisOptions;
  /** Tries per episode before it counts as failed (default 3). */
  attempts?: number;
  /** First retry's delay; it doubles with every retry (default 1 s). */
  backoffMs?: number;
  /** How often the rollout looks at the queue (default 500 ms). */
  pollMs?: number;
  onProgress?: (progress: QueueProgress) => void;
  /** Told when the queue is unreachable (the rollout keeps waiting for it). */
  onError?: (message: string) => void;
}

/** When (epoch ms) the flow was sent to Redis and when its results were read back (bench/scale.ts). */
export interface QueueTimings {
  enqueuedAt: number;
  collectedAt: number;
}

function settingsOf(options: QueuedRolloutOptions): RolloutSettings {
  const keys = ['profile', 'scene', 'task', 'episodes', 'missRate', 'seed', 'backend', 'replan', 'partialPlans', 'sampler', 'passes', 'keepBias', 'missedKeepBias', 'missedDraws', 'putOffAfter'] as const;
  return Object.fromEntries(keys.filter((k) => options[k] !== undefined).map((k) => [k, options[k]])) as unknown as RolloutSettings;
}

/** The job id of episode i of a rollout; BullMQ ids may not contain ':'. */
function episodeJobId(rollout: string, index: number): string {
  return `${rollout}-ep${index}`;
}

function indexOfKey(key: string): number {
  const match = /-ep(\d+)$/.exec(key);
  if (!match) throw new Error(`unexpected episode job key ${key}`);
  return Number(match[1]);
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * A rollout whose episodes run on queue workers (`keystep worker`), possibly on many machines: a
 * BullMQ flow with a parent job (in a queue no worker takes) and one child job per episode, each with
 * `attempts` and exponential backoff. When every child has finished or failed for good, the parent's
 * children values give the episodes' summaries and folders; they are written into the rollout's folder
 * exactly where a local rollout writes them, with the same summary.json and summary.png, and the flow
 * is removed from Redis. Episodes that failed on every attempt are listed in summary.json's `failed`.
 * Ctrl-C (`signal`) drops the episodes not started, keeps the finished ones and says `interrupted`.
 */
export async function queuedRollout(options: QueuedRolloutOptions): Promise<{ result: RolloutResult; episodes: EpisodeSummary[]; failed: FailedEpisode[]; dir: string; timings: QueueTimings }> {
  const start = performance.now();
  checkTask(options.task, options.profile, options.scene);
  const settings = settingsOf(options);
  const name = rolloutName(options);
  const dir = join(options.runsDir, name);
  const flows = new FlowProducer({ connection: options.connection });
  const rollouts = new Queue(ROLLOUT_QUEUE, { connection: options.connection });
  // Completed events carry the episode's result: keep few of them, Redis memory is for results.
  const episodesQueue = new Queue(EPISODE_QUEUE, { connection: options.connection, streams: { events: { maxLen: 100 } } });
  const errorListener = (error: Error) => options.onError?.(error.message);
  flows.on('error', errorListener);
  rollouts.on('error', errorListener);
  episodesQueue.on('error', errorListener);
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
  let interrupted = false;
  try {
    await episodesQueue.waitUntilReady();
    const enqueuedAt = Date.now();
    const { job } = await flows.add({
      name: 'rollout',
      queueName: ROLLOUT_QUEUE,
      opts: { jobId: name },
      data: { rollout: name, episodes: options.episodes },
      children: Array.from({ length: options.episodes }, (_, index) => ({
        name: 'episode',
        queueName: EPISODE_QUEUE,
        data: { rollout: name, settings, index } satisfies EpisodeJobData,
        opts: {
          jobId: episodeJobId(name, index),
          attempts,
          backoff: { type: 'exponential', delay: options.backoffMs ?? DEFAULT_BACKOFF_MS },
          // A failed episode lets the rollout finish; its error is kept on the parent.
          ignoreDependencyOnFailure: true,
          // Its result lives on in the parent's children values until the rollout collects it.
          removeOnComplete: true,
        },
      })),
    });
    const parentId = job.id!;
    let parent: Job | undefined;
    for (;;) {
      parent = await Job.fromId(rollouts, parentId);
      if (!parent) throw new Error(`rollout job ${parentId} vanished from Redis (was Redis flushed, or restarted without persistence?)`);
      // The state before the counts: once the parent stops waiting, the counts read after it are
      // final, so the last report says every episode (read the other way round, the last child
      // could finish between the two reads and its report never come).
      const waiting = (await parent.getState()) === 'waiting-children';
      const counts = await parent.getDependenciesCount();
      const failedCount = (counts.ignored ?? 0) + (counts.failed ?? 0);
      options.onProgress?.({ total: options.episodes, finished: counts.processed ?? 0, failed: failedCount });
      if (!waiting) break;
      if (options.signal?.aborted) {
        interrupted = true;
        // Episodes not started are dropped; those running finish on their workers unseen.
        await parent.removeUnprocessedChildren().catch(() => undefined);
        break;
      }
      await sleep(options.pollMs ?? 500, options.signal);
    }
    const values = await parent.getChildrenValues<unknown>();
    const failures = await parent.getIgnoredChildrenFailures();
    const collectedAt = Date.now();
    const episodes: EpisodeSummary[] = [];
    for (const [key, value] of Object.entries(values)) {
      const { summary, files } = EpisodeJobResult.parse(value);
      if (summary.episode !== indexOfKey(key)) throw new Error(`job ${key} returned episode ${summary.episode}`);
      for (const file of files) {
        const path = join(dir, `ep${String(summary.episode).padStart(4, '0')}`, file.path);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, Buffer.from(file.base64, 'base64'));
      }
      episodes.push(summary);
    }
    episodes.sort((a, b) => a.episode - b.episode);
    const failed: FailedEpisode[] = Object.entries(failures)
      .map(([key, error]) => ({ episode: indexOfKey(key), seed: options.seed + indexOfKey(key), error }))
      .sort((a, b) => a.episode - b.episode);
    const result = rolloutResult(episodes, (performance.now() - start) / 1000, { interrupted, failed: failed.length });
    await writeRolloutSummary(dir, settings, result, episodes, failed);
    // Collected: the results leave Redis (children first; a running child of an interrupted rollout stays).
    await rollouts.remove(parentId, { removeChildren: true }).catch(() => undefined);
    return { result, episodes, failed, dir, timings: { enqueuedAt, collectedAt } };
  } finally {
    await flows.close();
    await rollouts.close();
    await episodesQueue.close();
  }
}
