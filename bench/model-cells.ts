/**
 * Why the model's keyframes for a kind of step are refused, cell by cell. For held-out steps (both
 * sets of bench/model-steps.ts: along the plan and after a miss) whose instruction starts with
 * `--only`, one DiDA pass over the all-masked keyframe gives the model's distribution at every cell;
 * at the cells the step changes (the tokenizer's codes of the true next state differ from the
 * starting picture's) it prints how much the model puts on keeping the starting code and on the true
 * code, how many of those cells the greedy keyframe (the planner's first draw) changes and gets right,
 * and whether the controller acts on that keyframe. Then the question a decoding rule could answer:
 * would the controller act if every cell took the true code wherever it is among the model's top k
 * codes (an oracle choice; k = 1 is close to the greedy draw)? When that fails too, no rule that picks
 * among the model's likely codes can fix the step; the distribution itself is off.
 *
 *   npx tsx bench/model-cells.ts [--dir models] [--scene table|tshirt] [--n 60] [--only "pick up"] [--k 1,2,4,8] [--json]
 */
import { decide } from '../sim/controller.js';
import { sceneById } from '../src/scenes/registry.js';
import { heldOutCases, heldOutRecoveries } from '../src/run/model-bench.js';
import { prefill, softmax } from '../src/model/generation.js';
import { WorldModel } from '../src/model/world-model.js';
import { SceneId } from '../src/schema/index.js';
import { benchFlags } from './flags.js';

const usage = 'npx tsx bench/model-cells.ts [--dir models] [--scene table|tshirt] [--n 60] [--only "pick up"] [--k 1,2,4,8] [--json]';
const flags = benchFlags(usage, { dir: 'string', scene: 'string', n: 'string', only: 'string', k: 'string', json: 'boolean' });
const scene = flags.choice('scene', SceneId.options, 'table');
const n = flags.int('n', 60, { min: 1, max: 100_000 });
const only = flags.values.only ?? 'pick up';
const ks = flags.ints('k', [1, 2, 4, 8], { min: 1, max: 1_024 });
const json = flags.values.json;
const model = await WorldModel.open({ dir: flags.values.dir ?? 'models/vq' });
const layout = model.layout;
const { visualBase, codes: codeCount, roles } = layout.spec;
const mod = sceneById(scene);

/** The model's distribution over codes at every cell, from one pass over the all-masked keyframe. */
async function cellDistributions(robot: string, task: string, start: Int32Array, step: string): Promise<Float32Array[]> {
  const prompt = layout.keyframePrompt(robot, task, start, step);
  const cond = layout.imageTokens(start).ids;
  return model.pool.run(async (s) => {
    const { cache } = await prefill(s, prompt);
    const P = cache.dims[4]!;
    const S = layout.imageSpanLength;
    const span = Array.from({ length: S }, (_, k) => (layout.isEndOfRowAt(k) ? roles.endOfRow : roles.mask));
    const imagePos = Array.from({ length: S }, (_, k) => layout.imagePosAt(k));
    const out = await s.scores({ ids: span, positions: span.map((_, k) => P + k), imagePos, mask: new Float32Array(S * (P + S)).fill(1), past: cache, cond });
    const cells: Float32Array[] = [];
    for (let k = 0; k < S; k++) {
      if (layout.isEndOfRowAt(k)) continue;
      const base = k * out.vocab + visualBase;
      cells[layout.codeIndexAt(k)] = softmax(out.logits.subarray(base, base + codeCount));
    }
    return cells;
  });
}

interface Row { set: string; step: string; robot: string; changed: number; drawnChanged: number; drawnRight: number; pKeep: number; pTrue: number; acted: boolean; tokenizer: boolean; topK: Record<number, boolean> }
const rows: Row[] = [];
for (const [set, cases] of [['along the plan', heldOutCases(scene, n)], ['after a miss', heldOutRecoveries(scene, n)]] as const) {
  for (const [i, c] of cases.entries()) {
    const step = c.steps[c.at]!.instruction;
    if (!step.startsWith(only)) continue;
    const truthSvg = c.svg(c.steps[c.at]!.next);
    const picture = await model.encodePicture(c.svg(c.state));
    const truth = await model.encodeImage(truthSvg);
    const acts = async (codes: Int32Array) => {
      const d = await decide(mod, c.profile, c.state as never, step, await model.decodePng(codes, picture));
      return d.kind === 'act' && c.svg(d.next) === truthSvg;
    };
    // The same greedy draw as model-steps.ts's first column.
    const drawn = await model.keyframe(c.robot, c.task, picture.codes, step, { sampler: 'dida', seed: i * 101 });
    const dist = await cellDistributions(c.robot, c.task, picture.codes, step);
    const row: Row = { set, step, robot: c.robot, changed: 0, drawnChanged: 0, drawnRight: 0, pKeep: 0, pTrue: 0, acted: await acts(drawn), tokenizer: await acts(truth), topK: {} };
    for (let j = 0; j < truth.length; j++) {
      if (truth[j] === picture.codes[j]) continue;
      row.changed++;
      if (drawn[j] !== picture.codes[j]) row.drawnChanged++;
      if (drawn[j] === truth[j]) row.drawnRight++;
      row.pKeep += dist[j]![picture.codes[j]!]!;
      row.pTrue += dist[j]![truth[j]!]!;
    }
    row.pKeep /= Math.max(1, row.changed);
    row.pTrue /= Math.max(1, row.changed);
    for (const k of ks) {
      const chosen = Int32Array.from(drawn);
      for (let j = 0; j < truth.length; j++) {
        const p = dist[j]!;
        const top = Array.from(p.keys()).sort((a, b) => p[b]! - p[a]! || a - b).slice(0, k);
        if (top.includes(truth[j]!)) chosen[j] = truth[j]!;
      }
      row.topK[k] = await acts(chosen);
    }
    rows.push(row);
    if (!json) process.stderr.write(`\r${set}: ${i + 1}/${cases.length}`);
  }
}
if (json) console.log(JSON.stringify({ scene, only, n, ks, rows }));
else {
  process.stderr.write('\n');
  const pct = (x: number) => `${(100 * x).toFixed(0)} %`;
  for (const set of ['along the plan', 'after a miss']) {
    for (const acted of [true, false]) {
      const rs = rows.filter((r) => r.set === set && r.acted === acted);
      if (rs.length === 0) continue;
      const sum = (f: (r: Row) => number) => rs.reduce((a, r) => a + f(r), 0);
      const changed = sum((r) => r.changed);
      console.log(`\n${scene}, ${set}, "${only}...", greedy keyframe ${acted ? 'acted on' : 'refused'}: ${rs.length} steps (the tokenizer's drawing of the truth acted on in ${sum((r) => (r.tokenizer ? 1 : 0))})`);
      console.log(`  cells the step changes: ${changed}; the keyframe changes ${pct(sum((r) => r.drawnChanged) / changed)} of them and gets ${pct(sum((r) => r.drawnRight) / changed)} right`);
      console.log(`  the model's mean probability there: keep the starting code ${(sum((r) => r.pKeep * r.changed) / changed).toFixed(2)}, the true code ${(sum((r) => r.pTrue * r.changed) / changed).toFixed(2)}`);
      console.log(`  acted on with the true code wherever it is in the model's top k: ${ks.map((k) => `k=${k} ${sum((r) => (r.topK[k] ? 1 : 0))}/${rs.length}`).join(', ')}`);
    }
  }
}
await model.close();
