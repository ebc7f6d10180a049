/**
 * What the sim controller accepts when the keyframe is the true next state squashed to WxH and
 * stretched back to the keyframe size (no tokenizer): the ceiling a model picture size leaves
 * (0x0 = the full-size render). With --dir, also the VQ tokenizer's reconstruction of the true next
 * state (encode -> decode with that export's ONNX files).
 *
 *   npx tsx bench/model-ceiling.ts [--n 24] [--sizes 0x0,64x64,128x128] [--dir models] [--seed 100500] [--verbose]
 */
import sharp from 'sharp';
import { decide } from '../sim/controller.js';
import { sceneById } from '../src/scenes/registry.js';
import { heldOutCases } from '../src/run/model-bench.js';
import { WorldModel } from '../src/model/world-model.js';
import { benchFlags } from './flags.js';

const usage = 'npx tsx bench/model-ceiling.ts [--n 24] [--sizes 0x0,64x64,128x128] [--dir models] [--seed 100500] [--verbose]';
const flags = benchFlags(usage, { n: 'string', sizes: 'string', dir: 'string', seed: 'string', verbose: 'boolean' });
const n = flags.int('n', 24, { min: 1, max: 100_000 });
const sizesArg = flags.values.sizes ?? '0x0,64x64,128x128';
const sizes = sizesArg.split(',').filter(Boolean).map((s) => s.split('x').map(Number) as [number, number]);
if (sizes.some((s) => s.length !== 2 || !s.every((v) => Number.isInteger(v) && v >= 0))) {
  console.error(`--sizes takes WxH sizes separated by commas, not ${JSON.stringify(sizesArg)}\nusage: ${usage}`);
  process.exit(2);
}
const seedBase = flags.int('seed', 100500, { min: 0, max: 2 ** 31 - 1 });
const verbose = flags.values.verbose;
// Without --dir, only the squashed renders: no model is opened.
const dir = flags.values.dir ?? '';
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
    for (const { profile, svg, state, steps, at } of heldOutCases(scene, n / 2, seedBase)) {
      const nextSvg = svg(steps[at]!.next);
      const keyframe = w === -1 ? await model!.decodePng(await model!.encodeImage(nextSvg)) : w === 0 ? Buffer.from(nextSvg) : await squash(nextSvg, w, h);
      const d = await decide(mod, profile, state as never, steps[at]!.instruction, keyframe);
      total++;
      if (d.kind === 'act' && svg(d.next) === nextSvg) ok++;
      else {
        const r = d.kind === 'act' ? 'wrong outcome' : d.reason.includes('shows changes') ? 'residual area' : d.reason.includes('progress') ? 'distance/progress' : d.reason;
        reasons[r] = (reasons[r] ?? 0) + 1;
        if (verbose && d.kind !== 'act') console.log(`  ${scene} ${steps[at]!.instruction}: ${d.reason.replace(/^.*?\(/, '(')}`);
      }
    }
  }
  console.log(`${w === -1 ? `VQ ${dir}` : `${w}x${h}`}: accepted ${ok}/${total}`, JSON.stringify(reasons));
}
await model?.close();
