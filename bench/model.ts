/**
 * AR vs DiDA keyframe decoding on the embedded world model, same model and same held-out inputs, one
 * run. Prints keyframe p50, 7-step T-shirt plan p50, token accuracy against the simulator's true next
 * state, and speedup = AR keyframe p50 / DiDA keyframe p50.
 *
 *   npx tsx bench/model.ts [--json] [--passes 4] [--transitions 12] [--plans 3] [--devices cpu,cpu]
 */
import { benchWorldModel } from '../src/model/bench.js';
import { WorldModel } from '../src/model/world-model.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const json = process.argv.includes('--json');
const model = await WorldModel.open({ devices: (arg('devices') ?? 'cpu').split(','), ...(arg('dir') ? { dir: arg('dir')! } : {}) });
try {
  const result = await benchWorldModel(model, {
    passes: Number(arg('passes') ?? 4),
    transitionsPerScene: Number(arg('transitions') ?? 12),
    plans: Number(arg('plans') ?? 3),
    onProgress: json ? undefined : (line) => process.stderr.write(`\r${line}   `),
  });
  if (json) {
    console.log(JSON.stringify(result));
  } else {
    process.stderr.write('\n');
    const row = (name: string, f: { keyframeP50Ms: number; planP50Ms: number; tokenAccuracy: number }) =>
      `${name.padEnd(5)} keyframe p50 ${String(f.keyframeP50Ms).padStart(8)} ms   plan p50 ${String(f.planP50Ms).padStart(8)} ms   token accuracy ${(f.tokenAccuracy * 100).toFixed(1)}%`;
    console.log(row('ar', result.ar));
    console.log(row('dida', result.dida));
    console.log(`speedup (AR/DiDA keyframe p50): ${result.speedup}x   DiDA passes: ${result.inputs.passes}`);
    console.log(`copy-the-input baseline accuracy: ${(result.copyTokenAccuracy * 100).toFixed(1)}%   on changed tokens: AR ${(result.changedTokenAccuracy.ar * 100).toFixed(1)}%, DiDA ${(result.changedTokenAccuracy.dida * 100).toFixed(1)}%`);
    const acc = result.controllerAccepts;
    console.log(`sim controller acts as the oracle meant: tokenizer ceiling ${(acc.tokenizer * 100).toFixed(0)}%, AR ${(acc.ar * 100).toFixed(0)}%, DiDA ${(acc.dida * 100).toFixed(0)}%`);
    console.log(`inputs: ${result.inputs.transitions} held-out transitions (seeds >= ${result.inputs.seedBase}), ${result.inputs.plans} T-shirt plans per sampler`);
  }
} finally {
  await model.close();
}
