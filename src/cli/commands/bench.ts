import { SETTLE_MS, benchWorldModel, type BenchProgress } from '../../run/model-bench.js';
import { DEFAULT_DIDA } from '../../model/dida.js';
import { openWorldModel } from '../../model/open-model.js';
import { DEFAULT_KEEP_BIAS } from '../../model/world-model.js';
import { intFlag, modelFlags, modelFlagsHelp, numberFlag, parseFlags } from '../args.js';
import type { CliIo, Command } from '../command.js';
import { EXIT } from '../exit-codes.js';

const help = `keystep bench [--json] [--passes N] [--transitions 12] [--plans 3] [--devices cpu] [--model models] [--keep-bias 0] [--draw-all]

AR and DiDA keyframe decoding of the embedded world model, on the same model and the same held-out
inputs, in one run: keyframe p50, plan p50, and token accuracy (share of keyframe tokens equal to the
tokens of the simulator's true next state). Also prints what copying the input would score, and how
often the sim controller acts on the keyframes as the oracle meant. Latencies are warm: each sampler
draws every input once untimed; then the samplers take turns input by input (idle, AR timed; idle,
DiDA untimed on another input, DiDA timed), so both are timed under the same conditions and neither
pays for the other's aftermath. Plans are timed back to back, with no idle.
It takes minutes: what it measures and how far it got go to stderr, also with --json.

  --json              print one object: { ar: { keyframeP50Ms, planP50Ms, tokenAccuracy },
                      dida: { ... }, speedup, ... } (speedup = AR keyframe p50 / DiDA keyframe p50)
  --passes <n>        DiDA refinement passes (default: the model's own, spec.json decoding.passes, else 2)
  --transitions <n>   held-out one-step transitions per scene (default 12)
  --plans <n>         7-step T-shirt plans timed per sampler (default 3)
  --settle-ms <ms>    idle before each timed keyframe (default ${SETTLE_MS}; 0: none, so a DiDA keyframe
                      also pays for the AR one before it)
${modelFlagsHelp(22)}
  --keep-bias <x>     prior (logits) that a keyframe cell keeps its starting code, 0 = off, negative =
                      towards a change (default 0; write negative values as --keep-bias=-2)
  --draw-all          draw every keyframe cell with the VQ decoder, instead of keeping the starting
                      picture's pixels where the model kept its code (what the planner does)`;

export const benchCommand: Command = {
  help,
  async run(argv, io) {
    const { values } = parseFlags('bench', argv, {
      json: { type: 'boolean' },
      passes: { type: 'string' },
      transitions: { type: 'string' },
      plans: { type: 'string' },
      'settle-ms': { type: 'string' },
      devices: { type: 'string' },
      model: { type: 'string' },
      'draw-all': { type: 'boolean' },
      'keep-bias': { type: 'string' },
    });
    if (values.help) {
      io.out(help);
      return EXIT.ok;
    }
    const model = await openWorldModel(modelFlags('bench', values));
    try {
      const result = await benchWorldModel(model, {
        ...(values.passes !== undefined ? { passes: intFlag('bench', 'passes', values.passes, DEFAULT_DIDA.passes, { min: 1, max: 64 }) } : {}),
        transitionsPerScene: intFlag('bench', 'transitions', values.transitions, 12, { min: 1, max: 1000 }),
        plans: intFlag('bench', 'plans', values.plans, 3, { min: 1, max: 100 }),
        settleMs: intFlag('bench', 'settle-ms', values['settle-ms'], SETTLE_MS, { min: 0, max: 10_000 }),
        keepUnchanged: !values['draw-all'],
        keepBias: numberFlag('bench', 'keep-bias', values['keep-bias'], DEFAULT_KEEP_BIAS, { min: -20, max: 20 }),
        onProgress: progressOn(io),
      });
      if (io.tty) process.stderr.write('\n');
      if (values.json) {
        io.out(JSON.stringify(result));
        return EXIT.ok;
      }
      const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
      const row = (name: string, f: { keyframeP50Ms: number; planP50Ms: number; tokenAccuracy: number }) =>
        `${name.padEnd(5)} keyframe p50 ${String(f.keyframeP50Ms).padStart(8)} ms   plan p50 ${String(f.planP50Ms).padStart(8)} ms   token accuracy ${pct(f.tokenAccuracy)}`;
      io.out(row('ar', result.ar));
      io.out(row('dida', result.dida));
      io.out(`speedup (AR keyframe p50 / DiDA keyframe p50): ${result.speedup}x with ${result.inputs.passes} DiDA passes`);
      io.out(`copy-the-input baseline: ${pct(result.copyTokenAccuracy)}; on changed tokens AR ${pct(result.changedTokenAccuracy.ar)}, DiDA ${pct(result.changedTokenAccuracy.dida)}`);
      const acc = result.controllerAccepts;
      io.out(
        `sim controller acts as the oracle meant: tokenizer ceiling ${pct(acc.tokenizer)}, AR ${pct(acc.ar)}, DiDA ${pct(acc.dida)}` +
          (result.inputs.keepUnchanged ? ' (unchanged cells keep the starting picture)' : ' (every cell drawn by the VQ decoder)'),
      );
      io.out(`keyframes redrawn per 7-step plan (refused by the validator's picture checks, included in plan p50): AR ${result.planRedraws.ar}, DiDA ${result.planRedraws.dida}`);
      io.out(`inputs: ${result.inputs.transitions} held-out transitions (seeds >= ${result.inputs.seedBase}), ${result.inputs.plans} plans per sampler, ${result.inputs.settleMs} ms idle before each timed keyframe`);
      return EXIT.ok;
    } finally {
      await model.close();
    }
  },
};

/**
 * Progress on stderr, with --json too (the JSON object is stdout's only line): a terminal sees one line
 * redrawn in place; a log gets a line when a phase starts and then about every tenth of it.
 */
function progressOn(io: CliIo): (p: BenchProgress) => void {
  let phase = '';
  return ({ phase: now, done, total }) => {
    const line = `bench: ${now} ${done}/${total}`;
    if (io.tty) {
      process.stderr.write(`\r${line}`.padEnd(90));
    } else if (now !== phase || done === total || done % Math.max(1, Math.ceil(total / 10)) === 0) {
      io.err(line);
    }
    phase = now;
  };
}
