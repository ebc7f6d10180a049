/**
 * Sim-controller tolerances against the tokenizer: for held-out one-step transitions, how often the
 * controller acts as the oracle meant on the VQ reconstruction of the true next state, and how often
 * it acts on wrong keyframes (all of them should be refused or lead elsewhere): the unchanged picture,
 * the state two steps on (the instructed change plus another), for instructions with several
 * outcomes the other outcomes (other slot, other side), and for steps that name an arm the same step
 * done by the other arm. Wrong keyframes are tried both as exact
 * renders and through the tokenizer. Also the model's own DiDA keyframe for the step (right when the
 * controller acts as the oracle meant). Sweeps residualBlur, maxResidualArea and minProgress, and
 * progressBlur at the other defaults; the defaults' row is marked.
 *
 *   npx tsx bench/model-tolerance.ts [--dir models] [--n 24] [--seed 100500] [--only "pick up"]
 */
import { decide, DEFAULT_CONTROLLER_OPTIONS, type ControllerOptions } from '../sim/controller.js';
import { sceneById } from '../src/scenes/registry.js';
import { heldOutCases, type HeldOutCase } from '../src/run/model-bench.js';
import { WorldModel } from '../src/model/world-model.js';
import { benchFlags } from './flags.js';

const flags = benchFlags('npx tsx bench/model-tolerance.ts [--dir models] [--n 24] [--seed 100500] [--only "pick up"]', {
  dir: 'string', n: 'string', seed: 'string', only: 'string',
});
const n = flags.int('n', 24, { min: 1, max: 100_000 });
const seedBase = flags.int('seed', 100500, { min: 0, max: 2 ** 31 - 1 });
const only = flags.values.only;
const model = await WorldModel.open({ dir: flags.values.dir ?? 'models/vq' });
const recon = async (svg: string) => model.decodePng(await model.encodeImage(svg));

interface Case { mod: ReturnType<typeof sceneById>; profile: HeldOutCase['profile']; svg: HeldOutCase['svg']; state: unknown; step: string; truthSvg: string; keyframe: Uint8Array; wrong: boolean; kind: string }
const cases: Case[] = [];
for (const scene of ['tshirt', 'table'] as const) {
  const mod = sceneById(scene);
  // --only PREFIX keeps the steps that start with it (e.g. "pick up"), n / 2 of them per scene at most.
  const pool = only === undefined ? heldOutCases(scene, n / 2, seedBase) : heldOutCases(scene, n * 6, seedBase).filter((c) => c.steps[c.at]!.instruction.startsWith(only)).slice(0, n / 2);
  for (const { robot, task, profile, svg, state, steps, at } of pool) {
    const step = steps[at]!.instruction;
    const truthSvg = svg(steps[at]!.next);
    const base = { mod, profile, svg, state, step, truthSvg };
    cases.push({ ...base, keyframe: await recon(truthSvg), wrong: false, kind: 'truth (VQ)' });
    const pic = await model.encodePicture(svg(state));
    const drawn = await model.keyframe(robot, task, pic.codes, step, { sampler: 'dida', seed: cases.length });
    cases.push({ ...base, keyframe: await model.decodePng(drawn, pic), wrong: false, kind: 'model (DiDA)' });
    const wrongs: [string, string][] = [['unchanged', svg(state)]];
    if (at + 1 < steps.length) wrongs.push(['two steps on', svg(steps[at + 1]!.next)]);
    // The named arm swapped: the model's pick-ups often draw the other arm, which must be refused.
    const swapped = / the left arm$/.test(step) ? step.replace(/left arm$/, 'right arm') : / the right arm$/.test(step) ? step.replace(/right arm$/, 'left arm') : undefined;
    const other = swapped === undefined ? undefined : mod.parseInstruction(swapped, profile);
    if (other?.ok) {
      const found = mod.candidates(state as never, other.template, profile);
      if (found.ok) for (const c of found.candidates) wrongs.push(['other arm', svg(c.next)]);
    }
    const parsed = mod.parseInstruction(step, profile);
    if (parsed.ok) {
      const found = mod.candidates(state as never, parsed.template, profile);
      if (found.ok) for (const c of found.candidates) if (svg(c.next) !== truthSvg) wrongs.push(['other outcome', svg(c.next)]);
    }
    for (const [kind, w] of wrongs) {
      cases.push({ ...base, keyframe: Buffer.from(w), wrong: true, kind: `${kind} (exact)` });
      cases.push({ ...base, keyframe: await recon(w), wrong: true, kind: `${kind} (VQ)` });
    }
  }
}

const grid: ControllerOptions[] = [];
for (const residualBlur of [0, 1, 2]) for (const maxResidualArea of [0.004, 0.008]) for (const minProgress of [0.5, 0.3]) grid.push({ ...DEFAULT_CONTROLLER_OPTIONS, residualBlur, maxResidualArea, minProgress });
for (const progressBlur of [0, 2]) grid.push({ ...DEFAULT_CONTROLLER_OPTIONS, progressBlur });
for (const options of grid) {
  const byKind: Record<string, [number, number]> = {};
  for (const c of cases) {
    const d = await decide(c.mod, c.profile, c.state as never, c.step, c.keyframe, options);
    // Truth: acting as the oracle meant. Unchanged / two steps on: acting at all is a false accept.
    const meant = d.kind === 'act' && c.svg(d.next) === c.truthSvg;
    // An "other outcome" keyframe should be followed (the keyframe picks the slot/side): wrong only if
    // the controller still lands in the oracle's outcome.
    const hit = !c.wrong ? meant : c.kind.startsWith('other outcome') ? meant : d.kind === 'act';
    const e = (byKind[c.kind] ??= [0, 0]);
    e[0] += hit ? 1 : 0;
    e[1]++;
  }
  const cells = Object.entries(byKind).map(([k, [a, t]]) => `${k} ${a}/${t}`).join(', ');
  const isDefault = (Object.keys(options) as (keyof ControllerOptions)[]).every((k) => options[k] === DEFAULT_CONTROLLER_OPTIONS[k]);
  console.log(`${isDefault ? '* ' : '  '}blur ${options.residualBlur}/${options.progressBlur} residual<=${options.maxResidualArea} progress>=${options.minProgress}: accepted ${cells}`);
}
await model.close();
