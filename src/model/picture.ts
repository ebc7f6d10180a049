/**
 * A picture as the world model holds it: its visual codes and the model-size RGB they stand for.
 * Keyframes are drawn against the picture they start from (the observation, or the previous
 * keyframe): a code the model repeats at the same grid cell means "this part does not change", so
 * that cell keeps the reference's pixels exactly instead of the tokenizer's redrawing of them. Only
 * the cells the step changes are drawn by the VQ decoder. This is the decoder conditioned on the
 * reference picture, done without weights: pure, so it is tested on its own.
 */
export interface Picture {
  codes: Int32Array;
  /** Row-major RGB, `size` x `size` x 3. */
  rgb: Uint8Array;
}

export interface Grid {
  /** Picture side in pixels (spec.json imageSize). */
  size: number;
  /** Tokens per side (spec.json grid). */
  grid: number;
}

/**
 * `decoded` (the VQ decoder's drawing of `codes`) with every grid cell whose code equals the
 * reference's code at that cell replaced by the reference's pixels. Returns a new buffer.
 */
export function keepUnchanged(codes: ArrayLike<number>, decoded: Uint8Array, reference: Picture, { size, grid }: Grid): Uint8Array {
  if (codes.length !== grid * grid || reference.codes.length !== grid * grid) {
    throw new RangeError(`keepUnchanged: expected ${grid * grid} codes, got ${codes.length} and reference ${reference.codes.length}`);
  }
  if (decoded.length !== size * size * 3 || reference.rgb.length !== size * size * 3) {
    throw new RangeError(`keepUnchanged: expected ${size}x${size} RGB pictures`);
  }
  const cell = size / grid;
  const out = new Uint8Array(decoded);
  const rowBytes = cell * 3;
  for (let t = 0; t < codes.length; t++) {
    if (codes[t] !== reference.codes[t]) continue;
    const y0 = Math.floor(t / grid) * cell;
    const x0 = (t % grid) * cell;
    for (let y = y0; y < y0 + cell; y++) {
      const at = (y * size + x0) * 3;
      out.set(reference.rgb.subarray(at, at + rowBytes), at);
    }
  }
  return out;
}
