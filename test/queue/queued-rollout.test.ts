import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load.js';
import { EpisodeWorker, type EpisodeWorkerEvent, type EpisodeWorkerOptions } from '../../src/queue/episode-worker.js';
import { queuedRollout } from '../../src/queue/queued-rollout.js';
import { redisOptions } from '../../src/queue/redis-url.js';
import { rollout, type RolloutSettings } from '../../src/run/rollout.js';
import { TestRedis } from '../helpers/redis.js';

/**
 * Rollouts through a real Redis on loopback (a redis-server each suite starts itself) and real BullMQ
 * workers. Four oracle episodes, enough for three workers to share them: on two cores a local rollout
 * of one tshirt episode takes about six seconds, and the suite runs the same episodes three times over.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const EPISODES = 4;
const SETTINGS: RolloutSettings = {
  profile: loadProfile('aloha-agilex'),
  scene: 'tshirt',
  task: 'fold the t-shirt',
  episodes: EPISODES,
  missRate: 0.3,
  seed: 40,
  backend: 'oracle',
  replan: true,
  partialPlans: true,
};

/** summary.json without what depends on timing (plan latencies, wall time). */
function timeless(dir: string): { options: unknown; result: Record<string, unknown>; episodes: Record<string, unknown>[]; failed?: unknown[] } {
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  const { planLatencyMs: _p, wallS: _w, ...result } = summary.result;
  return { ...summary, result, episodes: summary.episodes.map(({ planLatencyMs: _l, ...e }: Record<string, unknown>) => e) };
}

/** The files of every episode folder (names only: run logs carry timestamps). */
function episodeFiles(dir: string): Record<string, string[]> {
  return Object.fromEntries(readdirSync(dir).filter((d) => d.startsWith('ep')).map((d) => [d, readdirSync(join(dir, d)).sort()]));
}

function startWorkers(redis: TestRedis, n: number, options: Partial<EpisodeWorkerOptions> = {}): EpisodeWorker[] {
  return Array.from({ length: n }, () => new EpisodeWorker({ connection: redisOptions(redis.url, 'test'), ...options }));
}

const runsDir = mkdtempSync(join(tmpdir(), 'keystep-queue-test-'));
afterAll(() => rmSync(runsDir, { recursive: true, force: true }));

let local: { dir: string; summary: ReturnType<typeof timeless> };

describe('a queued rollout gives what the local rollout gives', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await TestRedis.start();
    const { dir } = await rollout({ ...SETTINGS, runsDir });
    local = { dir, summary: timeless(dir) };
  }, 300_000);
  afterAll(async () => redis?.stop());

  for (const workers of [1, 3]) {
    it(`the same ${EPISODES} oracle episodes through ${workers} worker${workers > 1 ? 's' : ''}: identical summary.json results, the same episode folders`, async () => {
      const pool = startWorkers(redis, workers);
      try {
        const { dir, result, failed } = await queuedRollout({ ...SETTINGS, connection: redisOptions(redis.url, 'test'), runsDir });
        expect(failed).toEqual([]);
        expect(result.failed).toBeUndefined();
        expect(timeless(dir)).toEqual(local.summary);
        expect(episodeFiles(dir)).toEqual(episodeFiles(local.dir));
        expect(existsSync(join(dir, 'summary.png'))).toBe(true);
        expect(existsSync(join(dir, 'ep0003', 'sheet.png'))).toBe(true);
      } finally {
        await Promise.all(pool.map((w) => w.close()));
      }
    }, 300_000);
  }
});

describe('faults', () => {
  it('a worker killed mid-episode: the episode goes to another worker, runs again once and is counted once', async () => {
    const redis = await TestRedis.start();
    const events: EpisodeWorkerEvent[] = [];
    // The worker to kill is a real `keystep worker` process with a short lock.
    const doomed = spawn(process.execPath, ['bin/keystep.js', 'worker', '--queue', redis.url, '--lock-ms', '1500'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let doomedErr = '';
    doomed.stderr!.on('data', (d: Buffer) => (doomedErr += d.toString()));
    let survivor: EpisodeWorker | undefined;
    try {
      const settings = { ...SETTINGS, episodes: 2 };
      const done = queuedRollout({ ...settings, connection: redisOptions(redis.url, 'test'), runsDir, pollMs: 100 });
      const deadline = Date.now() + 60_000;
      while (!/episode 0: started/.test(doomedErr)) {
        if (Date.now() > deadline || doomed.exitCode !== null) throw new Error(`the worker never started episode 0:\n${doomedErr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      doomed.kill('SIGKILL');
      [survivor] = startWorkers(redis, 1, { lockMs: 1500, onEvent: (e) => events.push(e) });
      const { result, episodes, failed } = await done;
      expect(failed).toEqual([]);
      expect(result.episodes).toBe(2);
      expect(episodes.map((e) => e.episode)).toEqual([0, 1]);
      // Episode 0 started twice in all: once on the killed worker, once (not more) on the survivor.
      expect(events.filter((e) => e.kind === 'started' && e.episode === 0)).toHaveLength(1);
      expect(doomedErr.match(/episode 0: started/g)).toHaveLength(1);
      // The rerun is the same episode: what the local rollout got for those seeds.
      expect(episodes.map(({ planLatencyMs: _l, ...e }) => e)).toEqual(local.summary.episodes.slice(0, 2));
    } finally {
      doomed.kill('SIGKILL');
      await survivor?.close();
      await redis.stop();
    }
  }, 180_000);

  it('Redis restarted mid-rollout: workers and the rollout reconnect and the rollout completes', async () => {
    const redis = await TestRedis.start({ persist: true });
    const events: EpisodeWorkerEvent[] = [];
    const pool = startWorkers(redis, 2, { lockMs: 10_000, onEvent: (e) => events.push(e) });
    try {
      const settings = { ...SETTINGS, episodes: 4 };
      let restarted: Promise<void> | undefined;
      const { result, episodes, failed } = await queuedRollout({
        ...settings,
        connection: redisOptions(redis.url, 'test'),
        runsDir,
        pollMs: 100,
        onProgress: ({ finished }) => {
          // Down for a second while episodes are in flight, after the first results are in Redis.
          if (finished >= 1 && !restarted) restarted = redis.restart(1000);
        },
      });
      expect(restarted).toBeDefined();
      await restarted;
      expect(failed).toEqual([]);
      expect(result.episodes).toBe(4);
      expect(episodes.map(({ planLatencyMs: _l, ...e }) => e)).toEqual(local.summary.episodes.slice(0, 4));
      expect(events.some((e) => e.kind === 'error')).toBe(true);
    } finally {
      await Promise.all(pool.map((w) => w.close()));
      await redis.stop();
    }
  }, 180_000);

  it('a poisoned episode ends as failed with its error after its attempts; the rollout completes without it', async () => {
    const redis = await TestRedis.start();
    const events: EpisodeWorkerEvent[] = [];
    const pool = startWorkers(redis, 1, { poison: (job) => job.index === 1, onEvent: (e) => events.push(e) });
    try {
      const settings = { ...SETTINGS, episodes: 3 };
      const { result, episodes, failed, dir } = await queuedRollout({ ...settings, connection: redisOptions(redis.url, 'test'), runsDir, attempts: 2, backoffMs: 50, pollMs: 100 });
      expect(episodes.map((e) => e.episode)).toEqual([0, 2]);
      expect(failed).toEqual([{ episode: 1, seed: 41, error: expect.stringMatching(/episode 1 is poisoned/) }]);
      expect(result).toMatchObject({ episodes: 2, failed: 1 });
      expect(events.filter((e) => e.kind === 'started' && e.episode === 1).map((e) => (e as { attempt: number }).attempt)).toEqual([1, 2]);
      expect(timeless(dir).failed).toEqual(failed);
      expect(existsSync(join(dir, 'ep0001'))).toBe(false);
    } finally {
      await Promise.all(pool.map((w) => w.close()));
      await redis.stop();
    }
  }, 180_000);
});
