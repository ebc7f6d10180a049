/**
 * What spinning intra-op workers cost a palette model's keyframes. onnxruntime's workers spin for a
 * while after each run by default; a keyframe calls two graphs in turn (trunk, then pixel head), so
 * on a few cores the workers one graph leaves spinning take the cores the other needs. Spinning only
 * while a run lasts avoids that and saves each op's wake-up. This bench opens the same model three
 * ways (src/model/onnx-session.ts Spinning: off, run, on) and times greedy keyframes of held-out
 * T-shirt steps, the sessions taking turns round by round so that all see the same machine: DiDA at
 * 1 and 2 passes, and AR.
 * Prints each p50 and the ratios, off against run and on.
 *
 *   npx tsx bench/session-spin.ts --dir DIR [--threads 2] [--rounds 4] [--json]
 */
import { openPaletteSession, type PaletteSession, type Spinning } from '../src/model/onnx-session.js';
import { drawKeyframeAr, drawKeyframeDida } from '../src/model/palette-keyframes.js';
import { PaletteWorldModel } from '../src/model/palette-world-model.js';
import { heldOutCases } from '../src/run/model-bench.js';
import { benchFlags } from './flags.js';

const flags = benchFlags('npx tsx bench/session-spin.ts --dir DIR [--threads 2] [--rounds 4] [--json]', { dir: 'string', threads: 'string', rounds: 'string', json: 'boolean' });
const dir = flags.values.dir ?? 'models';
const threads = flags.int('threads', 2, { min: 1, max: 256 });
const rounds = flags.int('rounds', 4, { min: 1, max: 10_000 });
const json = flags.values.json;

const model = await PaletteWorldModel.open({ dir });
const shape = model.layout.spec.transformer;
const inputs: { prefix: number[]; start: Uint8Array }[] = [];
for (const c of heldOutCases('tshirt', 8)) {
  const prefix = model.layout.keyframePrefix(c.robot, c.task, c.steps[c.at]!.instruction);
  inputs.push({ prefix, start: Uint8Array.from((await model.encodePicture(c.svg(c.state))).codes) });
}
await model.close();

type Kind = 'dida1' | 'dida2' | 'ar';
const MODES = ['off', 'run', 'on'] as const satisfies readonly Spinning[];
type Mode = (typeof MODES)[number];
const modes = Object.fromEntries(await Promise.all(MODES.map(async (m) => [m, await openPaletteSession(dir, 'cpu', threads, m)] as const))) as Record<Mode, PaletteSession>;
const times = Object.fromEntries(MODES.map((m) => [m, { dida1: [] as number[], dida2: [] as number[], ar: [] as number[] }])) as Record<Mode, Record<Kind, number[]>>;
const draw = (s: PaletteSession, kind: Kind, i: (typeof inputs)[number]) =>
  kind === 'ar' ? drawKeyframeAr(s, shape, i.prefix, i.start) : drawKeyframeDida(s, shape, i.prefix, i.start, kind === 'dida1' ? 1 : 2);
for (let round = 0; round < rounds; round++) {
  for (const mode of MODES) {
    const s = modes[mode];
    for (const kind of ['dida1', 'dida2', 'ar'] as const) {
      // AR is 256 passes a keyframe: two inputs a round, all eight for DiDA; one untimed draw first.
      const timed = kind === 'ar' ? inputs.slice((round * 2) % inputs.length, ((round * 2) % inputs.length) + 2) : inputs;
      await draw(s, kind, timed[0]!);
      for (const i of timed) {
        const t0 = performance.now();
        await draw(s, kind, i);
        times[mode][kind].push(performance.now() - t0);
      }
    }
    if (!json) process.stderr.write(`\rround ${round + 1}/${rounds}, spinning ${mode}`);
  }
}
await Promise.all(MODES.map((m) => modes[m].release()));

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const round2 = (x: number) => Math.round(x * 100) / 100;
const figures = Object.fromEntries(
  MODES.map((m) => {
    const [d1, d2, ar] = (['dida1', 'dida2', 'ar'] as const).map((k) => p50(times[m][k]));
    return [m, { dida1P50Ms: round2(d1!), dida2P50Ms: round2(d2!), arP50Ms: round2(ar!), speedup1: round2(ar! / d1!), speedup2: round2(ar! / d2!) }];
  }),
) as Record<Mode, { dida1P50Ms: number; dida2P50Ms: number; arP50Ms: number; speedup1: number; speedup2: number }>;
const ratios = (m: Mode) => ({ dida1: round2(figures.off.dida1P50Ms / figures[m].dida1P50Ms), dida2: round2(figures.off.dida2P50Ms / figures[m].dida2P50Ms), ar: round2(figures.off.arP50Ms / figures[m].arP50Ms) });
const result = { dir, threads, rounds, figures, offOverRun: ratios('run'), offOverOn: ratios('on') };
if (json) console.log(JSON.stringify(result));
else {
  process.stderr.write('\n');
  for (const m of MODES) {
    const f = figures[m];
    console.log(`spinning ${m.padEnd(3)}  DiDA 1 pass ${f.dida1P50Ms} ms, 2 passes ${f.dida2P50Ms} ms, AR ${f.arP50Ms} ms; speedup ${f.speedup1} / ${f.speedup2}`);
  }
  for (const [m, r] of [['run', result.offOverRun], ['on', result.offOverOn]] as const) {
    console.log(`off / ${m}: DiDA 1 pass ${r.dida1}, 2 passes ${r.dida2}, AR ${r.ar}`);
  }
}
