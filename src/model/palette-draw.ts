import type { PaletteCellOutput, PaletteSession } from './onnx-session.js';

/**
 * Drawing cells from the palette graphs' answer (models/PALETTE.md): keep_prob >= 0.5 copies the
 * starting picture's cell unchanged, else the pixel graph draws the cell's 64 indices. The
 * confidence DiDA orders its fills by is keep_prob for a kept cell and (1 - keep_prob) *
 * pixel_confidence for a drawn one.
 */
export const KEEP_THRESHOLD = 0.5;

export interface DrawnCell {
  kept: boolean;
  pixels: Uint8Array;
  confidence: number;
}

/** Whether a cell keeps its starting picture, from the graph's keep probability. */
export type KeepRule = (keepProb: number) => boolean;

/** The greedy rule, as models/recipe.py draws: keep_prob >= 0.5. */
export const greedyKeep: KeepRule = (p) => p >= KEEP_THRESHOLD;

/**
 * The keep decision with a prior and sampling: `bias` is added to the keep logit (negative draws more
 * changes, as KeyframeOptions.keepBias), and at `temperature` > 0 the decision is drawn, keeping with
 * probability sigmoid((logit(p) + bias) / temperature). The graph answers only each pixel's best
 * index, so which cells change is what a redraw can vary. Temperature 0 and bias 0 is greedyKeep.
 */
export function keepRule(options: { bias?: number; temperature?: number; random?: () => number }): KeepRule {
  const bias = options.bias ?? 0;
  const temperature = options.temperature ?? 0;
  if (bias === 0 && temperature <= 0) return greedyKeep;
  const logit = (p: number) => Math.log(p) - Math.log1p(-p);
  if (temperature <= 0) return (p) => logit(p) + bias >= 0;
  const random = options.random ?? Math.random;
  return (p) => {
    const u = random();
    return (logit(p) + bias) / temperature >= logit(u);
  };
}

/** A position of a forward pass to draw: its index `t` and the starting picture's cell it predicts (64 indices). */
export interface CellRow {
  t: number;
  start: Uint8Array;
}

/**
 * The cells a forward pass gives at `rows`, in their order. Every keep decision comes first, in row
 * order (a sampling rule draws its random numbers in that order), then one pixel-graph call for the
 * cells that change: the kept ones never pay for the pixel head.
 */
export async function drawCells(
  session: Pick<PaletteSession, 'pixels'>,
  out: PaletteCellOutput,
  rows: readonly CellRow[],
  keeps: KeepRule = greedyKeep,
): Promise<DrawnCell[]> {
  const kept = rows.map(({ t }) => keeps(out.keepProb[t]!));
  const changing = rows.filter((_, i) => !kept[i]);
  const d = out.stateWidth;
  const state = new Float32Array(changing.length * d);
  const cond = new Uint8Array(changing.length * 64);
  changing.forEach(({ t, start }, i) => {
    state.set(out.cellState.subarray(t * d, (t + 1) * d), i * d);
    cond.set(start.subarray(0, 64), i * 64);
  });
  const drawn = changing.length > 0 ? await session.pixels(state, cond) : { best: new Uint8Array(0), confidence: new Float32Array(0) };
  let next = 0;
  return rows.map(({ t, start }, i) => {
    const keep = out.keepProb[t]!;
    if (kept[i]) return { kept: true, pixels: start.slice(0, 64), confidence: keep };
    const k = next++;
    return { kept: false, pixels: drawn.best.slice(k * 64, k * 64 + 64), confidence: Math.fround(Math.fround(1 - keep) * drawn.confidence[k]!) };
  });
}
