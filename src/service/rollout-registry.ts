import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EpisodeSummary } from '../run/rollout-result.js';
import { episodeRunId, rollout, type RolloutOptions } from '../run/rollout.js';
import type { ModelSource } from '../model/world-model.js';
import type { RobotProfile } from '../schema/index.js';
import type { RolloutBody, RolloutStatus } from './rollout-schema.js';
import { ServiceError } from './service-error.js';

interface Rollout {
  status: RolloutStatus;
  dir: string;
  abort: AbortController;
  done: Promise<void>;
}

/**
 * Rollouts started through POST /v1/rollouts: each is `keystep rollout` (run/rollout.ts) in this
 * process, with its own keystep sim, logged under <runs>/rollouts/<id>/. Kept in memory; the files
 * stay when the service stops.
 */
/** Backends a rollout runs without the service's embedded model (the oracle draws its own keyframes). */
const MODEL_FREE_BACKENDS: ReadonlySet<string> = new Set(['oracle', 'oracle-vq', 'oracle-pal']);

export class RolloutRegistry {
  private readonly rollouts = new Map<string, Rollout>();
  private seq = 0;

  constructor(
    private readonly options: {
      runsDir: string;
      model: ModelSource | null;
      /** At most this many at once; another is a 409 (each runs a sim and, for onnx, a model). */
      maxActive?: number;
      run?: (options: RolloutOptions) => ReturnType<typeof rollout>;
    },
  ) {}

  get activeCount(): number {
    return [...this.rollouts.values()].filter((r) => r.status.rollout.state === 'running').length;
  }

  start(body: RolloutBody, profile: RobotProfile): string {
    const max = this.options.maxActive ?? 2;
    if (this.activeCount >= max) throw new ServiceError(409, 'conflict', `${max} rollouts are running already; wait for one to finish (GET /v1/rollouts/{id})`);
    if (!MODEL_FREE_BACKENDS.has(body.backend ?? 'onnx') && this.options.model === null) {
      throw new ServiceError(503, 'unavailable', 'this service runs without an embedded model; the onnx backend is not available');
    }
    const id = `rollout-${Date.now().toString(36)}-${++this.seq}`;
    const dir = join(this.options.runsDir, 'rollouts', id);
    const abort = new AbortController();
    const status: RolloutStatus = {
      rollout: { id, state: 'running', robot: profile.id, scene: body.scene, task: body.task, backend: body.backend ?? 'onnx', seed: body.seed ?? 0, missRate: body.missRate ?? 0, startedAt: Date.now() },
      progress: { done: 0, episodes: body.episodes, successes: 0 },
      episodes: [],
      result: null,
      summary: null,
    };
    const run = this.options.run ?? rollout;
    const done = run({
      profile,
      scene: body.scene,
      task: body.task,
      episodes: body.episodes,
      missRate: body.missRate ?? 0,
      seed: body.seed ?? 0,
      backend: body.backend ?? 'onnx',
      replan: body.replan ?? true,
      runsDir: dir,
      ...(this.options.model ? { model: this.options.model } : {}),
      signal: abort.signal,
      onEpisode: (count: number, episode: EpisodeSummary) => {
        status.progress = { done: count, episodes: body.episodes, successes: status.progress.successes + (episode.success ? 1 : 0) };
        status.episodes.push(episode);
      },
    }).then(
      ({ result, dir: written }) => {
        status.result = result;
        const file = join(written, 'summary.json');
        if (existsSync(file)) status.summary = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
        status.rollout.state = result.interrupted ? 'aborted' : 'finished';
      },
      (error: unknown) => {
        status.rollout.state = abort.signal.aborted ? 'aborted' : 'failed';
        status.rollout.error = (error as Error).message;
      },
    );
    this.rollouts.set(id, { status, dir, abort, done });
    return id;
  }

  get(id: string): RolloutStatus {
    const found = this.rollouts.get(id);
    if (!found) throw new ServiceError(404, 'not_found', `no rollout "${id}" (rollouts are kept until the service stops)`);
    return found.status;
  }

  /**
   * The contact sheet of a finished episode. Every part of the path is the service's own: the id must
   * be a rollout of this service and the episode one it has finished, so no request names a path.
   */
  sheetFile(id: string, episode: number): string {
    const found = this.rollouts.get(id);
    if (!found) throw new ServiceError(404, 'not_found', `no rollout "${id}" (rollouts are kept until the service stops)`);
    if (!found.status.episodes.some((e) => e.episode === episode)) {
      throw new ServiceError(404, 'not_found', `episode ${episode} of rollout "${id}" has not finished (${found.status.progress.done} of ${found.status.progress.episodes} have)`);
    }
    // rollout() names its folder after the time it started, inside this rollout's own folder: the only one there.
    const inner = existsSync(found.dir) ? readdirSync(found.dir, { withFileTypes: true }).find((d) => d.isDirectory() && d.name.startsWith('rollout-')) : undefined;
    const file = inner ? join(found.dir, inner.name, episodeRunId(episode), 'sheet.png') : null;
    if (file === null || !existsSync(file)) throw new ServiceError(404, 'not_found', `episode ${episode} of rollout "${id}" has no sheet (its run log had no plan to draw)`);
    return file;
  }

  /** Stops every rollout still going and waits for them. */
  async close(): Promise<void> {
    for (const r of this.rollouts.values()) r.abort.abort(new Error('the service is stopping'));
    await Promise.all([...this.rollouts.values()].map((r) => r.done));
  }
}
