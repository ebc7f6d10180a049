import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type TestService } from './service-client.js';

/** `keystep rollout` through the service: POST /v1/rollouts, then GET /v1/rollouts/{id} until it is done. */
describe('POST /v1/rollouts', () => {
  let api: TestService;
  let runsDir: string;
  beforeAll(async () => {
    runsDir = mkdtempSync(join(tmpdir(), 'keystep-serve-rollouts-'));
    api = await startService({ runsDir, model: null });
  });
  afterAll(async () => {
    await api.close();
  });

  it('runs 3 oracle episodes against its own keystep sim, with progress while it runs and summary.json at the end', async () => {
    const started = await api.request('POST', '/v1/rollouts', {
      json: { robot: 'aloha-agilex', scene: 'tshirt', task: 'fold the t-shirt', episodes: 3, seed: 7, missRate: 0.1, backend: 'oracle' },
    });
    expect(started.status).toBe(202);
    const { id, url } = started.json;
    expect(url).toBe(`/v1/rollouts/${id}`);
    const seen: number[] = [];
    let status: any;
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; ) {
      status = (await api.request('GET', url)).json;
      seen.push(status.progress.done);
      if (status.rollout.state !== 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status.rollout).toMatchObject({ id, state: 'finished', robot: 'aloha-agilex', scene: 'tshirt', backend: 'oracle', seed: 7, missRate: 0.1 });
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(status.progress).toEqual({ done: 3, episodes: 3, successes: status.result.successes });
    expect(status.episodes.map((e: { episode: number }) => e.episode)).toEqual([0, 1, 2]);
    expect(status.result).toMatchObject({ episodes: 3, successes: 3, successRate: 1 });
    expect(status.summary).toMatchObject({ options: { robot: 'aloha-agilex', scene: 'tshirt', episodes: 3, seed: 7, missRate: 0.1, backend: 'oracle' }, result: status.result });
    expect(existsSync(join(runsDir, 'rollouts', id))).toBe(true);
    // Not a run: the runs list stays empty.
    expect((await api.request('GET', '/v1/runs')).json.runs).toEqual([]);

    // Each finished episode's contact sheet is served; anything else is refused naming why.
    const sheet = await api.request('GET', `${url}/episodes/1/sheet.png`);
    expect(sheet.status).toBe(200);
    expect(sheet.text.startsWith('\uFFFDPNG')).toBe(true);
    const notYet = await api.request('GET', `${url}/episodes/3/sheet.png`);
    expect(notYet.status).toBe(404);
    expect(notYet.json.message).toMatch(/episode 3 .* has not finished \(3 of 3 have\)/);
    expect((await api.request('GET', `${url}/episodes/x/sheet.png`)).json.issues).toEqual([expect.objectContaining({ path: 'params.episode' })]);
    expect((await api.request('GET', '/v1/rollouts/..%2F..%2Fetc/episodes/0/sheet.png')).status).toBe(400);
    expect((await api.request('GET', '/v1/rollouts/rollout-nope/episodes/0/sheet.png')).status).toBe(404);
  });

  it('lists its rollouts newest first, and a restarted service lists those of its earlier start', async () => {
    const listed = (await api.request('GET', '/v1/rollouts')).json.rollouts as { id: string; state: string; progress: { done: number } }[];
    expect(listed.length).toBeGreaterThan(0);
    const [finished] = listed;
    expect(finished).toMatchObject({ state: 'finished', robot: 'aloha-agilex', progress: { done: 3, episodes: 3 } });
    // A rollout the service was stopped in the middle of: its request was written, its summary never.
    mkdirSync(join(runsDir, 'rollouts', 'rollout-cut-1'), { recursive: true });
    writeFileSync(join(runsDir, 'rollouts', 'rollout-cut-1', 'request.json'), JSON.stringify({ id: 'rollout-cut-1', robot: 'agibot-g1', startedAt: 1, body: { robot: 'agibot-g1', scene: 'table', task: 'clear the table', episodes: 5, backend: 'oracle' } }));
    // Not a rollout of the service: no request.json.
    mkdirSync(join(runsDir, 'rollouts', 'stray'), { recursive: true });

    const again = await startService({ runsDir, model: null });
    try {
      const after = (await again.request('GET', '/v1/rollouts')).json.rollouts as { id: string; state: string; error?: string }[];
      expect(after.map((r) => r.id)).toEqual([finished!.id, 'rollout-cut-1']);
      expect(after[1]).toMatchObject({ state: 'failed', scene: 'table', progress: { done: 0, episodes: 5 } });
      expect(after[1]!.error).toMatch(/stopped before this rollout finished/);
      const before = (await api.request('GET', `/v1/rollouts/${finished!.id}`)).json;
      const recovered = (await again.request('GET', `/v1/rollouts/${finished!.id}`)).json;
      expect(recovered).toEqual(before);
      expect((await again.request('GET', `/v1/rollouts/${finished!.id}/episodes/2/sheet.png`)).status).toBe(200);
    } finally {
      await again.close();
    }
  });

  it('refuses a bad body naming the field, an unknown rollout with 404, and onnx without a model with 503', async () => {
    const bad = await api.request('POST', '/v1/rollouts', { json: { robot: 'aloha-agilex', scene: 'tshirt', task: 'fold the t-shirt', episodes: 0, backend: 'oracle' } });
    expect(bad.status).toBe(400);
    expect(bad.json.issues).toEqual([expect.objectContaining({ path: 'body.episodes' })]);
    const wrongTask = await api.request('POST', '/v1/rollouts', { json: { robot: 'aloha-agilex', scene: 'tshirt', task: 'clear the table', episodes: 1, backend: 'oracle' } });
    expect(wrongTask.status).toBe(400);
    expect(wrongTask.json.issues).toEqual([expect.objectContaining({ path: 'body.task' })]);
    expect((await api.request('GET', '/v1/rollouts/rollout-nope')).status).toBe(404);
    expect((await api.request('GET', '/v1/rollouts/..%2Fx')).status).toBe(400);
    const onnx = await api.request('POST', '/v1/rollouts', { json: { robot: 'aloha-agilex', scene: 'tshirt', task: 'fold the t-shirt', episodes: 1 } });
    expect(onnx.status).toBe(503);
  });
});
