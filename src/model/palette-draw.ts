/**
 * Drawing a cell from the palette graph's answer at one position (models/PALETTE.md): keep_prob >= 0.5
 * copies the starting picture's cell unchanged, else the 64 pixel_best indices. The confidence DiDA
 * orders its fills by is keep_prob for a kept cell and (1 - keep_prob) * pixel_confidence for a
 * drawn one.
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

/** Position `t` of a forward pass: `start` is the starting picture's cell (64 indices). */
export function drawCell(t: number, keepProb: Float32Array, pixelBest: Uint8Array, pixelConfidence: Float32Array, start: Uint8Array, keeps: KeepRule = greedyKeep): DrawnCell {
  const keep = keepProb[t]!;
  if (keeps(keep)) return { kept: true, pixels: start.slice(0, 64), confidence: keep };
  return { kept: false, pixels: pixelBest.slice(t * 64, t * 64 + 64), confidence: Math.fround(Math.fround(1 - keep) * pixelConfidence[t]!) };
}
