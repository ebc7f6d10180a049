/**
 * N embedded-model runs at once through keystep serve (POST /v1/runs, backend onnx), each against its
 * own simulated robot, beside the same N episodes as `keystep rollout` runs them in-process one after
 * the other: same robot, scene, seeds (sim layout, misses and the planner's sampling) and miss rate.
 * Success is the simulator's verdict in both. Prints successes, steps, replans and wall time per side,
 * and each seed's outcome on both sides (the runs share one model and one device queue, so the service
 * changes when plans are drawn, not what is drawn: a seed that differs points at the service).
 *
 *   npx tsx bench/serve-runs.ts [--runs 10] [--seed 100000] [--robot aloha-agilex] [--scene tshirt|table] [--miss-rate 0.15] [--model models] [--no-rollout]
 */
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openWorldModel } from '../src/model/open-model.js';
import { loadProfile } from '../src/profile/load.js';
import { rolloutName, runEpisode, startSimRobot, type RolloutSettings } from '../src/run/rollout.js';
import { round } from '../src/run/stats.js';
import { SceneId } from '../src/schema/task.js';
import { defaultTask } from '../src/cli/commands/sheet.js';
import { buildService } from '../src/service/server.js';
import type { RunSummary } from '../src/service/api-schema.js';
import type { SimRobot } from '../sim/robot-node.js';
import { benchFlags } from './flags.js';

const flags = benchFlags('npx tsx bench/serve-runs.ts [--runs 10] [--seed 100000] [--robot aloha-agilex] [--scene tshirt|table] [--miss-rate 0.15] [--model models] [--no-rollout]', {
  runs: 'string', seed: 'string', robot: 'string', scene: 'string', 'miss-rate': 'string', model: 'string', 'no-rollout': 'boolean',
});
const runs = flags.int('runs', 10, { min: 1, max: 100_000 });
const firstSeed = flags.int('seed', 100000, { min: 0, max: 2 ** 31 - 1 });
const scene = flags.choice('scene', SceneId.options, 'tshirt');
const settings: RolloutSettings = {
  profile: loadProfile(flags.values.robot ?? 'aloha-agilex'),
  scene,
  task: defaultTask(scene),
  episodes: runs,
  missRate: flags.number('miss-rate', 0.15, { min: 0, max: 1 }),
  seed: firstSeed,
  backend: 'onnx',
  replan: true,
};
const seeds = Array.from({ length: runs }, (_, i) => firstSeed + i);

// One model for both sides: the service's runs share theirs, as the rollout's episodes do.
const model = await openWorldModel({ dir: flags.values.model ?? 'models' });
const runsDir = mkdtempSync(join(tmpdir(), 'keystep-bench-serve-runs-'));
const app = await buildService({ runsDir, model: {}, openModel: async () => model });
await app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

interface Side {
  successes: boolean[];
  steps: number;
  replans: number;
  wallS: number;
}

/** Every run at once through the service, each against a sim robot of its own reset to its seed. */
async function viaService(): Promise<Side> {
  const robots: SimRobot[] = await Promise.all(seeds.map(() => startSimRobot(settings)));
  robots.forEach((r, i) => r.reset(seeds[i]!, settings.task));
  const start = performance.now();
  await Promise.all(
    robots.map(async (robot, i) => {
      const response = await fetch(`${base}/v1/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ robot: settings.profile.id, task: settings.task, scene, rosbridge: robot.url, backend: 'onnx', runId: `run-${seeds[i]}`, seed: seeds[i] }),
      });
      if (response.status !== 201) throw new Error(`POST /v1/runs: ${response.status} ${await response.text()}`);
    }),
  );
  let listed: RunSummary[] = [];
  let shown = -1;
  do {
    await new Promise((r) => setTimeout(r, 1000));
    listed = ((await (await fetch(`${base}/v1/runs`)).json()) as { runs: RunSummary[] }).runs;
    const finished = listed.filter((r) => r.state !== 'running').length;
    if (finished !== shown) process.stderr.write(`service: ${(shown = finished)} of ${runs} runs finished\n`);
  } while (listed.some((r) => r.state === 'running'));
  const wallS = (performance.now() - start) / 1000;
  const reports = await Promise.all(seeds.map(async (s) => ((await (await fetch(`${base}/v1/runs/run-${s}`)).json()) as { report: { steps: unknown[]; replans: number } }).report));
  const side = { successes: robots.map((r) => r.world.isGoal()), steps: reports.reduce((n, r) => n + r.steps.length, 0), replans: reports.reduce((n, r) => n + r.replans, 0), wallS };
  await Promise.all(robots.map((r) => r.close()));
  return side;
}

/** The same episodes as `keystep rollout --backend onnx` runs them: one sim robot, one after the other. */
async function inProcess(): Promise<Side> {
  const robot = await startSimRobot(settings);
  const dir = join(runsDir, rolloutName(settings));
  const start = performance.now();
  const episodes = [];
  for (let i = 0; i < runs; i++) {
    episodes.push((await runEpisode(settings, i, { robot, model, dir, name: 'bench' }))!);
    process.stderr.write(`rollout: ${i + 1} of ${runs} episodes\n`);
  }
  await robot.close();
  return { successes: episodes.map((e) => e.success), steps: episodes.reduce((n, e) => n + e.steps, 0), replans: episodes.reduce((n, e) => n + e.replans, 0), wallS: (performance.now() - start) / 1000 };
}

const served = await viaService();
const local = flags.values['no-rollout'] ? null : await inProcess();
// Closing the service closes the model it was handed.
await app.close();

const line = (name: string, s: Side) => `${name} | ${s.successes.filter(Boolean).length} / ${runs} | ${s.steps} | ${s.replans} | ${round(s.wallS, 1)} s`;
console.log(`${runs} ${scene} runs on ${settings.profile.id}, backend onnx, seeds ${seeds[0]}-${seeds.at(-1)}, miss rate ${settings.missRate}, 1 CPU device`);
console.log('side | successes | steps | replans | wall');
console.log(line(`keystep serve, ${runs} runs at once`, served));
if (local) console.log(line('in-process rollout, one after the other', local));
console.log(`per seed (service${local ? ' / rollout' : ''}): ${seeds.map((s, i) => `${s} ${served.successes[i] ? 'ok' : 'FAIL'}${local ? `/${local.successes[i] ? 'ok' : 'FAIL'}` : ''}`).join(', ')}`);
