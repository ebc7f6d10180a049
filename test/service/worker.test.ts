import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { keyframeSizeOf } from '../../src/model/image-io.js';
import { OnnxPlanner } from '../../src/model/onnx-planner.js';
import { WorldModel } from '../../src/model/world-model.js';
import { loadProfile } from '../../src/profile/load.js';
import { WorkerAnswer, WorkerMetadata } from '../../src/service/worker-protocol.js';
import { SimWorld } from '../../sim/world.js';
import { CliProcess, freePort, ROOT } from '../helpers/cli.js';
import { MODEL_DIR } from '../model/fixtures.js';

/*
 * The model-worker protocol end to end: models/reference_worker.py (the embedded model's weights in
 * torch) on a free port, `keystep serve --worker` planning through it, a plan posted over HTTP.
 */

const PYTHON = '/usr/bin/python3';
const hasPython = spawnSync(PYTHON, ['-c', 'import torch, websockets, onnx, PIL'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasPython)('keystep serve --worker with models/reference_worker.py', () => {
  let worker: ChildProcess;
  let workerLog = '';
  let workerUrl: string;
  let serve: CliProcess;
  let base: string;
  let observation: Uint8Array;
  beforeAll(async () => {
    const port = await freePort();
    worker = spawn(PYTHON, [resolve(ROOT, 'models/reference_worker.py'), '--port', String(port), '--model', MODEL_DIR], { stdio: ['ignore', 'pipe', 'pipe'] });
    worker.stdout!.on('data', (d: Buffer) => (workerLog += d.toString()));
    worker.stderr!.on('data', (d: Buffer) => (workerLog += d.toString()));
    for (const deadline = Date.now() + 60_000; !/serving/.test(workerLog); ) {
      if (worker.exitCode !== null || Date.now() > deadline) throw new Error(`the reference worker did not start:\n${workerLog}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    workerUrl = `ws://127.0.0.1:${port}`;
    serve = new CliProcess(['serve', '--port', '0', '--worker', workerUrl, '--runs', mkdtempSync(join(tmpdir(), 'keystep-serve-worker-'))]);
    await serve.waitFor(/listening on (\S+)/);
    base = /listening on (http:\/\/\S+?);/.exec(serve.stdout)![1]!;
    observation = new Uint8Array(await new SimWorld({ profile: loadProfile('aloha-agilex'), scene: 'tshirt', task: 'fold the t-shirt', seed: 100_003, missRate: 0 }).observe());
  });
  const sims: CliProcess[] = [];
  afterAll(async () => {
    for (const sim of sims) sim.interrupt();
    await Promise.all(sims.map((s) => s.exited));
    serve?.interrupt();
    await serve?.exited;
    worker?.kill('SIGTERM');
  });

  it('the worker answers GET /healthz and opens every connection with its metadata frame', async () => {
    const health = await fetch(`${workerUrl.replace('ws', 'http')}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true });
    const socket = new WebSocket(workerUrl);
    const first = await new Promise<string>((r) => socket.once('message', (d) => r(String(d))));
    const metadata = WorkerMetadata.parse(JSON.parse(first));
    expect(metadata.model).toMatchObject({ grid: 16, codes: 1024, picture: { width: 128, height: 128 } });
    // A bad request is an error frame, and the connection keeps serving.
    const answers: unknown[] = [];
    socket.on('message', (d) => answers.push(WorkerAnswer.parse(JSON.parse(String(d)))));
    socket.send('{"type":"plan"');
    socket.send(JSON.stringify({ type: 'plan', id: 'x', task: 'fold the t-shirt', robot: { id: 'aloha-agilex' }, observation: 'iVBORw0KGgo=', history: [], version: 1 }));
    for (const deadline = Date.now() + 10_000; answers.length < 2 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    expect(answers).toEqual([expect.objectContaining({ type: 'error', error: 'bad_request' }), expect.objectContaining({ type: 'error', id: 'x', error: 'bad_request' })]);
    socket.close();
  });

  it('plans through the worker: the embedded model\'s greedy step texts, keyframes at the keyframe camera size', async () => {
    const response = await fetch(`${base}/v1/plans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ robot: 'aloha-agilex', task: 'fold the t-shirt', scene: 'tshirt', observation: Buffer.from(observation).toString('base64') }),
    });
    const body = (await response.json()) as any;
    expect(response.status, JSON.stringify(body).slice(0, 500)).toBe(200);
    expect(body.plan).toMatchObject({ backend: 'worker', robot: 'aloha-agilex' });
    const steps: { instruction: string; keyframe: string }[] = body.plan.steps;
    expect(steps.length).toBeGreaterThan(0);
    const size = keyframeSizeOf(loadProfile('aloha-agilex'));
    for (const s of steps) {
      const { width, height, format } = await sharp(Buffer.from(s.keyframe, 'base64')).metadata();
      expect({ width, height, format }).toEqual({ ...size, format: 'png' });
    }
    expect(body.validation).toEqual(expect.objectContaining({ ok: expect.any(Boolean) }));

    // Greedy on both sides: the same texts as the embedded model's plan in-process, without the gates.
    const model = await WorldModel.open({ dir: MODEL_DIR, threads: 1 });
    try {
      const local = await new OnnxPlanner(model, {}).plan({ robot: loadProfile('aloha-agilex'), task: 'fold the t-shirt', scene: 'tshirt', observation, history: [], version: 1 });
      expect(steps.map((s) => s.instruction)).toEqual(local.steps.map((s) => s.instruction));
    } finally {
      await model.close();
    }
  });

  it('a run started with POST /v1/runs plans through the worker against keystep sim: every plan is the worker\'s, the robot executed the steps sent', async () => {
    const sim = new CliProcess(['sim', '--robot', 'aloha-agilex', '--scene', 'tshirt', '--seed', '100003', '--step-ms', '20', '--port', '0']);
    sims.push(sim);
    await sim.waitFor(/rosbridge (ws:\/\/\S+)/);
    const rosbridge = /rosbridge (ws:\/\/\S+)/.exec(sim.stdout)![1]!;
    const started = await fetch(`${base}/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ robot: 'aloha-agilex', task: 'fold the t-shirt', rosbridge, runId: 'via-worker', limits: { maxReplans: 3 } }),
    });
    expect(started.status, await started.clone().text()).toBe(201);
    let state = 'running';
    for (const deadline = Date.now() + 240_000; state === 'running' && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 500));
      state = ((await (await fetch(`${base}/v1/runs/via-worker`)).json()) as { run: { state: string } }).run.state;
    }
    expect(state).toBe('finished');
    const events = (await (await fetch(`${base}/v1/runs/via-worker/events.jsonl`)).text())
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; plan?: { backend: string }; stepId?: string; instruction?: string; report?: { outcome: string } });
    const plans = events.filter((e) => e.type === 'plan_created');
    expect(plans.length).toBeGreaterThan(0);
    expect(plans.map((p) => p.plan!.backend)).toEqual(plans.map(() => 'worker'));
    const sent = events.filter((e) => e.type === 'step_dispatched').map((e) => `${e.stepId} "${e.instruction}"`);
    expect(sent.length).toBeGreaterThan(0);
    const executed = [...sim.stdout.matchAll(/^\[sim\] step (\S+ ".*"): \w+/gm)].map((m) => m[1]);
    expect(executed).toEqual(sent);
    console.log(`a T-shirt run through the worker: ${events.at(-1)!.report!.outcome}, ${plans.length} plans, ${sent.length} steps`);
  }, 300_000);
});
