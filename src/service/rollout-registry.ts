import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EpisodeSummary } from '../run/rollout-result.js';
import { episodeRunId, rollout, type RolloutOptions } from '../run/rollout.js';
import type { ModelSource } from '../model/world-model.js';
import type { RobotProfile } from '../schema/index.js';
import { RolloutRecord, type RolloutBody, type RolloutList, type RolloutStatus } from './rollout-schema.js';
import { ServiceError } from './service-error.js';

interface Rollout {
  status: RolloutStatus;
  dir: string;
  abort: AbortController;
  done: Promise<void>;
}

/** Backends a rollout runs without the service's embedded model (the oracle draws its own keyframes). */
const MODEL_FREE_BACKENDS: ReadonlySet<string> = new Set(['oracle', 'oracle-vq', 'oracle-pal']);

/**
 * Rollouts started through POST /v1/rollouts: each is `keystep rollout` (run/rollout.ts) in this
 * process, with its own keystep sim, logged under <runs>/rollouts/<id>/ beside its request
 * (request.json). On start the registry reads the rollouts earlier starts of the service left there:
 * a finished one with its summary.json, one the service stopped in the middle of as failed, saying so.
 */
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
  ) {
    for (const status of recoverRollouts(join(options.runsDir, 'rollouts'))) {
      this.rollouts.set(status.rollout.id, { status, dir: join(options.runsDir, 'rollouts', status.rollout.id), abort: new AbortController(), done: Promise.resolve() });
    }
  }

  /** Every rollout, newest first: its settings, state and progress. */
  list(): RolloutList {
    const all = [...this.rollouts.values()].map((r) => ({ ...r.status.rollout, progress: r.status.progress }));
    return { rollouts: all.sort((a, b) => b.startedAt - a.startedAt || b.id.localeCompare(a.id)) };
  }

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
    const startedAt = Date.now();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'request.json'), `${JSON.stringify({ id, body, robot: profile.id, startedAt } satisfies RolloutRecord)}\n`);
    const status: RolloutStatus = {
      rollout: { id, state: 'running', robot: profile.id, scene: body.scene, task: body.task, backend: body.backend ?? 'onnx', seed: body.seed ?? 0, missRate: body.missRate ?? 0, startedAt },
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
        status.summary = readSummary(written);
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
    if (!found) throw new ServiceError(404, 'not_found', `no rollout "${id}" (GET /v1/rollouts lists them)`);
    return found.status;
  }

  /**
   * The contact sheet of a finished episode. Every part of the path is the service's own: the id must
   * be a rollout of this service and the episode one it has finished, so no request names a path.
   */
  sheetFile(id: string, episode: number): string {
    const found = this.rollouts.get(id);
    if (!found) throw new ServiceError(404, 'not_found', `no rollout "${id}" (GET /v1/rollouts lists them)`);
    if (!found.status.episodes.some((e) => e.episode === episode)) {
      throw new ServiceError(404, 'not_found', `episode ${episode} of rollout "${id}" has not finished (${found.status.progress.done} of ${found.status.progress.episodes} have)`);
    }
    const inner = innerDir(found.dir);
    const file = inner ? join(inner, episodeRunId(episode), 'sheet.png') : null;
    if (file === null || !existsSync(file)) throw new ServiceError(404, 'not_found', `episode ${episode} of rollout "${id}" has no sheet (its run log had no plan to draw)`);
    return file;
  }

  /** Stops every rollout still going and waits for them. */
  async close(): Promise<void> {
    for (const r of this.rollouts.values()) r.abort.abort(new Error('the service is stopping'));
    await Promise.all([...this.rollouts.values()].map((r) => r.done));
  }
}

/** rollout() names its folder after the time it started, inside the rollout's own folder: the only one there. */
function innerDir(dir: string): string | undefined {
  const inner = existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).find((d) => d.isDirectory() && d.name.startsWith('rollout-')) : undefined;
  return inner ? join(dir, inner.name) : undefined;
}

function readSummary(dir: string | undefined): Record<string, unknown> | null {
  const file = dir ? join(dir, 'summary.json') : null;
  return file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : null;
}

/**
 * The rollouts under `root` from earlier starts of the service, from each folder's request.json and,
 * when it got that far, summary.json. A folder without a readable request.json is not one of the
 * service's rollouts and is skipped.
 */
function recoverRollouts(root: string): RolloutStatus[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true }).flatMap((entry) => {
    if (!entry.isDirectory()) return [];
    const dir = join(root, entry.name);
    let record: RolloutRecord;
    try {
      record = RolloutRecord.parse(JSON.parse(readFileSync(join(dir, 'request.json'), 'utf8')));
    } catch {
      return [];
    }
    const { id, body, robot, startedAt } = record;
    if (id !== entry.name) return [];
    let summary: Record<string, unknown> | null = null;
    try {
      summary = readSummary(innerDir(dir));
    } catch {
      summary = null;
    }
    const written = summary as { result?: RolloutStatus['result']; episodes?: EpisodeSummary[] } | null;
    const episodes = written?.episodes ?? [];
    const result = written?.result ?? null;
    const state = result === null ? 'failed' : result.interrupted ? 'aborted' : 'finished';
    return [
      {
        rollout: {
          id,
          state,
          robot,
          scene: body.scene,
          task: body.task,
          backend: body.backend ?? 'onnx',
          seed: body.seed ?? 0,
          missRate: body.missRate ?? 0,
          startedAt,
          ...(result === null ? { error: `the service stopped before this rollout finished; what it wrote is in ${dir}` } : {}),
        },
        progress: { done: episodes.length, episodes: body.episodes, successes: episodes.filter((e) => e.success).length },
        episodes,
        result,
        summary,
      },
    ];
  });
}
