import sharp from 'sharp';

/**
 * Image comparison at a fixed small size. Keyframes come from renders, from a VQ decoder or from a
 * camera, at any resolution: everything goes through the same resize so equal pictures give 0.
 */
export const COMPARE_SIZE = { width: 128, height: 96 } as const;

/** Raw RGB at COMPARE_SIZE from an encoded image (PNG, JPEG...) or an SVG document. */
export async function toCompareRgb(image: Uint8Array | string): Promise<Uint8Array> {
  const input = typeof image === 'string' ? Buffer.from(image) : image;
  const { data } = await sharp(input)
    .resize(COMPARE_SIZE.width, COMPARE_SIZE.height, { fit: 'fill', kernel: 'cubic' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/** Mean absolute difference per channel, in [0, 1]. */
export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`images differ in size: ${a.length} vs ${b.length} bytes`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / (a.length * 255);
}

/**
 * Share of pixels whose largest channel difference exceeds `threshold` (0..255): the area where two
 * pictures disagree outright. Blur spreads a small difference over many pixels and stays under the
 * threshold; an object that moved, appeared or changed colour does not.
 */
export function strongDiffArea(a: Uint8Array, b: Uint8Array, threshold = 80): number {
  if (a.length !== b.length) throw new RangeError(`images differ in size: ${a.length} vs ${b.length} bytes`);
  let n = 0;
  for (let i = 0; i < a.length; i += 3) {
    const d = Math.max(Math.abs(a[i]! - b[i]!), Math.abs(a[i + 1]! - b[i + 1]!), Math.abs(a[i + 2]! - b[i + 2]!));
    if (d > threshold) n++;
  }
  return n / (a.length / 3);
}

/**
 * Two passes of a (2r+1)-wide box blur over raw RGB at COMPARE_SIZE: close to a Gaussian of sigma
 * about r px (r = 1 here is about 6 px at 640x480). Thin strokes, a gripper jaw is 1-2 px at this size,
 * come out as the smear a VQ decoder draws of them; a solid object (3 px and up) keeps its colour in
 * its middle. Edges repeat the border pixel.
 */
export function boxBlur(rgb: Uint8Array, radius = 1, size: { width: number; height: number } = COMPARE_SIZE): Uint8Array {
  const { width: w, height: h } = size;
  if (rgb.length !== w * h * 3) throw new RangeError(`boxBlur: ${rgb.length} bytes is not ${w}x${h} RGB`);
  if (radius <= 0) return rgb;
  // Plain indexed loops over typed arrays: the sim controller blurs three pictures per step, and this
  // blur was a fifth of its time. Each sum adds the same float32 values in the same order as the
  // textbook form (left to right, edges clamped), so the result is bit-identical to it; only the
  // clamping leaves the inner loop, which runs unclamped away from the edges.
  const span = 2 * radius + 1;
  const src = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) src[i] = rgb[i]!;
  const tmp = new Float32Array(src.length);
  for (let pass = 0; pass < 2; pass++) {
    blurLines(src, tmp, h, w, w * 3, 3, radius, span);
    // In place is safe: the vertical pass reads only tmp.
    blurLines(tmp, src, w, h, 3, w * 3, radius, span);
  }
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = Math.round(src[i]!);
  return out;
}

/**
 * One direction of boxBlur: `lines` lines of `length` pixels, a line starting every `lineStride`
 * values and its pixels `step` values apart (rows: lineStride = w * 3, step = 3; columns: the other
 * way round). Each output is the mean of the 2r + 1 pixels around it, summed from the lowest index up,
 * with indices clamped to the line.
 */
function blurLines(from: Float32Array, to: Float32Array, lines: number, length: number, lineStride: number, step: number, radius: number, span: number): void {
  const last = length - 1;
  for (let line = 0; line < lines; line++) {
    const base = line * lineStride;
    for (let c = 0; c < 3; c++) {
      for (let x = 0; x < length; x++) {
        let sum = 0;
        if (radius === 1 && x >= 1 && x < last) {
          // The controller's radius, unrolled: the same three additions in the same order.
          const i = base + x * step + c;
          sum = from[i - step]! + from[i]! + from[i + step]!;
        } else if (x >= radius && x + radius <= last) {
          for (let i = base + (x - radius) * step + c, end = base + (x + radius) * step + c; i <= end; i += step) sum += from[i]!;
        } else {
          for (let d = -radius; d <= radius; d++) {
            const xx = x + d < 0 ? 0 : x + d > last ? last : x + d;
            sum += from[base + xx * step + c]!;
          }
        }
        to[base + x * step + c] = sum / span;
      }
    }
  }
}
