import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, type Job } from 'bullmq';
import type { RedisOptions } from 'bullmq';
import type { PlanningModel } from '../model/planning-model.js';
import type { ModelSource } from '../model/world-model.js';
import { episodeRunId, openRolloutModel, runEpisode, startSimRobot } from '../run/rollout.js';
import { EPISODE_QUEUE, EpisodeJobData, type EpisodeFile, type EpisodeJobResult, type EpisodeProgress } from './episode-job.js';

/** BullMQ's default: a worker that stops renewing its lock this long is taken for dead. */
export const DEFAULT_LOCK_MS = 30_000;

export interface EpisodeWorkerOptions {
  connection: RedisOptions;
  /** Episodes run at once in this process, each with its own sim robot (default 1). */
  concurrency?: number;
  /** The onnx backend's model directory and devices on this machine. */
  model?: ModelSource;
  /**
   * How long an episode's lock lasts without renewal: a killed worker's episode goes back to the
   * queue for another worker after about this long (and as often the queue looks for such episodes).
   */
  lockMs?: number;
  /** Test hook: episodes for which this is true crash (see the CLI's KEYSTEP_POISON_EPISODES). */
  poison?: (job: EpisodeJobData) => boolean;
  /** Told when an episode starts, finishes or fails, and about connection errors. */
  onEvent?: (event: EpisodeWorkerEvent) => void;
}

export type EpisodeWorkerEvent =
  | { kind: 'started'; rollout: string; episode: number; attempt: number }
  | { kind: 'finished'; rollout: string; episode: number; success: boolean }
  | { kind: 'failed'; rollout: string; episode: number; error: string }
  | { kind: 'error'; error: string };

/** Every file under `dir`, paths relative to it, contents base64. */
function filesOf(dir: string, prefix = ''): EpisodeFile[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) return filesOf(dir, path);
    return entry.isFile() ? [{ path, base64: readFileSync(join(dir, path)).toString('base64') }] : [];
  });
}

/**
 * A queue worker: takes episode jobs and runs each exactly as a local rollout runs one (runEpisode),
 * against a fresh sim robot per episode in a scratch folder, and returns the episode's summary and
 * its whole folder (run log, pictures, sheet). The model, when the backend needs one, is opened once
 * and shared by the episodes this process runs.
 */
export class EpisodeWorker {
  readonly worker: Worker<EpisodeJobData, EpisodeJobResult>;
  private readonly models = new Map<string, Promise<PlanningModel | undefined>>();

  constructor(private readonly options: EpisodeWorkerOptions) {
    const lockMs = options.lockMs ?? DEFAULT_LOCK_MS;
    this.worker = new Worker<EpisodeJobData, EpisodeJobResult>(EPISODE_QUEUE, (job) => this.process(job), {
      connection: options.connection,
      concurrency: options.concurrency ?? 1,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      // A killed worker's episode is retried; one that kills its worker again and again fails.
      maxStalledCount: 2,
      autorun: true,
    });
    // Without a listener an 'error' (Redis gone, a reconnect) would end the process; the worker
    // reconnects on its own.
    this.worker.on('error', (error) => options.onEvent?.({ kind: 'error', error: error.message }));
    this.worker.on('failed', (job, error) => {
      if (job) options.onEvent?.({ kind: 'failed', rollout: job.data.rollout, episode: job.data.index, error: error.message });
    });
  }

  private model(backend: EpisodeJobData['settings']['backend']): Promise<PlanningModel | undefined> {
    let model = this.models.get(backend === 'oracle' ? 'none' : 'model');
    if (!model) {
      model = openRolloutModel({ backend }, this.options.model);
      this.models.set(backend === 'oracle' ? 'none' : 'model', model);
    }
    return model;
  }

  private async process(job: Job<EpisodeJobData, EpisodeJobResult>): Promise<EpisodeJobResult> {
    const data = EpisodeJobData.parse(job.data);
    const { settings, index } = data;
    this.options.onEvent?.({ kind: 'started', rollout: data.rollout, episode: index, attempt: job.attemptsMade + 1 });
    await job.updateProgress({ episode: index, phase: 'started' } satisfies EpisodeProgress);
    if (this.options.poison?.(data)) throw new Error(`episode ${index} is poisoned (test hook KEYSTEP_POISON_EPISODES)`);
    const model = await this.model(settings.backend);
    const robot = await startSimRobot(settings);
    const dir = mkdtempSync(join(tmpdir(), 'keystep-episode-'));
    try {
      const summary = await runEpisode(settings, index, { robot, model, dir, name: data.rollout });
      if (!summary) throw new Error(`episode ${index} was aborted`);
      await job.updateProgress({ episode: index, phase: 'finished' } satisfies EpisodeProgress);
      this.options.onEvent?.({ kind: 'finished', rollout: data.rollout, episode: index, success: summary.success });
      return { summary, files: filesOf(join(dir, episodeRunId(index))) };
    } finally {
      await robot.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Finishes the episodes in flight (or, with force, leaves them to another worker) and disconnects. */
  async close(force = false): Promise<void> {
    await this.worker.close(force);
    for (const model of this.models.values()) await (await model.catch(() => undefined))?.close();
  }
}
