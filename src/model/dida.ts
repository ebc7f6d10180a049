import type { Rng } from '../util/rng.js';
import { greedy, prefill, softmax, type Prompt } from './generation.js';
import type { ForwardInput, KvCache, ModelSessions } from './onnx-session.js';
import type { TokenLayout } from './spec.js';

/**
 * DiDA keyframe decoding: every visual token of the keyframe starts as MASK and a few parallel passes
 * fill them, the keyframe span attending to itself both ways while the prompt before it stays causal
 * (its KV cache is computed once). Each pass commits the most confident predictions, so that the
 * filled share follows the schedule; the last pass fills the rest, so no MASK is ever left.
 */
export interface DidaOptions {
  /** Forward passes over the span (>= 1). */
  passes: number;
  /** How the filled share grows with the passes: cosine (MaskGIT: few early, many late) or linear. */
  schedule: 'cosine' | 'linear';
  /** 0 = greedy per token. */
  temperature: number;
  /** Classifier-free guidance scale; 1 (or no unconditional prompt) = off. */
  guidance: number;
  /**
   * Prior that a cell keeps the starting picture's code: `bias` is added to the logit of
   * `reference[cell]` (0 = off). See KeyframeOptions.keepBias.
   */
  keep?: { reference: ArrayLike<number>; bias: number };
  /**
   * The starting picture's span tokens (TokenLayout.imageTokens), fed as `cond_ids` of the span: a
   * DiDA position predicts its own cell. Models without the conditioning input ignore it.
   */
  condition?: readonly number[];
  rng: Rng;
  signal?: AbortSignal;
  /**
   * Called after each pass with the span as filled so far (MASK where a cell is still open), for a
   * viewer watching a keyframe appear. The span is a copy; nothing it does changes the fill.
   */
  onPass?: (pass: number, span: readonly number[]) => void;
}

// Two passes: measured with keystep bench --passes 1/2/4 on the committed model, token accuracy and
// the controller's acceptance do not improve past two (models/README.md), and each pass costs a
// forward over the whole span.
export const DEFAULT_DIDA: Omit<DidaOptions, 'rng'> = { passes: 2, schedule: 'cosine', temperature: 0, guidance: 1 };

/** Tokens that should be filled after pass `p` (0-based) of `passes`, out of `n`. */
export function filledAfter(p: number, passes: number, n: number, schedule: DidaOptions['schedule']): number {
  if (p >= passes - 1) return n;
  const x = (p + 1) / passes;
  const share = schedule === 'cosine' ? 1 - Math.cos((Math.PI / 2) * x) : x;
  return Math.min(n, Math.max(1, Math.round(share * n)));
}

/**
 * Inputs of forwards over the whole span after a cached prompt: the span sees the prompt and itself
 * both ways. Positions and the all-ones mask depend only on the prompt's length, so they are built
 * once per fill, not once per pass.
 */
function spanFeeder(cache: KvCache, imagePos: readonly number[], cond: readonly number[] | undefined): (span: readonly number[]) => ForwardInput {
  const P = cache.dims[4]!;
  const S = imagePos.length;
  const positions = Array.from({ length: S }, (_, i) => P + i);
  const mask = new Float32Array(S * (P + S)).fill(1);
  return (span) => ({ ids: span, positions, imagePos, mask, past: cache, ...(cond ? { cond } : {}) });
}

/**
 * Greedy pick and its softmax probability straight from a logits row, without copying it: what
 * softmax + greedy give (same first-max tie rule, same float32 rounding of the probability), for the
 * common case of no guidance, no keep prior and temperature 0, which runs for every open token of
 * every pass.
 */
function greedyPick(logits: Float32Array, base: number, n: number): { token: number; confidence: number } {
  let token = 0;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = logits[base + i]!;
    if (v > max) {
      max = v;
      token = i;
    }
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(logits[base + i]! - max);
  return { token, confidence: Math.fround(1 / sum) };
}

/**
 * The greedy pick of one position with a keep prior, from the graph's unbiased pick (`best`, its
 * probability `confidence`) and two or three logits, instead of a softmax over every code: the prior
 * moves only the reference code's logit, so the biased normaliser is Z' = Z + e^l_ref (e^bias - 1),
 * with Z = e^l_best / confidence. Only where the reference code was the best and the prior pushes it
 * down does the runner-up need a scan (no exp). Same pick and probability as softmax + greedy over the
 * biased row (a test compares both).
 */
export function keptPick(logits: Float32Array, base: number, n: number, best: number, confidence: number, reference: number, bias: number): { token: number; confidence: number } {
  const lb = logits[base + best]!;
  // float32, as the biased row of the softmax path holds it.
  const lr = Math.fround(logits[base + reference]! + bias);
  const logZ = lb - Math.log(confidence);
  const logZb = logZ + Math.log1p(Math.exp(logits[base + reference]! - logZ) * Math.expm1(bias));
  let token = best;
  let top = lb;
  if (best === reference) {
    top = lr;
    if (bias < 0) {
      // The first maximum over the other codes, then the reference if it still wins (ties: lowest index).
      for (let i = 0; i < n; i++) {
        if (i === reference) continue;
        const v = logits[base + i]!;
        if (v > top || (v === top && i < token)) {
          top = v;
          token = i;
        }
      }
    }
  } else if (lr > lb || (lr === lb && reference < best)) {
    token = reference;
    top = lr;
  }
  return { token, confidence: Math.fround(Math.exp(top - logZb)) };
}

/**
 * Fills a keyframe span after `prompt` (which ends with <|image start|>). `unconditional` is the same
 * prompt without the step text, for guidance. Returns the span's ids (visual and end-of-row tokens).
 */
export async function didaFill(model: ModelSessions, layout: TokenLayout, prompt: Prompt, options: DidaOptions, unconditional?: Prompt): Promise<number[]> {
  const { visualBase, codes } = layout.spec;
  const { mask, endOfRow } = layout.roles;
  const S = layout.imageSpanLength;
  const span: number[] = [];
  const imagePos: number[] = [];
  const open: number[] = [];
  for (let k = 0; k < S; k++) {
    imagePos.push(layout.imagePosAt(k));
    if (layout.isEndOfRowAt(k)) span.push(endOfRow);
    else {
      span.push(mask);
      open.push(k);
    }
  }
  const total = open.length;
  const guided = unconditional !== undefined && options.guidance !== 1;
  const cond = spanFeeder((await prefill(model, prompt)).cache, imagePos, options.condition);
  const uncond = guided ? spanFeeder((await prefill(model, unconditional)).cache, imagePos, options.condition) : null;

  // Greedy without guidance or keep prior needs only each position's best code and its probability,
  // which the exported graphs compute (onnx-session.ts `picks`).
  const plain = !uncond && !options.keep && options.temperature <= 0;
  // Greedy with a keep prior: the graph's picks plus a few logits per position (keptPick).
  const kept = !uncond && options.keep !== undefined && options.temperature <= 0 ? options.keep : null;
  for (let p = 0; p < options.passes && open.length > 0; p++) {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('generation aborted');
    const picks: { k: number; token: number; confidence: number }[] = [];
    if (plain && model.picks) {
      const g = await model.picks(cond(span));
      for (const k of open) picks.push({ k, token: g.best[k]!, confidence: g.confidence[k]! });
      commit(p, picks);
      continue;
    }
    if (kept && model.picks) {
      const g = await model.picks(cond(span), true);
      for (const k of open) {
        const reference = kept.reference[layout.codeIndexAt(k)]!;
        picks.push({ k, ...keptPick(g.logits!, k * g.vocab! + visualBase, codes, g.best[k]!, g.confidence[k]!, reference, kept.bias) });
      }
      commit(p, picks);
      continue;
    }
    const c = await model.scores(cond(span));
    const u = uncond ? await model.scores(uncond(span)) : null;
    const row = new Float32Array(codes);
    for (const k of open) {
      const base = k * c.vocab + visualBase;
      if (plain) {
        picks.push({ k, ...greedyPick(c.logits, base, codes) });
        continue;
      }
      for (let i = 0; i < codes; i++) {
        const lc = c.logits[base + i]!;
        row[i] = u ? u.logits[base + i]! + options.guidance * (lc - u.logits[base + i]!) : lc;
      }
      if (options.keep) row[options.keep.reference[layout.codeIndexAt(k)]!]! += options.keep.bias;
      if (options.temperature > 0) for (let i = 0; i < codes; i++) row[i] = row[i]! / options.temperature;
      const probs = softmax(row);
      let token: number;
      if (options.temperature > 0) {
        let x = options.rng.float();
        token = codes - 1;
        for (let i = 0; i < codes; i++) {
          x -= probs[i]!;
          if (x < 0) {
            token = i;
            break;
          }
        }
      } else token = greedy(row, options.rng);
      picks.push({ k, token, confidence: probs[token]! });
    }
    commit(p, picks);
  }
  return span;

  /** Fills the most confident picks, as many as the schedule wants after pass `p`. */
  function commit(p: number, picks: { k: number; token: number; confidence: number }[]): void {
    const want = filledAfter(p, options.passes, total, options.schedule) - (total - open.length);
    // Ties break by position so the result does not depend on sort stability.
    picks.sort((a, b) => b.confidence - a.confidence || a.k - b.k);
    const chosen = picks.slice(0, Math.max(1, want));
    for (const pick of chosen) span[pick.k] = visualBase + pick.token;
    const done = new Set(chosen.map((x) => x.k));
    for (let i = open.length - 1; i >= 0; i--) if (done.has(open[i]!)) open.splice(i, 1);
    options.onPass?.(p, [...span]);
  }
}
