/**
 * Does the validator refuse the model's plans that the robot would carry out? For held-out starting
 * layouts of both scenes (alternating, each scene's robots in turn, the scene's full task), the
 * embedded model plans as `keystep plan` does (DiDA, the validator's gates while it draws), the
 * validator checks the plan, and the sim controller carries it out from the same state with no
 * misses: a plan succeeds when the controller acts on every step and the last one reaches the goal.
 * Prints how many succeeded and how many of those the validator raised an error on (the target is
 * none), with each error, and how many plans it passed that then failed in the sim. `--out DIR`
 * writes each plan that succeeded but was refused as a plan directory (keystep validate reads it).
 *
 * `--only K` carries out plan K alone (the number the report names), to look at one plan again.
 *
 *   npx tsx bench/validator-agreement.ts [--dir models] [--plans 200] [--only K] [--out DIR] [--json]
 */
import { join } from 'node:path';
import { decide } from '../sim/controller.js';
import { svgToPng } from '../sim/render.js';
import { DATASET_ROBOTS, HELDOUT_SEED_BASE } from '../src/model/dataset.js';
import { OnnxPlanner } from '../src/model/onnx-planner.js';
import { openWorldModel } from '../src/model/open-model.js';
import { loadProfile } from '../src/profile/load.js';
import { sceneById } from '../src/scenes/registry.js';
import { sceneSvg } from '../src/scenes/view.js';
import { Rng } from '../src/util/rng.js';
import { keyframeGate, textGate } from '../src/validate/gates.js';
import { writePlanDir } from '../src/validate/plan-dir.js';
import { validateDraft } from '../src/validate/validate-draft.js';
import { benchFlags } from './flags.js';

const flags = benchFlags('npx tsx bench/validator-agreement.ts [--dir models] [--plans 200] [--only K] [--out DIR] [--json]', {
  dir: 'string', plans: 'string', only: 'string', out: 'string', json: 'boolean',
});
const plans = flags.int('plans', 200, { min: 1, max: 100_000 });
const json = flags.values.json;
const out = flags.values.out;
const only = flags.int('only', undefined, { min: 0, max: 100_000 });
// Layout seeds of their own, apart from bench/model-steps.ts's (+500, +700) and keystep bench's (+900).
const SEED_BASE = HELDOUT_SEED_BASE + 1100;

const model = await openWorldModel({ dir: flags.values.dir ?? 'models' });
interface Tally { plans: number; succeeded: number; succeededRefused: number; refusedPlans: { plan: number; robot: string; errors: string[] }[]; passedFailed: number; errors: Record<string, number>; failedAt: Record<string, number> }
const tallies: Record<string, Tally> = {};
for (let k = only ?? 0; k < (only === undefined ? plans : only + 1); k++) {
  const sceneId = k % 2 === 0 ? 'tshirt' : 'table';
  const mod = sceneById(sceneId);
  const robots = DATASET_ROBOTS[sceneId];
  const profile = loadProfile(robots[Math.floor(k / 2) % robots.length]!);
  const camera = profile.cameras.find((c) => c.name === profile.keyframeCamera)!;
  const task = mod.tasks[0]!;
  const parsed = mod.parseTask(task);
  if (!parsed.ok) throw new Error(parsed.reason);
  const start: unknown = mod.initial(profile, new Rng(SEED_BASE + k).fork('layout'));
  const observation = await svgToPng(sceneSvg(mod, start as never, { mount: camera.mount }, camera.resolution));

  const planner = new OnnxPlanner(model, { seed: k, check: keyframeGate(), textCheck: textGate() });
  const draft = await planner.plan({ robot: profile, task, scene: sceneId, observation, history: [], version: 1 });
  const verdict = await validateDraft({ plan: draft, robot: profile, observation, task, scene: sceneId });
  const errors = verdict.issues.filter((i) => i.severity === 'error');

  let state = start;
  let acted = 0;
  let stopped = '';
  for (const step of draft.steps) {
    const decision = await decide(mod, profile, state as never, step.instruction, step.keyframe);
    if (decision.kind !== 'act') {
      stopped = step.instruction.replace(/ with (the (left|right)|both) arms?$/, '');
      break;
    }
    state = decision.next;
    acted++;
  }
  const succeeded = acted === draft.steps.length && mod.isGoal(state as never, parsed.goal as never);

  const t = (tallies[sceneId] ??= { plans: 0, succeeded: 0, succeededRefused: 0, refusedPlans: [], passedFailed: 0, errors: {}, failedAt: {} });
  t.plans++;
  if (succeeded) {
    t.succeeded++;
    if (errors.length > 0) {
      t.succeededRefused++;
      t.refusedPlans.push({ plan: k, robot: profile.id, errors: errors.map((e) => e.message) });
      if (out) writePlanDir(join(out, `plan-${k}`), { draft, robot: profile.id, task, observation });
    }
    for (const e of errors) t.errors[e.code] = (t.errors[e.code] ?? 0) + 1;
  } else {
    if (errors.length === 0) t.passedFailed++;
    const where = stopped || 'every step acted on, goal not reached';
    t.failedAt[where] = (t.failedAt[where] ?? 0) + 1;
  }
  if (!json) process.stderr.write(`\rplan ${k + 1}/${only === undefined ? plans : only + 1}`);
}
await model.close();

if (json) console.log(JSON.stringify({ plans, seedBase: SEED_BASE, scenes: tallies }));
else {
  process.stderr.write('\n');
  for (const [scene, t] of Object.entries(tallies)) {
    console.log(`${scene}: ${t.succeeded} of ${t.plans} plans succeed in the sim; the validator raised an error on ${t.succeededRefused} of them` +
      (t.succeededRefused > 0 ? ` (${Object.entries(t.errors).map(([c, n]) => `${c} ${n}`).join(', ')})` : ''));
    for (const r of t.refusedPlans) console.log(`  plan ${r.plan} (${r.robot}, seed ${SEED_BASE + r.plan}): ${r.errors.join('; ')}`);
    if (t.plans > t.succeeded) {
      console.log(`  it passed ${t.passedFailed} of the ${t.plans - t.succeeded} that failed; where they stop: ` +
        Object.entries(t.failedAt).sort((a, b) => b[1] - a[1]).map(([w, n]) => `${w} ${n}`).join(', '));
    }
  }
}
