import type { KvCache, PaletteKeyframeInput, PaletteSession } from './onnx-session.js';
import { drawCells, greedyKeep, type KeepRule } from './palette-draw.js';

/**
 * A keyframe of a palette-patch model (models/PALETTE.md), drawn cell by cell from the text prefix
 * (BOS robot task NEXT step IMG_START) and the picture the step starts from, `start`: 256 cells of 64
 * palette indices, row-major. AR draws the cells in order with a KV cache; DiDA fills the most
 * confident open cells on a cosine schedule over `passes` passes. Both follow models/recipe.py
 * ar_decode and dida_decode, so the TypeScript runtime draws the cells torch draws.
 */
export const CELLS = 256;
const PIX = 64;
const NONE = 35;
const MASK = 34;
const CELL_TOKEN = 11;

export interface PaletteShape {
  layers: number;
  heads: number;
  headDim: number;
}

const emptyPast = ({ layers, heads, headDim }: PaletteShape): KvCache => ({ data: new Float32Array(0), dims: [layers, 2, 1, heads, 0, headDim] });

function causalMask(T: number): Float32Array {
  const mask = new Float32Array(T * T);
  for (let q = 0; q < T; q++) for (let k = 0; k <= q; k++) mask[q * T + k] = 1;
  return mask;
}

export async function drawKeyframeAr(session: PaletteSession, shape: PaletteShape, prefix: readonly number[], start: Uint8Array, keeps: KeepRule = greedyKeep): Promise<Uint8Array> {
  const n = prefix.length;
  const cond = new Uint8Array(n * PIX).fill(NONE);
  cond.set(start.subarray(0, PIX), (n - 1) * PIX);
  let out = await session.forward({
    ids: prefix,
    positions: prefix.map((_, i) => i),
    imagePos: prefix.map(() => 0),
    cells: new Uint8Array(n * PIX).fill(NONE),
    cond,
    mask: causalMask(n),
    past: emptyPast(shape),
  });
  let last = n - 1;
  const drawn = new Uint8Array(CELLS * PIX);
  for (let j = 0; j < CELLS; j++) {
    const [cell] = await drawCells(session, out, [{ t: last, start: start.subarray(j * PIX, (j + 1) * PIX) }], keeps);
    drawn.set(cell!.pixels, j * PIX);
    if (j === CELLS - 1) break;
    const P = n + j;
    out = await session.forward({
      ids: [CELL_TOKEN],
      positions: [P],
      imagePos: [1 + j],
      cells: drawn.slice(j * PIX, (j + 1) * PIX),
      cond: start.slice((j + 1) * PIX, (j + 2) * PIX),
      mask: new Float32Array(P + 1).fill(1),
      past: out.present,
    });
    last = 0;
  }
  return drawn;
}

/**
 * `onPass`, after each pass: the keyframe as known so far (open cells still hold `start`'s cells) and
 * how many cells are filled. It only reads; the cells drawn are the same with it or without it.
 */
export async function drawKeyframeDida(
  session: PaletteSession,
  shape: PaletteShape,
  prefix: readonly number[],
  start: Uint8Array,
  passes: number,
  onPass?: (pass: number, known: Uint8Array, filled: number) => void,
  keeps: KeepRule = greedyKeep,
): Promise<Uint8Array> {
  const n = prefix.length;
  const T = n + CELLS;
  const ids = [...prefix, ...new Array<number>(CELLS).fill(CELL_TOKEN)];
  const imagePos = [...new Array<number>(n).fill(0), ...Array.from({ length: CELLS }, (_, j) => 1 + j)];
  const positions = ids.map((_, i) => i);
  const cells = new Uint8Array(T * PIX).fill(NONE);
  cells.fill(MASK, n * PIX);
  const cond = new Uint8Array(T * PIX).fill(NONE);
  cond.set(start, n * PIX);
  const mask = causalMask(T);
  for (let q = n; q < T; q++) mask.fill(1, q * T + n, (q + 1) * T);
  const open = new Array<boolean>(CELLS).fill(true);
  let filled = 0;
  const drawn = new Uint8Array(CELLS * PIX);
  // The keyframe graph answers what a pass reads and nothing else (no cache, no text logits).
  const pass = session.keyframe ? session.keyframe.bind(session) : (input: PaletteKeyframeInput) => session.forward({ ...input, past: emptyPast(shape) });
  for (let p = 0; p < passes; p++) {
    const out = await pass({ ids, positions, imagePos, cells, cond, mask });
    const openCells = Array.from({ length: CELLS }, (_, j) => j).filter((j) => open[j]);
    const decided = await drawCells(session, out, openCells.map((j) => ({ t: n + j, start: start.subarray(j * PIX, (j + 1) * PIX) })), keeps);
    const candidates = openCells.map((j, i) => ({ j, cell: decided[i]! }));
    const target = p === passes - 1 ? CELLS : Math.max(1, Math.round(CELLS * (1 - Math.cos(((Math.PI / 2) * (p + 1)) / passes))));
    // Most confident first, ties to the lower cell (numpy's stable argsort); confidence in float32 as torch has it.
    candidates.sort((a, b) => Math.fround(b.cell.confidence) - Math.fround(a.cell.confidence) || a.j - b.j);
    for (const { j, cell } of candidates.slice(0, Math.max(0, target - filled))) {
      drawn.set(cell.pixels, j * PIX);
      cells.set(cell.pixels, (n + j) * PIX);
      open[j] = false;
      filled++;
    }
    if (onPass) {
      const known = Uint8Array.from(start);
      for (let j = 0; j < CELLS; j++) if (!open[j]) known.set(drawn.subarray(j * PIX, (j + 1) * PIX), j * PIX);
      onPass(p, known, filled);
    }
  }
  return drawn;
}
