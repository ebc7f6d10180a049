import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EpisodeWorker } from '../../src/queue/episode-worker.js';
import { redisOptions } from '../../src/queue/redis-url.js';
import { RolloutResult } from '../../src/run/rollout-result.js';
import { cli } from '../helpers/cli.js';
import { TestRedis } from '../helpers/redis.js';

describe('keystep worker and rollout --queue on the command line', () => {
  it('worker: --help, a missing or bad --queue is a usage error naming the flag', async () => {
    const help = await cli('worker', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('keystep worker --queue redis://');
    expect((await cli('--help')).out).toMatch(/worker\s+run the episodes of queued rollouts/);
    const missing = await cli('worker');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--queue is required');
    const http = await cli('worker', '--queue', 'http://x:6379');
    expect(http.code).toBe(2);
    expect(http.err).toContain('not a redis:// URL');
    const concurrency = await cli('worker', '--queue', 'redis://127.0.0.1:6379', '--concurrency', '0');
    expect(concurrency.code).toBe(2);
    expect(concurrency.err).toContain('--concurrency');
  });

  it('rollout: --attempts without --queue is a usage error; a bad --queue too', async () => {
    const attempts = await cli('rollout', '--robot', 'aloha-agilex', '--scene', 'tshirt', '--attempts', '2');
    expect(attempts.code).toBe(2);
    expect(attempts.err).toContain('--attempts needs --queue');
    const bad = await cli('rollout', '--robot', 'aloha-agilex', '--scene', 'tshirt', '--queue', 'localhost:6379');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--queue');
  });

  it('rollout --queue --json: one JSON object on stdout, progress on stderr, the rollout folder written', async () => {
    const redis = await TestRedis.start();
    const worker = new EpisodeWorker({ connection: redisOptions(redis.url, 'test'), concurrency: 2 });
    const runs = mkdtempSync(join(tmpdir(), 'keystep-queue-cli-'));
    try {
      const r = await cli('rollout', '--robot', 'aloha-agilex', '--scene', 'tshirt', '--backend', 'oracle', '--episodes', '2', '--seed', '7', '--runs', runs, '--queue', redis.url, '--json');
      expect(r.code).toBe(0);
      const result = RolloutResult.parse(JSON.parse(r.out));
      expect(result.episodes).toBe(2);
      expect(r.err).toContain('finished 2');
      const [dir] = readdirSync(runs);
      expect(readdirSync(join(runs, dir!)).sort()).toEqual(['ep0000', 'ep0001', 'summary.json', 'summary.png']);
      const summary = JSON.parse(readFileSync(join(runs, dir!, 'summary.json'), 'utf8'));
      expect(summary.episodes.map((e: { seed: number }) => e.seed)).toEqual([7, 8]);
      expect(readdirSync(join(runs, dir!, 'ep0001'))).toContain('sheet.png');
    } finally {
      await worker.close();
      await redis.stop();
      rmSync(runs, { recursive: true, force: true });
    }
  }, 120_000);
});
