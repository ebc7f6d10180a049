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

/** Position `t` of a forward pass: `start` is the starting picture's cell (64 indices). */
export function drawCell(t: number, keepProb: Float32Array, pixelBest: Uint8Array, pixelConfidence: Float32Array, start: Uint8Array): DrawnCell {
  const keep = keepProb[t]!;
  if (keep >= KEEP_THRESHOLD) return { kept: true, pixels: start.slice(0, 64), confidence: keep };
  return { kept: false, pixels: pixelBest.slice(t * 64, t * 64 + 64), confidence: Math.fround(Math.fround(1 - keep) * pixelConfidence[t]!) };
}
