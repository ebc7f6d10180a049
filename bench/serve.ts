/**
 * keystep serve's cost over planning in-process: plans per second and p50/p95 latency at concurrency
 * 1, 2, 4 and 8, the embedded model, the same requests made through the service over HTTP (POST
 * /v1/plans on loopback) and with the same planner in this process, one model and one device for
 * both. Prints each level's figures and the service's overhead as a ratio of the two.
 *
 *   npx tsx bench/serve.ts [--plans 8] [--levels 1,2,4,8] [--model models]
 */
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxPlanner } from '../src/model/onnx-planner.js';
import { openWorldModel } from '../src/model/open-model.js';
import { loadProfile } from '../src/profile/load.js';
import { percentile, round } from '../src/run/stats.js';
import { buildService } from '../src/service/server.js';
import { keyframeGate, stepSubject, textGate } from '../src/validate/index.js';
import { SimWorld } from '../sim/world.js';
import { benchFlags } from './flags.js';

const usage = 'npx tsx bench/serve.ts [--plans 8] [--levels 1,2,4,8] [--model models]';
const flags = benchFlags(usage, { plans: 'string', levels: 'string', model: 'string' });
const plans = flags.int('plans', 8, { min: 1, max: 100_000 });
const levels = flags.ints('levels', [1, 2, 4, 8], { min: 1, max: 256 });

const profile = loadProfile('aloha-agilex');
const task = 'fold the t-shirt';
// A few starting pictures, so the plans are not all one.
const observations = await Promise.all([100_003, 100_004, 100_005, 100_006].map((seed) => new SimWorld({ profile, scene: 'tshirt', task, seed, missRate: 0 }).observe()));
const requestOf = (i: number) => ({ observation: new Uint8Array(observations[i % observations.length]!), seed: i });

const model = await openWorldModel({ dir: flags.values.model ?? 'models', threads: 1 });
const app = await buildService({ runsDir: mkdtempSync(join(tmpdir(), 'keystep-bench-serve-')), model: {}, openModel: async () => model });
await app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

async function viaService(i: number): Promise<void> {
  const { observation, seed } = requestOf(i);
  const response = await fetch(`${base}/v1/plans`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ robot: profile.id, task, scene: 'tshirt', observation: Buffer.from(observation).toString('base64'), sampling: { seed } }),
  });
  if (response.status !== 200) throw new Error(`POST /v1/plans: ${response.status} ${await response.text()}`);
  await response.json();
}

async function inProcess(i: number): Promise<void> {
  const { observation, seed } = requestOf(i);
  await new OnnxPlanner(model, { seed, check: keyframeGate(), textCheck: textGate(), stepSubject }).plan({ robot: profile, task, scene: 'tshirt', observation, history: [], version: 1 });
}

/** `plans` plans, `concurrency` at a time: plans per second and each plan's latency. */
async function measure(plan: (i: number) => Promise<void>, concurrency: number): Promise<{ perS: number; p50: number; p95: number }> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < plans) {
        const i = next++;
        const t = performance.now();
        await plan(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const wallS = (performance.now() - start) / 1000;
  return { perS: plans / wallS, p50: percentile(latencies, 50), p95: percentile(latencies, 95) };
}

// One of each first, so neither side pays for warming up the session.
await inProcess(0);
await viaService(0);
console.log(`${plans} embedded-model T-shirt plans per level, 1 CPU device, same model for both sides`);
console.log('concurrency | service plans/s | p50 / p95 ms | in-process plans/s | p50 / p95 ms | service time / in-process');
for (const c of levels) {
  const local = await measure(inProcess, c);
  const served = await measure(viaService, c);
  console.log(
    `${c} | ${round(served.perS, 2)} | ${round(served.p50, 0)} / ${round(served.p95, 0)} | ${round(local.perS, 2)} | ${round(local.p50, 0)} / ${round(local.p95, 0)} | ${round(local.perS / served.perS, 3)}`,
  );
}
await app.close();
