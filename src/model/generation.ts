import type { Rng } from '../util/rng.js';
import type { ForwardOutput, KvCache, ModelSessions } from './onnx-session.js';

/**
 * Generation as parts around one loop, the way transformers.js does it: logits processors shape the
 * scores, a sampler picks a token, stopping criteria end the loop. Text AR and image AR are this loop
 * with different parts; DiDA (dida.ts) is a different loop over the same forward pass.
 */

/** What a part may look at when it decides. */
export interface StepContext {
  /** Tokens generated so far (not the prompt). */
  generated: readonly number[];
  /** Index of the token about to be chosen among the generated ones. */
  step: number;
}

/** Changes scores in place (row of V logits). */
export type LogitsProcessor = (logits: Float32Array, ctx: StepContext) => void;
export type Sampler = (logits: Float32Array, rng: Rng) => number;
export type StoppingCriterion = (generated: readonly number[]) => boolean;

// ---------------------------------------------------------------- processors

/** Only ids in [lo, hi) stay possible. */
export const allowRange = (lo: number, hi: number, extra: readonly number[] = []): LogitsProcessor => (logits) => {
  for (let i = 0; i < logits.length; i++) if ((i < lo || i >= hi) && !extra.includes(i)) logits[i] = -Infinity;
};

/** Exactly `id` at the steps `when` says so (end of row at the end of each image row). */
export const forceAt = (when: (step: number) => boolean, id: number): LogitsProcessor => (logits, ctx) => {
  if (!when(ctx.step)) return;
  logits.fill(-Infinity);
  logits[id] = 0;
};

/** Never `ids` at the steps `when` allows (a visual position cannot hold an end of row). */
export const forbidAt = (when: (step: number) => boolean, ids: readonly number[]): LogitsProcessor => (logits, ctx) => {
  if (!when(ctx.step)) return;
  for (const id of ids) logits[id] = -Infinity;
};

/**
 * Records the log-probability row of every step as the processors before it leave it, so the tokens a
 * generation chose can be scored afterwards under the model's own (range-restricted) distribution,
 * whatever later processors forced or forbade.
 */
export function logProbTap(): { processor: LogitsProcessor; logProbOf: (tokens: readonly number[]) => number } {
  const rows: { logits: Float32Array; lse: number }[] = [];
  return {
    processor: (logits, ctx) => {
      let max = -Infinity;
      for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
      let sum = 0;
      for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
      rows[ctx.step] = { logits: logits.slice(), lse: max + Math.log(sum) };
    },
    logProbOf: (tokens) => tokens.reduce((lp, t, step) => lp + rows[step]!.logits[t]! - rows[step]!.lse, 0),
  };
}

export const temperature = (t: number): LogitsProcessor => (logits) => {
  if (t <= 0 || t === 1) return;
  for (let i = 0; i < logits.length; i++) logits[i] = logits[i]! / t;
};

/** Keeps the k best scores. */
export const topK = (k: number): LogitsProcessor => (logits) => {
  if (k <= 0 || k >= logits.length) return;
  const kth = Float32Array.from(logits).sort().reverse()[k - 1]!;
  for (let i = 0; i < logits.length; i++) if (logits[i]! < kth) logits[i] = -Infinity;
};

/** Keeps the smallest set of best tokens whose probability reaches p. */
export const topP = (p: number): LogitsProcessor => (logits) => {
  if (p >= 1) return;
  const probs = softmax(logits);
  const order = Array.from(probs.keys()).sort((a, b) => probs[b]! - probs[a]!);
  let sum = 0;
  let cut = order.length;
  for (let r = 0; r < order.length; r++) {
    sum += probs[order[r]!]!;
    if (sum >= p) {
      cut = r + 1;
      break;
    }
  }
  for (let r = cut; r < order.length; r++) logits[order[r]!] = -Infinity;
};

// ---------------------------------------------------------------- samplers

export function softmax(logits: ArrayLike<number>): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = logits[i]! === -Infinity ? 0 : Math.exp(logits[i]! - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / sum;
  return out;
}

export const greedy: Sampler = (logits) => {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
};

/** Draws from the softmax with the seeded Rng. */
export const multinomial: Sampler = (logits, rng) => {
  const probs = softmax(logits);
  let u = rng.float();
  for (let i = 0; i < probs.length; i++) {
    u -= probs[i]!;
    if (u < 0) return i;
  }
  return greedy(logits, rng);
};

// ---------------------------------------------------------------- stopping

export const maxTokens = (n: number): StoppingCriterion => (generated) => generated.length >= n;
export const stopAt = (id: number): StoppingCriterion => (generated) => generated[generated.length - 1] === id;

// ---------------------------------------------------------------- the loop

export interface SamplingOptions {
  /** 0 = greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
}

/** Temperature, top-k and top-p processors plus the sampler they imply. */
export function samplingParts(o: SamplingOptions): { processors: LogitsProcessor[]; sampler: Sampler } {
  const t = o.temperature ?? 0;
  if (t <= 0) return { processors: [], sampler: greedy };
  return { processors: [temperature(t), topK(o.topK ?? 0), topP(o.topP ?? 1)], sampler: multinomial };
}

export interface Prompt {
  ids: readonly number[];
  imagePos: readonly number[];
  /** The transformer's `cond_ids` for the prompt (ForwardInput.cond); absent = none. */
  cond?: readonly number[];
}

export interface GenerateOptions {
  processors: readonly LogitsProcessor[];
  sampler: Sampler;
  stopping: readonly StoppingCriterion[];
  rng: Rng;
  /** Image position of the generated token at `step` (0 for text). */
  imagePosOf?: (step: number) => number;
  /** `cond_ids` of the generated token at `step` (ForwardInput.cond; 0 = none, the default). */
  condOf?: (step: number) => number;
  signal?: AbortSignal;
}

/** What text generation needs of a model: a forward pass with a KV cache, and the cache's shape. */
export type TextSession = Pick<ModelSessions, 'forward' | 'layers' | 'heads' | 'headDim'>;

export function emptyCache(s: Pick<ModelSessions, 'layers' | 'heads' | 'headDim'>): KvCache {
  return { data: new Float32Array(0), dims: [s.layers, 2, 1, s.heads, 0, s.headDim] };
}

export function causalMask(T: number, P = 0): Float32Array {
  const m = new Float32Array(T * (P + T));
  for (let t = 0; t < T; t++) m.fill(1, t * (P + T), t * (P + T) + P + t + 1);
  return m;
}

/** Runs a prompt through the model causally; returns the last row of logits and the cache. */
export async function prefill(model: TextSession, prompt: Prompt, past: KvCache = emptyCache(model)): Promise<{ last: Float32Array; cache: KvCache; out: ForwardOutput }> {
  const P = past.dims[4]!;
  const T = prompt.ids.length;
  const out = await model.forward({
    ids: prompt.ids,
    positions: prompt.ids.map((_, i) => P + i),
    imagePos: prompt.imagePos,
    mask: causalMask(T, P),
    past,
    ...(prompt.cond ? { cond: prompt.cond } : {}),
  });
  return { last: out.logits.slice((T - 1) * out.vocab, T * out.vocab), cache: out.present, out };
}

/**
 * Autoregressive generation with a KV cache: one forward pass per token. Returns the generated ids
 * (including the token that stopped it).
 */
export async function generate(model: TextSession, prompt: Prompt, options: GenerateOptions): Promise<number[]> {
  let { last, cache } = await prefill(model, prompt);
  const generated: number[] = [];
  for (let step = 0; ; step++) {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('generation aborted');
    const ctx: StepContext = { generated, step };
    for (const p of options.processors) p(last, ctx);
    const token = options.sampler(last, options.rng);
    generated.push(token);
    if (options.stopping.some((s) => s(generated))) return generated;
    const P = cache.dims[4]!;
    const out = await model.forward({
      ids: [token],
      positions: [P],
      imagePos: [options.imagePosOf?.(step) ?? 0],
      mask: new Float32Array(P + 1).fill(1),
      past: cache,
      ...(options.condOf ? { cond: [options.condOf(step)] } : {}),
    });
    last = out.logits.slice(0, out.vocab);
    cache = out.present;
  }
}
