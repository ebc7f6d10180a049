/**
 * What the sim controller accepts when the keyframe is the true next state squashed to WxH and
 * stretched back to the keyframe size (no tokenizer): the ceiling a model picture size leaves
 * (0x0 = the full-size render). With --dir, also the VQ tokenizer's reconstruction of the true next
 * state (encode -> decode with that export's ONNX files).
 *
 *   npx tsx bench/model-ceiling.ts [--n 24] [--sizes 0x0,64x64,128x128] [--dir models] [--seed 100500]
 */
import sharp from 'sharp';
import { decide } from '../sim/controller.js';
import { sceneById } from '../sim/registry.js';
import { sceneSvg } from '../sim/render.js';
import { loadProfile } from '../src/profile/load.js';
import { Rng } from '../src/util/rng.js';
import { WorldModel } from '../src/model/world-model.js';

const arg = (name: string, d: string) => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? process.argv[i + 1]! : d; };
const n = Number(arg('n', '24'));
const sizes = arg('sizes', '0x0,64x64,128x128').split(',').filter(Boolean).map((s) => s.split('x').map(Number) as [number, number]);
const seedBase = Number(arg('seed', '100500'));
const dir = arg('dir', '');
const model = dir ? await WorldModel.open({ dir }) : null;
if (model) sizes.push([-1, -1]);

async function squash(svg: string, w: number, h: number): Promise<Uint8Array> {
  const small = await sharp(Buffer.from(svg)).resize(w, h, { fit: 'fill', kernel: 'lanczos3' }).removeAlpha().raw().toBuffer();
  return sharp(small, { raw: { width: w, height: h, channels: 3 } }).resize(128, 96, { fit: 'fill', kernel: 'cubic' }).png().toBuffer();
}

for (const [w, h] of sizes) {
  let ok = 0, total = 0;
  const reasons: Record<string, number> = {};
  for (const scene of ['tshirt', 'table'] as const) {
    const mod = sceneById(scene);
    const robots = scene === 'tshirt' ? ['aloha-agilex', 'aloha-stanford', 'agibot-g1'] : ['agibot-g1', 'aloha-agilex', 'franka-fr3'];
    for (let k = 0; k < n / 2; k++) {
      const robot = robots[k % robots.length]!;
      const profile = loadProfile(robot);
      const camera = profile.cameras.find((c) => c.name === profile.keyframeCamera)!;
      const svg = (s: unknown) => sceneSvg(mod, s as never, { mount: camera.mount }, camera.resolution);
      const goal = mod.parseTask(mod.tasks[0]!);
      if (!goal.ok) throw new Error(goal.reason);
      let state = mod.initial(profile, new Rng(seedBase + k).fork('layout'));
      const steps = mod.oracle(state, goal.goal, profile) as { instruction: string; next: unknown }[];
      const at = (k * 5) % steps.length;
      for (let i = 0; i < at; i++) state = steps[i]!.next;
      const nextSvg = svg(steps[at]!.next);
      const keyframe = w === -1 ? await model!.decodePng(await model!.encodeImage(nextSvg)) : w === 0 ? Buffer.from(nextSvg) : await squash(nextSvg, w, h);
      const d = await decide(mod, profile, state as never, steps[at]!.instruction, keyframe);
      total++;
      if (d.kind === 'act' && svg(d.next) === svg(steps[at]!.next)) ok++;
      else {
        const r = d.kind === 'act' ? 'wrong outcome' : d.reason.includes('shows changes') ? 'residual area' : d.reason.includes('progress') ? 'distance/progress' : d.reason;
        reasons[r] = (reasons[r] ?? 0) + 1;
        if (process.argv.includes('--verbose') && d.kind !== 'act') console.log(`  ${scene} ${steps[at]!.instruction}: ${d.reason.replace(/^.*?\(/, '(')}`);
      }
    }
  }
  console.log(`${w === -1 ? `VQ ${dir}` : `${w}x${h}`}: accepted ${ok}/${total}`, JSON.stringify(reasons));
}
await model?.close();
