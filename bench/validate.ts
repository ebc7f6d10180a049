/**
 * Validation latency: a 12-step table plan (clear the table) with keyframes at the camera's 640x480
 * and at the model's 128x96, validated end to end (PNG decode + every check) 50 times after a warm-up.
 * Target: p50 <= 50 ms on 2 cores. Run: npx tsx bench/validate.ts
 */
import { availableParallelism, loadavg } from 'node:os';
import { loadProfile } from '../src/profile/load.js';
import { oraclePlan } from '../sim/oracle-plan.js';
import { validateDraft } from '../src/validate/validate-draft.js';
import { SimWorld } from '../sim/world.js';

const RUNS = 50;
const profile = loadProfile('aloha-agilex');

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

for (const size of [undefined, { width: 128, height: 96 }]) {
  const world = new SimWorld({ profile, scene: 'table', task: 'clear the table', seed: 1, missRate: 0 });
  const plan = await oraclePlan(world, size ? { size } : {});
  if (plan.draft.steps.length !== 12) throw new Error(`expected a 12-step plan, got ${plan.draft.steps.length}`);
  const input = { plan: plan.draft, robot: profile, observation: plan.observation };
  for (let i = 0; i < 5; i++) await validateDraft(input);
  const times: number[] = [];
  let ok = true;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = await validateDraft(input);
    times.push(performance.now() - t);
    ok &&= r.ok;
  }
  const cpu = process.cpuUsage(cpu0);
  // CPU time over all threads (sharp decodes on its pool): what the work costs whatever else the machine runs.
  const cpuMs = (cpu.user + cpu.system) / 1000 / RUNS;
  times.sort((a, b) => a - b);
  const label = size ? `${size.width}x${size.height}` : '640x480';
  console.log(
    `validate 12-step table plan, keyframes ${label}: p50 ${quantile(times, 0.5).toFixed(1)} ms, p99 ${quantile(times, 0.99).toFixed(1)} ms ` +
      `over ${RUNS} runs, ${cpuMs.toFixed(1)} ms CPU per run (${availableParallelism()} cores, load ${loadavg()[0]!.toFixed(1)}, valid=${ok}); target p50 <= 50 ms: ${quantile(times, 0.5) <= 50 ? 'met' : 'MISSED'}`,
  );
}
