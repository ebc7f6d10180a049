import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxPlanner } from '../../src/model/onnx-planner.js';
import { WorldModel } from '../../src/model/world-model.js';
import { loadProfile } from '../../src/profile/load.js';
import { keyframeGate, stepSubject, textGate } from '../../src/validate/index.js';
import { SimWorld } from '../../sim/world.js';
import { MODEL_DIR } from '../model/fixtures.js';
import { startService, type TestService } from './service-client.js';

/** The embedded model planning through the API, against the same planner run in-process. */
describe('POST /v1/plans with the embedded model', () => {
  let api: TestService;
  let observation: Uint8Array;
  beforeAll(async () => {
    api = await startService({ runsDir: mkdtempSync(join(tmpdir(), 'keystep-serve-plans-')), model: { dir: MODEL_DIR } });
    observation = new Uint8Array(await new SimWorld({ profile: loadProfile('aloha-agilex'), scene: 'tshirt', task: 'fold the t-shirt', seed: 100_003, missRate: 0 }).observe());
  });
  afterAll(async () => {
    await api.close();
  });

  const request = { robot: 'aloha-agilex', task: 'fold the t-shirt', scene: 'tshirt', sampling: { seed: 4 } };

  it('answers the plan the same planner makes in-process: step texts, PNG keyframes, the validation result and timing', async () => {
    const response = await api.request('POST', '/v1/plans', { json: { ...request, observation: Buffer.from(observation).toString('base64') } });
    expect(response.status).toBe(200);
    const { plan, validation, timing } = response.json;
    expect(plan).toMatchObject({ robot: 'aloha-agilex', task: 'fold the t-shirt', backend: 'onnx', version: 1 });
    expect(plan.steps.length).toBeGreaterThan(0);
    expect(validation).toEqual(expect.objectContaining({ ok: expect.any(Boolean), issues: expect.any(Array) }));
    expect(timing).toEqual({ queueMs: expect.any(Number), planMs: expect.any(Number), validateMs: expect.any(Number), device: 'cpu' });

    const model = await WorldModel.open({ dir: MODEL_DIR, threads: 1 });
    try {
      const local = await new OnnxPlanner(model, { seed: 4, check: keyframeGate(), textCheck: textGate(), stepSubject }).plan({
        robot: loadProfile('aloha-agilex'),
        task: 'fold the t-shirt',
        scene: 'tshirt',
        observation,
        history: [],
        version: 1,
      });
      expect(plan.steps.map((s: { instruction: string }) => s.instruction)).toEqual(local.steps.map((s) => s.instruction));
      expect(plan.steps.map((s: { keyframe: string }) => s.keyframe)).toEqual(local.steps.map((s) => Buffer.from(s.keyframe).toString('base64')));
    } finally {
      await model.close();
    }
    const { format } = await sharp(Buffer.from(plan.steps[0].keyframe, 'base64')).metadata();
    expect(format).toBe('png');
  });

  it('queues concurrent plans on its one device: /readyz shows one waiting, both get the same plan', async () => {
    const jpeg = await sharp(observation).jpeg({ quality: 95 }).toBuffer();
    const body = { json: { ...request, observation: `data:image/jpeg;base64,${jpeg.toString('base64')}` } };
    const before = (await api.request('GET', '/readyz')).json;
    expect(before).toMatchObject({ ready: true, model: { state: 'ready' }, queue: { depth: 0, running: 0 } });
    const both = Promise.all([api.request('POST', '/v1/plans', body), api.request('POST', '/v1/plans', body)]);
    let depth = 0;
    let settled = false;
    void both.finally(() => (settled = true));
    while (!settled) {
      depth = Math.max(depth, (await api.request('GET', '/readyz')).json.queue.depth);
      await new Promise((r) => setTimeout(r, 20));
    }
    const [a, b] = await both;
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(depth).toBe(1);
    expect(a.json.plan.steps).toEqual(b.json.plan.steps);
    const after = (await api.request('GET', '/readyz')).json;
    expect(after.devices).toEqual([{ device: 'cpu', pending: 0, served: before.devices[0].served + 2 }]);
  });
});
