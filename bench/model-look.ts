/**
 * What the model's keyframes for a kind of step look like next to what they should be: for held-out
 * steps (both sets of bench/model-steps.ts: along the plan and after a miss) whose instruction starts
 * with `--only`, one row per step of four pictures: the starting picture, the simulator's true next
 * state, the tokenizer's drawing of that truth (what a perfect transformer could give, as
 * `--backend oracle-vq` draws it) and the model's greedy DiDA keyframe (the planner's first draw).
 * Under the last two, the sim controller's verdict and, when it refuses, how far the keyframe got.
 * bench/model-cells.ts counts where a kind of step goes wrong; this shows it.
 *
 *   npx tsx bench/model-look.ts [--dir models] [--scene table|tshirt] [--only "pick up the fork"] [--n 60] [--rows 6] [--out file.png]
 */
import { writeFileSync } from 'node:fs';
import { decide, type ControllerDecision } from '../sim/controller.js';
import { sceneById } from '../src/scenes/registry.js';
import { svgToPng } from '../sim/render.js';
import { contactSheet, type SheetTile } from '../src/image/contact-sheet.js';
import { heldOutCases, heldOutRecoveries } from '../src/run/model-bench.js';
import { WorldModel } from '../src/model/world-model.js';
import { SceneId } from '../src/schema/index.js';
import { benchFlags } from './flags.js';

const usage = 'npx tsx bench/model-look.ts [--dir models] [--scene table|tshirt] [--only "pick up the fork"] [--n 60] [--rows 6] [--out file.png]';
const flags = benchFlags(usage, { dir: 'string', scene: 'string', only: 'string', n: 'string', rows: 'string', out: 'string' });
const scene = flags.choice('scene', SceneId.options, 'table');
const only = flags.values.only ?? 'pick up the fork';
const n = flags.int('n', 60, { min: 1, max: 100_000 });
const maxRows = flags.int('rows', 6, { min: 1, max: 1_000 });
const out = flags.values.out ?? `runs/model-look-${scene}-${only.replace(/[^a-z0-9]+/gi, '-')}.png`;
const dir = flags.values.dir ?? 'models/vq';
const model = await WorldModel.open({ dir });
const mod = sceneById(scene);

/** The controller's verdict on a keyframe, in a few words: acted as meant, acted otherwise, or why not. */
function verdict(d: ControllerDecision<unknown>, truthSvg: string, svg: (s: unknown) => string): string {
  switch (d.kind) {
    case 'act':
      return svg(d.next) === truthSvg ? 'robot acts as meant' : 'robot acts, another outcome';
    case 'unreachable':
      // "keyframe unreachable: ... (progress 0.0004 of 0.0013 needed 0.0007)": keep the figures.
      return `refused: ${/progress [^)]*/.exec(d.reason)?.[0] ?? d.reason.replace(/^keyframe unreachable: /, '').slice(0, 60)}`;
    case 'reject':
      return `rejected: ${d.reason.slice(0, 60)}`;
  }
}

const tiles: SheetTile[] = [];
let rows = 0;
for (const [set, cases] of [['along the plan', heldOutCases(scene, n)], ['after a miss', heldOutRecoveries(scene, n)]] as const) {
  for (const [i, c] of cases.entries()) {
    if (rows >= maxRows) break;
    const step = c.steps[c.at]!.instruction;
    if (!step.startsWith(only)) continue;
    const startSvg = c.svg(c.state);
    const truthSvg = c.svg(c.steps[c.at]!.next);
    const picture = await model.encodePicture(startSvg);
    const tokenizer = await model.decodePng(await model.encodeImage(truthSvg), picture);
    // The same greedy draw as model-steps.ts's and model-cells.ts's first column.
    const drawn = await model.decodePng(await model.keyframe(c.robot, c.task, picture.codes, step, { sampler: 'dida', seed: i * 101 }), picture);
    const judge = async (png: Uint8Array) => verdict(await decide(mod, c.profile, c.state as never, step, png), truthSvg, c.svg);
    tiles.push(
      { image: await svgToPng(startSvg), caption: step, note: `${c.robot}, ${set}` },
      { image: await svgToPng(truthSvg), caption: 'truth (simulator)' },
      { image: tokenizer, caption: 'truth through the tokenizer', note: await judge(tokenizer) },
      { image: drawn, caption: 'model (DiDA, greedy)', note: await judge(drawn) },
    );
    rows++;
    process.stderr.write(`\r${rows} rows`);
  }
}
process.stderr.write('\n');
if (rows === 0) {
  console.error(`no held-out ${scene} step starts with "${only}" in ${n} cases per set`);
  process.exitCode = 1;
} else {
  writeFileSync(out, await contactSheet(tiles, { columns: 4, tileWidth: 320, title: `${scene}: "${only}", held-out steps, model in ${dir}/` }));
  console.log(out);
}
await model.close();
