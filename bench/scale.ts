/**
 * How a queued rollout scales on this machine, measured in one run against a redis-server of its own
 * on a free loopback port:
 *   1. the local rollout (no queue), for reference;
 *   2. the same episodes through 1 `keystep worker` process, then through 2;
 *   3. the queue's own cost per episode, single-episode rollouts to an idle worker: enqueue -> start
 *      (job added to a worker taking it) and result -> collected (worker done to the rollout holding
 *      the summary and folder; includes the rollout's 500 ms polling).
 * Prints episodes per minute and the ratios; README "Rollouts across several machines" uses them.
 *
 *   npx tsx bench/scale.ts [--episodes 6] [--scene tshirt|table]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Job } from 'bullmq';
import { defaultTask } from '../src/cli/commands/sheet.js';
import { loadProfile } from '../src/profile/load.js';
import { EpisodeWorker } from '../src/queue/episode-worker.js';
import type { EpisodeJobData, EpisodeJobResult } from '../src/queue/episode-job.js';
import { queuedRollout } from '../src/queue/queued-rollout.js';
import { redisOptions } from '../src/queue/redis-url.js';
import { rollout, type RolloutSettings } from '../src/run/rollout.js';
import { percentile, round } from '../src/run/stats.js';
import { SceneId } from '../src/schema/index.js';
import { TestRedis } from '../test/helpers/redis.js';
import { benchFlags } from './flags.js';

const flags = benchFlags('npx tsx bench/scale.ts [--episodes 6] [--scene tshirt|table]', { episodes: 'string', scene: 'string' });
const episodes = flags.int('episodes', 6, { min: 1, max: 100_000 });
const scene = flags.choice('scene', SceneId.options, 'tshirt');
const ROOT = resolve(import.meta.dirname, '..');
const settings: RolloutSettings = { profile: loadProfile('aloha-agilex'), scene, task: defaultTask(scene), episodes, missRate: 0.15, seed: 0, backend: 'oracle', replan: true, partialPlans: true };
const runsDir = mkdtempSync(join(tmpdir(), 'keystep-bench-scale-'));
const redis = await TestRedis.start();
const connection = redisOptions(redis.url, 'bench');
const perMinute = (n: number, seconds: number) => round((n / seconds) * 60, 2);

/** `keystep worker` processes, as on worker machines; resolves once each says it is taking episodes. */
async function workerProcesses(n: number): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from({ length: n }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/keystep-src.ts', 'worker', '--queue', redis.url], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      return new Promise<ChildProcess>((ready, fail) => {
        let err = '';
        child.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          if (err.includes('taking episodes')) ready(child);
        });
        child.once('exit', (code) => fail(new Error(`worker exited with ${code}: ${err}`)));
      });
    }),
  );
}

async function stop(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map((c) => new Promise((r) => (c.once('exit', r), c.kill('SIGTERM')))));
}

try {
  console.log(`${episodes} oracle ${scene} episodes per setting, ${cpus().length} cores; redis-server on ${redis.url}`);
  let start = performance.now();
  await rollout({ ...settings, runsDir });
  const localS = (performance.now() - start) / 1000;
  console.log(`local rollout       ${round(localS, 1)} s   ${perMinute(episodes, localS)} episodes/min`);

  const rates: number[] = [];
  for (const n of [1, 2]) {
    const children = await workerProcesses(n);
    start = performance.now();
    await queuedRollout({ ...settings, connection, runsDir });
    const seconds = (performance.now() - start) / 1000;
    await stop(children);
    rates.push(perMinute(episodes, seconds));
    console.log(`${n} worker${n > 1 ? 's' : ' '}           ${round(seconds, 1)} s   ${perMinute(episodes, seconds)} episodes/min`);
  }
  console.log(`2 workers / 1 worker: x${round(rates[1]! / rates[0]!, 2)}; 1 worker / local: x${round(rates[0]! / perMinute(episodes, localS), 2)}`);

  // The queue's own cost: one episode at a time to an idle in-process worker, timed from the job's own stamps.
  const worker = new EpisodeWorker({ connection });
  const jobs: Job<EpisodeJobData, EpisodeJobResult>[] = [];
  worker.worker.on('completed', (job) => jobs.push(job));
  await worker.worker.waitUntilReady();
  const toStart: number[] = [];
  const toCollect: number[] = [];
  const running: number[] = [];
  const rounds = 4;
  for (let i = 0; i < rounds; i++) {
    const { timings } = await queuedRollout({ ...settings, episodes: 1, seed: 100 + i, connection, runsDir });
    const job = jobs.at(-1)!;
    toStart.push(job.processedOn! - timings.enqueuedAt);
    toCollect.push(timings.collectedAt - job.finishedOn!);
    running.push(job.finishedOn! - job.processedOn!);
  }
  await worker.close();
  const ms = (xs: number[]) => `p50 ${round(percentile(xs, 50), 0)} ms, max ${round(Math.max(...xs), 0)} ms`;
  console.log(`queue overhead per episode (${rounds} single-episode rollouts):`);
  console.log(`  enqueue -> start      ${ms(toStart)}`);
  console.log(`  result -> collected   ${ms(toCollect)}  (the rollout polls every 500 ms)`);
  console.log(`  the episode itself    ${ms(running)}`);
  const overhead = percentile(toStart, 50) + percentile(toCollect, 50);
  console.log(`overhead / episode time: ${round((overhead / percentile(running, 50)) * 100, 1)} %`);
} finally {
  await redis.stop();
  rmSync(runsDir, { recursive: true, force: true });
}
