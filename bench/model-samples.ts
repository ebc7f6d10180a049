/**
 * Contact sheets of plans the embedded world model writes from held-out start frames (the observation,
 * then each step's text under its keyframe), for people to look at. Writes OUT/*.png.
 *
 *   npx tsx bench/model-samples.ts [--dir models] [--sampler dida|ar] [--out runs/samples]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { sceneById } from '../src/scenes/registry.js';
import { sceneSvg } from '../src/scenes/view.js';
import { contactSheet } from '../src/image/contact-sheet.js';
import { HELDOUT_SEED_BASE } from '../src/model/dataset.js';
import { OnnxPlanner } from '../src/model/onnx-planner.js';
import { openWorldModel } from '../src/model/open-model.js';
import { loadProfile } from '../src/profile/load.js';
import type { SceneId } from '../src/schema/index.js';
import { Rng } from '../src/util/rng.js';
import { keyframeGate, textGate } from '../src/validate/gates.js';
import { KEYFRAME_SAMPLERS } from '../src/model/world-model.js';
import { benchFlags } from './flags.js';

const usage = 'npx tsx bench/model-samples.ts [--dir models] [--sampler dida|ar] [--out runs/samples]';
const flags = benchFlags(usage, { dir: 'string', sampler: 'string', out: 'string' });
const sampler = flags.choice('sampler', KEYFRAME_SAMPLERS, 'dida');
const out = flags.values.out ?? join('runs', 'samples');
mkdirSync(out, { recursive: true });
const model = await openWorldModel({ dir: flags.values.dir ?? 'models' });
const cases: [SceneId, string, number][] = [
  ['tshirt', 'aloha-agilex', HELDOUT_SEED_BASE + 1],
  ['tshirt', 'agibot-g1', HELDOUT_SEED_BASE + 2],
  ['table', 'agibot-g1', HELDOUT_SEED_BASE + 1],
  ['table', 'franka-fr3', HELDOUT_SEED_BASE + 2],
];
for (const [sceneId, robot, seed] of cases) {
  const scene = sceneById(sceneId);
  const profile = loadProfile(robot);
  const camera = profile.cameras.find((c) => c.name === profile.keyframeCamera)!;
  const state = scene.initial(profile, new Rng(seed).fork('layout'));
  const observation = await sharp(Buffer.from(sceneSvg(scene, state, { mount: camera.mount }, camera.resolution))).png().toBuffer();
  const planner = new OnnxPlanner(model, { sampler, seed: 1, check: keyframeGate(), textCheck: textGate() });
  const plan = await planner.plan({ robot: profile, task: scene.tasks[0]!, scene: sceneId, observation, history: [], version: 1 });
  const sheet = await contactSheet(
    [{ image: observation, caption: 'observation' }, ...plan.steps.map((s) => ({ image: s.keyframe, caption: `${s.index + 1}. ${s.instruction}` }))],
    { tileWidth: 224, title: `${robot} · ${scene.tasks[0]} · seed ${seed} · ${sampler} · ${Math.round(planner.lastTiming!.totalMs)} ms` },
  );
  const file = join(out, `${sceneId}-${robot}-${seed}-${sampler}.png`);
  writeFileSync(file, sheet);
  console.log(file, plan.steps.length, 'steps', Math.round(planner.lastTiming!.totalMs), 'ms');
}
await model.close();
