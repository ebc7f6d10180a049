import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distinctCells, openPaletteSession, PALETTE_GRAPH, PALETTE_PIXEL_GRAPH, type PaletteSession } from '../../src/model/onnx-session.js';
import { drawCells } from '../../src/model/palette-draw.js';
import { drawKeyframeAr, drawKeyframeDida } from '../../src/model/palette-keyframes.js';

// A tiny untrained palette-patch graph and what torch computed on a fixed input (models/make_palette_test_model.py).
const DIR = join(import.meta.dirname, 'palette-model');
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as {
  ids: number[];
  positions: number[];
  imagePos: number[];
  cells: number[];
  cond: number[];
  mask: number[];
  shape: { layers: number; heads: number; headDim: number };
  keepProb: number[];
  cellState: number[];
  pixelBest: number[];
  pixelConfidence: number[];
  textArgmax: number[];
  presentDims: number[];
  drawn: number[][];
};

describe('palette-patch runtime: the TypeScript session against torch on a fixture', () => {
  let session: PaletteSession;
  beforeAll(async () => {
    session = await openPaletteSession(DIR, 'cpu', 1);
  });
  afterAll(async () => {
    await session.release();
  });

  const forward = () => {
    const { layers, heads, headDim } = expected.shape;
    return session.forward({
      ids: expected.ids,
      positions: expected.positions,
      imagePos: expected.imagePos,
      cells: Uint8Array.from(expected.cells),
      cond: Uint8Array.from(expected.cond),
      mask: Float32Array.from(expected.mask),
      past: { data: new Float32Array(0), dims: [layers, 2, 1, heads, 0, headDim] },
    });
  };

  it('reads the graphs\' outputs as torch writes them: pixel_best and the text argmax exactly, the probabilities to 1e-5', async () => {
    const out = await forward();
    const pixels = await session.pixels(out.cellState, Uint8Array.from(expected.cond));
    expect(Array.from(pixels.best)).toEqual(expected.pixelBest);
    expected.cellState.forEach((v, i) => expect(out.cellState[i]).toBeCloseTo(v, 4));
    expect(out.present.dims).toEqual(expected.presentDims);
    const T = expected.ids.length;
    const argmax = Array.from({ length: T }, (_, t) => {
      const row = out.logits.subarray(t * out.vocab, (t + 1) * out.vocab);
      return row.indexOf(Math.max(...row));
    });
    expect(argmax).toEqual(expected.textArgmax);
    expected.keepProb.forEach((p, t) => expect(out.keepProb[t]).toBeCloseTo(p, 5));
    expected.pixelConfidence.forEach((p, t) => expect(pixels.confidence[t]).toBeCloseTo(p, 5));
  });

  it('answers through the keyframe graph the keep probabilities and states the transformer answers with nothing cached', async () => {
    expect(session.keyframe).toBeDefined();
    const { ids, positions, imagePos } = expected;
    const full = await forward();
    const out = await session.keyframe!({ ids, positions, imagePos, cells: Uint8Array.from(expected.cells), cond: Uint8Array.from(expected.cond), mask: Float32Array.from(expected.mask) });
    expect(out.stateWidth).toBe(full.stateWidth);
    expect(Array.from(out.keepProb)).toEqual(Array.from(full.keepProb));
    expect(Array.from(out.cellState)).toEqual(Array.from(full.cellState));
  });

  it('draws exactly the cells torch draws: the starting cell where keep_prob >= 0.5, else pixel_best', async () => {
    const out = await forward();
    const cond = Uint8Array.from(expected.cond);
    const rows = expected.ids.map((_, t) => ({ t, start: cond.subarray(t * 64, t * 64 + 64) }));
    const drawn = (await drawCells(session, out, rows)).map((c) => Array.from(c.pixels));
    expect(drawn).toEqual(expected.drawn);
    // The fixture exercises both branches.
    expect(expected.keepProb.some((p) => p >= 0.5) && expected.keepProb.some((p) => p < 0.5)).toBe(true);
  });
});

const keyframes = JSON.parse(readFileSync(join(DIR, 'expected-keyframes.json'), 'utf8')) as { prefix: number[]; start: number[]; ar: number[]; dida2: number[]; dida4: number[] };

describe('palette-patch keyframes: AR and DiDA draw the cells models/recipe.py draws', () => {
  let session: PaletteSession;
  beforeAll(async () => {
    session = await openPaletteSession(DIR, 'cpu', 1);
  });
  afterAll(async () => {
    await session.release();
  });
  const start = Uint8Array.from(keyframes.start);

  it('AR, cell by cell with the KV cache', async () => {
    const drawn = await drawKeyframeAr(session, expected.shape, keyframes.prefix, start);
    expect(Array.from(drawn)).toEqual(keyframes.ar);
  });

  it('DiDA with 2 and 4 passes, the most confident cells first', async () => {
    expect(Array.from(await drawKeyframeDida(session, expected.shape, keyframes.prefix, start, 2))).toEqual(keyframes.dida2);
    expect(Array.from(await drawKeyframeDida(session, expected.shape, keyframes.prefix, start, 4))).toEqual(keyframes.dida4);
  });

  it('DiDA through the transformer when the model directory has no keyframe graph: the same cells', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keystep-palette-'));
    try {
      for (const f of [PALETTE_GRAPH, PALETTE_PIXEL_GRAPH]) copyFileSync(join(DIR, f), join(dir, f));
      const older = await openPaletteSession(dir, 'cpu', 1);
      try {
        expect(older.keyframe).toBeUndefined();
        expect(Array.from(await drawKeyframeDida(older, expected.shape, keyframes.prefix, start, 2))).toEqual(keyframes.dida2);
      } finally {
        await older.release();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('distinctCells: the keyframe graph\'s cell input', () => {
  it('lists each 64-index pattern once, in order of first use, and indexes every position to its own cells', () => {
    const cells = new Uint8Array(5 * 64).fill(35);
    cells.fill(34, 64, 3 * 64);
    cells.set(Array.from({ length: 64 }, (_, i) => i % 34), 3 * 64);
    const { patterns, index } = distinctCells(cells);
    expect(patterns.length).toBe(3 * 64);
    expect(Array.from(index, Number)).toEqual([0, 1, 1, 2, 0]);
    const rebuilt = new Uint8Array(cells.length);
    index.forEach((row, t) => rebuilt.set(patterns.subarray(Number(row) * 64, Number(row) * 64 + 64), t * 64));
    expect(rebuilt).toEqual(cells);
  });

  it('reads cells at an offset into a larger buffer', () => {
    const buffer = new Uint8Array(3 * 64);
    buffer.fill(7, 64);
    const { patterns, index } = distinctCells(buffer.subarray(64));
    expect(Array.from(index, Number)).toEqual([0, 0]);
    expect(Array.from(patterns)).toEqual(new Array<number>(64).fill(7));
  });
});
