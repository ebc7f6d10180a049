/**
 * Which steps the model's keyframes carry: for held-out steps, how often the sim controller acts as
 * the oracle meant on the model's DiDA keyframe, per kind of step. Two sets per scene:
 *   - "along the plan": starts on the oracle's own path (src/run/model-bench.ts heldOutCases), the
 *     steps `keystep bench` samples;
 *   - "after a miss": the first state after an injected miss and the oracle's first recovery step
 *     (heldOutRecoveries): one-corner grasps after a slip, a tipped cup stood up, a flipped collar.
 *     The closed loop ends on these more than on any other step.
 * Each step gets the greedy draw and k - 1 draws sampled at 0.7 (the planner's retries), so the
 * table shows both what the first plan gets and whether a replan can help. In brackets, how often the
 * controller acts on the model's own encoding of the true next state (VQ tokens, or palette cells): what a perfect transformer
 * would get (the per-step view of `rollout --backend oracle-vq`).
 *
 * `--passes` and `--keep-bias` (KeyframeOptions) apply to every draw, `--redraw-keep-bias` to the
 * k - 1 sampled ones only (default: the same as the first draw).
 *
 * `--split robot` counts each kind per robot; `--split start` counts a T-shirt step apart when it
 * starts from a fold left part of the way (a one-corner grasp on a half-folded bottom comes only
 * after two misses in a row, and the training data barely has it).
 *
 *   npx tsx bench/model-steps.ts [--dir models] [--n 60] [--k 2] [--scene tshirt|table] [--passes n] [--keep-bias=x] [--layouts heldout|train] [--split robot|start] [--json]
 */
import { decide } from '../sim/controller.js';
import { sceneById } from '../src/scenes/registry.js';
import { cellErrors, heldOutCases, heldOutRecoveries, type CellErrors, type HeldOutCase } from '../src/run/model-bench.js';
import { openWorldModel } from '../src/model/open-model.js';
import { SceneId } from '../src/schema/index.js';
import { isFolded, type TshirtState } from '../src/scenes/tshirt/model.js';
import { benchFlags } from './flags.js';

const flags = benchFlags('npx tsx bench/model-steps.ts [--dir models] [--n 60] [--k 2] [--scene tshirt|table] [--passes n] [--keep-bias=x] [--redraw-keep-bias=x] [--layouts heldout|train] [--split robot|start] [--json]', {
  dir: 'string', n: 'string', k: 'string', scene: 'string', passes: 'string', 'keep-bias': 'string', 'redraw-keep-bias': 'string', layouts: 'string', split: 'string', json: 'boolean',
});
const n = flags.int('n', 60, { min: 1, max: 100_000 });
const k = flags.int('k', 2, { min: 1, max: 64 });
const scene = flags.choice('scene', SceneId.options, undefined);
const scenes: readonly SceneId[] = scene !== undefined ? [scene] : SceneId.options;
const json = flags.values.json;
// Training layouts (scene seeds from 0) against held-out ones: the gap says whether more layouts would help.
const layouts = flags.choice('layouts', ['heldout', 'train'], 'heldout');
const seedBase = layouts === 'train' ? { plan: 0, recovery: 0 } : { plan: undefined, recovery: undefined };
const split = flags.choice('split', ['robot', 'start'], undefined);
const passes = flags.int('passes', undefined, { min: 1, max: 64 });
const firstKeepBias = flags.number('keep-bias', undefined, { min: -20, max: 20 });
const keepBias = { first: firstKeepBias, redraw: flags.number('redraw-keep-bias', undefined, { min: -20, max: 20 }) ?? firstKeepBias };
const prior = (b: number | undefined) => (b !== undefined ? { keepBias: b } : {});
const model = await openWorldModel({ dir: flags.values.dir ?? 'models' });

/** "pick up the cup with the right arm" -> "pick up the cup": the step without its arm. */
const kindOf = (step: string) => step.replace(/ with (the (left|right)|both) arms?$/, '');

/** The folds a T-shirt state has left part of the way, "bottom, half" ("" for none, and for the table). */
function partFolded(c: HeldOutCase): string {
  if (c.scene !== 'tshirt') return '';
  const s = c.state as TshirtState;
  return s.folds.filter((f) => !isFolded(s, f.id)).map((f) => f.id.replace('_', ' ')).join(', ');
}

/** The row a case counts in: its kind, and with --split its robot or its starting state. */
function rowOf(c: HeldOutCase): string {
  const kind = kindOf(c.steps[c.at]!.instruction);
  if (split === 'robot') return `${kind} (${c.robot})`;
  const part = split === 'start' ? partFolded(c) : '';
  return part === '' ? kind : `${kind} (${part} folded part way)`;
}

/**
 * tokenizer: the controller acts on the tokenizer's drawing of the true next state (the ceiling).
 * missed: cell errors summed over the greedy draws the controller does not act on (cellErrors), which
 * say whether the keep answer or the drawing of the changed cells lost the step.
 */
interface Row { cases: number; greedy: number; any: number; tokenizer: number; missed: CellErrors }
const emptyRow = (): Row => ({ cases: 0, greedy: 0, any: 0, tokenizer: 0, missed: { kept: 0, wrong: 0, redrawn: 0, changed: 0 } });
const addErrors = (sum: CellErrors, e: CellErrors) => {
  sum.kept += e.kept;
  sum.wrong += e.wrong;
  sum.redrawn += e.redrawn;
  sum.changed += e.changed;
};
const result: Record<string, Record<string, Record<string, Row>>> = {};
for (const scene of scenes) {
  const mod = sceneById(scene);
  const sets: [string, HeldOutCase[]][] = [
    ['along the plan', heldOutCases(scene, n, seedBase.plan)],
    ['after a miss', heldOutRecoveries(scene, n, seedBase.recovery)],
  ];
  for (const [set, cases] of sets) {
    const rows: Record<string, Row> = {};
    for (const [i, c] of cases.entries()) {
      const step = c.steps[c.at]!.instruction;
      const truth = c.svg(c.steps[c.at]!.next);
      const picture = await model.encodePicture(c.svg(c.state));
      const truthCodes = await model.encodeImage(truth);
      const ceiling = await decide(mod, c.profile, c.state as never, step, await model.decodePng(truthCodes, picture));
      const row = (rows[rowOf(c)] ??= emptyRow());
      let acted = '';
      for (let d = 0; d < k; d++) {
        const codes = await model.keyframe(c.robot, c.task, picture.codes, step, { sampler: 'dida', seed: i * 101 + d, ...(passes !== undefined ? { passes } : {}), ...(d > 0 ? { temperature: 0.7, ...prior(keepBias.redraw) } : prior(keepBias.first)) });
        const decision = await decide(mod, c.profile, c.state as never, step, await model.decodePng(codes, picture));
        const hit = decision.kind === 'act' && c.svg(decision.next) === truth;
        if (d === 0 && !hit) addErrors(row.missed, cellErrors(picture.codes, truthCodes, codes, model.codesPerCell));
        acted += hit ? 'Y' : '.';
      }
      row.cases++;
      if (ceiling.kind === 'act' && c.svg(ceiling.next) === truth) row.tokenizer++;
      if (acted[0] === 'Y') row.greedy++;
      if (acted.includes('Y')) row.any++;
      if (!json) process.stderr.write(`\r${scene} ${set}: ${i + 1}/${cases.length}`);
    }
    ((result[scene] ??= {})[set] = rows);
    if (!json) {
      process.stderr.write('\n');
      const all = emptyRow();
      for (const r of Object.values(rows)) {
        all.cases += r.cases;
        all.greedy += r.greedy;
        all.any += r.any;
        all.tokenizer += r.tokenizer;
        addErrors(all.missed, r.missed);
      }
      console.log(`\n${scene}, ${set}: the controller acts on the greedy draw / on any of ${k} draws [on the tokenizer's drawing of the truth];`
        + ' per greedy draw it does not act on, of the cells the step changes: kept / drawn wrong / all; cells it keeps redrawn');
      const perMiss = (x: number, r: Row) => (r.cases === r.greedy ? '-' : (x / (r.cases - r.greedy)).toFixed(1));
      const line = (kind: string, r: Row) => `  ${kind.padEnd(34)} ${String(r.greedy).padStart(3)} / ${String(r.any).padStart(3)} of ${r.cases} [${r.tokenizer}]`
        + `  ${perMiss(r.missed.kept, r)} / ${perMiss(r.missed.wrong, r)} / ${perMiss(r.missed.changed, r)}; ${perMiss(r.missed.redrawn, r)}`;
      for (const [kind, r] of Object.entries(rows).sort()) console.log(line(kind, r));
      console.log(line('all', all));
    }
  }
}
if (json) console.log(JSON.stringify({ n, k, passes, keepBias, result }));
await model.close();
