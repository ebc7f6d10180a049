import * as ort from 'onnxruntime-node';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ModelError, modelFile, type ModelFileName } from './model-error.js';

/**
 * The one module that touches onnxruntime-node. It opens the three graphs of a model directory on one
 * device and exposes them as plain typed arrays, so everything above it (tokenizer, samplers, planner)
 * is pure and testable without ONNX.
 *
 * Graph contract (models/train.py export_onnx, opset 14):
 *   vq_encoder.onnx   pixels uint8 [N,S,S,3] (S = spec imageSize, 128) -> codes int64 [N,16,16]
 *   vq_decoder.onnx   codes int64 [N,16,16]               -> pixels uint8 [N,S,S,3]
 *   transformer.onnx  input_ids, position_ids, image_pos_ids int64 [B,T],
 *                     attention_mask float32 [B,T,P+T] (1 = may attend),
 *                     past float32 [L,2,B,H,P,Dh],
 *                     and (exports with spec transformer.condInput) cond_ids int64 [B,T]
 *                                                          -> logits float32 [B,T,V], present float32 [L,2,B,H,P+T,Dh],
 *                                                             and visual_best int64 [B,T],
 *                                                             visual_confidence float32 [B,T]: the most likely
 *                                                             visual code and its softmax probability among codes
 */

/** `cpu`, or `cuda:N` for the CUDA execution provider on GPU N. */
export type Device = 'cpu' | `cuda:${number}`;

export function parseDevice(text: string): Device {
  if (text === 'cpu') return 'cpu';
  const m = /^cuda:(\d+)$/.exec(text);
  if (m) return `cuda:${Number(m[1])}`;
  throw new Error(`unknown device "${text}": use cpu or cuda:N (cuda:0, cuda:1, ...)`);
}

/** Keys and values of every layer for the tokens seen so far; `dims` = [L, 2, 1, H, P, Dh]. */
export interface KvCache {
  data: Float32Array;
  dims: readonly number[];
}

export interface ForwardInput {
  ids: readonly number[];
  positions: readonly number[];
  imagePos: readonly number[];
  /** Row-major [T, P+T], 1 where query t may attend key s. */
  mask: Float32Array;
  past: KvCache;
  /**
   * Per position, the starting picture's token at the cell that position's logits predict, 0 (PAD)
   * where none (models/worldmodel.py cond_ids_for); absent = all 0. Only exports with the
   * conditioning input (spec.json transformer.condInput) read it; others ignore it.
   */
  cond?: readonly number[];
}

export interface ForwardOutput {
  /** Row-major [T, V]. */
  logits: Float32Array;
  vocab: number;
  present: KvCache;
}

/** Per position of a forward pass: the most likely visual code (0-based) and its probability among the codes. */
export interface VisualPicks {
  best: Int32Array;
  confidence: Float32Array;
  /** The pass's [T, V] logits, when asked for (`withLogits`): fetched by the same run. */
  logits?: Float32Array;
  vocab?: number;
}

export interface ModelSessions {
  readonly device: Device;
  forward(input: ForwardInput): Promise<ForwardOutput>;
  /**
   * The logits of a forward pass without its cache: DiDA's passes over the keyframe span never extend
   * the cache, and fetching only `logits` spares copying the whole [L,2,1,H,P+T,Dh] present out of
   * the session on every pass.
   */
  scores(input: ForwardInput): Promise<Omit<ForwardOutput, 'present'>>;
  /**
   * The greedy visual pick of a forward pass, computed in the graph, so neither the [T, V] logits nor
   * a softmax over every code of every position has to go through JavaScript. null for exports
   * without the `visual_best` / `visual_confidence` outputs; callers then pick from `scores`.
   */
  readonly picks: ((input: ForwardInput, withLogits?: boolean) => Promise<VisualPicks>) | null;
  /** Model-size RGB pictures (N x S x S x 3, S = spec imageSize) -> codes (N x 16 x 16). */
  encode(rgb: Uint8Array, count?: number): Promise<Int32Array>;
  /** Codes (N x 16 x 16) -> model-size RGB. */
  decode(codes: ArrayLike<number>, count?: number): Promise<Uint8Array>;
  /** Cache shape, for empty caches. */
  readonly layers: number;
  readonly heads: number;
  readonly headDim: number;
  release(): Promise<void>;
}

export interface SessionOptions {
  /** The transformer's cache shape and whether it takes `cond_ids` (spec.json `transformer`). */
  shape: { layers: number; heads: number; headDim: number; condInput?: boolean };
  /** The transformer's threads for CPU execution; default 2 (the machines this ships on have two cores). */
  threads?: number;
  /**
   * The VQ encoder's and decoder's threads; default 1. They run once per picture on a small input, and
   * each session's thread pool keeps its workers spinning after a run: on two cores, a second tokenizer
   * thread spun on the core the next transformer pass needed. keystep bench, 7-step T-shirt plan p50:
   * 429-623 ms in 28 runs against 609-1,012 ms in 14 runs with two tokenizer threads.
   */
  tokenizerThreads?: number;
  imageSize?: number;
  grid?: number;
}

function providers(device: Device): ort.InferenceSession.SessionOptions['executionProviders'] {
  if (device === 'cpu') return ['cpu'];
  return [{ name: 'cuda', deviceId: Number(device.slice(5)) }, 'cpu'];
}

/**
 * When a session's intra-op workers spin instead of sleeping: `off`, never; `run`, only while a run
 * lasts (they sleep as soon as it ends); `on`, also for a while after each run (onnxruntime's default).
 */
export type Spinning = 'off' | 'run' | 'on';

/**
 * Options of every session. By default intra-op workers never spin: a model is two or three sessions
 * called in turn (trunk, pixel head; or tokenizer and transformer), and on a few cores the workers
 * one session spins after its run take the cores the next call needs. On 2 cores, palette model,
 * greedy DiDA keyframes: 16-19 ms at 2 passes against 31-35 ms with workers spinning after each run.
 * Palette sessions spin only while a run lasts (openPaletteSession): each of a keyframe graph's
 * ops then finds its worker awake instead of waking it, and it sleeps before the next graph runs
 * (bench/session-spin.ts, sessions taking turns: 1-pass DiDA keyframes 4.5-4.6 ms against 5.8-6.2
 * never spinning and 8.3-9.0 spinning after runs; AR within 5 %).
 */
function sessionOptions(device: Device, threads: number, spinning: Spinning = 'off'): ort.InferenceSession.SessionOptions {
  const session = spinning === 'run' ? { force_spinning_stop: '1', intra_op: { allow_spinning: '1' } } : { intra_op: { allow_spinning: spinning === 'on' ? '1' : '0' } };
  return {
    executionProviders: providers(device),
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    extra: { session },
  };
}

const int64 = (values: ArrayLike<number>, dims: number[]): ort.Tensor =>
  new ort.Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims);

/** The text ids and both position inputs of one sequence, as every transformer graph takes them. */
function sequenceFeeds(input: Pick<ForwardInput, 'ids' | 'positions' | 'imagePos'>): Record<string, ort.Tensor> {
  const T = input.ids.length;
  return { input_ids: int64(input.ids, [1, T]), position_ids: int64(input.positions, [1, T]), image_pos_ids: int64(input.imagePos, [1, T]) };
}

function feeds(input: ForwardInput, condInput: boolean): Record<string, ort.Tensor> {
  const T = input.ids.length;
  const P = input.past.dims[4]!;
  return {
    ...sequenceFeeds(input),
    attention_mask: new ort.Tensor('float32', input.mask, [1, T, P + T]),
    past: new ort.Tensor('float32', input.past.data, [...input.past.dims]),
    ...(condInput ? { cond_ids: int64(input.cond ?? new Array<number>(T).fill(0), [1, T]) } : {}),
  };
}

/** One ONNX file as a session, with an error that names the file, the device and what to do. */
async function openSession(dir: string, name: ModelFileName, device: Device, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  const file = modelFile(dir, name);
  try {
    return await ort.InferenceSession.create(file, options);
  } catch (cause) {
    const message = (cause as Error).message;
    const hint =
      device === 'cpu'
        ? 'is it a complete export of models/train.py? (a Git LFS pointer or a cut-off copy is not)'
        : 'GPU devices need the CUDA build of onnxruntime-node: npm ci --onnxruntime-node-install=cuda12 on a host with CUDA 12';
    throw new ModelError(`could not load ${file} on ${device}: ${message}; ${hint}`, file, { cause });
  }
}

export async function openModelSessions(dir: string, device: Device, options: SessionOptions): Promise<ModelSessions> {
  const base = sessionOptions(device, options.threads ?? 2);
  const tokenizer = sessionOptions(device, options.tokenizerThreads ?? 1);
  const [encoder, decoder, transformer] = await Promise.all([
    openSession(dir, 'vq_encoder.onnx', device, tokenizer),
    openSession(dir, 'vq_decoder.onnx', device, tokenizer),
    openSession(dir, 'transformer.onnx', device, base),
  ]);
  const size = options.imageSize ?? 128;
  const grid = options.grid ?? 16;
  const { layers, heads, headDim } = options.shape;
  // spec.json and the graph must agree: a model fed without its conditioning input draws nonsense
  // quietly, and feeding an input the graph lacks fails on every call.
  const condInput = transformer!.inputNames.includes('cond_ids');
  if (condInput !== (options.shape.condInput ?? false)) {
    const file = modelFile(dir, 'transformer.onnx');
    await Promise.all([encoder!.release(), decoder!.release(), transformer!.release()]);
    throw new ModelError(
      `${file} ${condInput ? 'takes' : 'does not take'} cond_ids but spec.json transformer.condInput is ${options.shape.condInput ?? false}: ` +
        'the files come from different exports; copy spec.json and the ONNX files of one models/train.py run together',
      file,
    );
  }

  return {
    device,
    layers,
    heads,
    headDim,
    async forward(input) {
      const out = await transformer!.run(feeds(input, condInput));
      const logits = out.logits!;
      const present = out.present!;
      return {
        logits: logits.data as Float32Array,
        vocab: logits.dims[2]!,
        present: { data: present.data as Float32Array, dims: present.dims },
      };
    },
    picks: transformer!.outputNames.includes('visual_best') && transformer!.outputNames.includes('visual_confidence')
      ? async (input, withLogits = false) => {
          const out = await transformer!.run(feeds(input, condInput), ['visual_best', 'visual_confidence', ...(withLogits ? ['logits'] : [])]);
          return {
            best: Int32Array.from(out.visual_best!.data as BigInt64Array, (v) => Number(v)),
            confidence: out.visual_confidence!.data as Float32Array,
            ...(withLogits ? { logits: out.logits!.data as Float32Array, vocab: out.logits!.dims[2]! } : {}),
          };
        }
      : null,
    async scores(input) {
      const logits = (await transformer!.run(feeds(input, condInput), ['logits'])).logits!;
      return { logits: logits.data as Float32Array, vocab: logits.dims[2]! };
    },
    async encode(rgb, count = rgb.length / (size * size * 3)) {
      const out = await encoder!.run({ pixels: new ort.Tensor('uint8', rgb, [count, size, size, 3]) });
      return Int32Array.from(out.codes!.data as BigInt64Array, (v) => Number(v));
    },
    async decode(codes, count = codes.length / (grid * grid)) {
      const out = await decoder!.run({ codes: int64(codes, [count, grid, grid]) });
      return out.pixels!.data as Uint8Array;
    },
    async release() {
      await Promise.all([encoder!.release(), decoder!.release(), transformer!.release()]);
    },
  };
}

/**
 * Palette-patch graph contract (models/recipe.py export_onnx, models/PALETTE.md), two graphs:
 * palette_transformer.onnx
 *   input_ids, position_ids, image_pos_ids int64 [B,T], cells and cond_cells uint8 [B,T,64]
 *   (0-33 palette indices, 34 MASK, 35 NONE), attention_mask float32 [B,T,P+T], past float32 [L,2,B,H,P,Dh]
 *   -> logits float32 [B,T,V], present float32 [L,2,B,H,P+T,Dh], keep_prob float32 [B,T],
 *      cell_state float32 [B,T,d]
 * palette_pixels.onnx, run only on the cells a sampler draws:
 *   cell_state float32 [N,d], cond_cells uint8 [N,64] -> pixel_best uint8 [N,64], pixel_confidence float32 [N]
 * palette_keyframe.onnx (optional: exports before it have none, and the transformer serves instead),
 * DiDA's forward over a whole keyframe sequence, nothing cached:
 *   input_ids, position_ids, image_pos_ids int64 [B,T], cell_patterns uint8 [U,64], cell_index int64 [B,T],
 *   cond_patterns uint8 [V,64], cond_index int64 [B,T], attention_mask float32 [B,T,T]
 *   -> keep_prob float32 [B,T], cell_state float32 [B,T,d]
 */
export const PALETTE_GRAPH = 'palette_transformer.onnx';
export const PALETTE_PIXEL_GRAPH = 'palette_pixels.onnx';
export const PALETTE_KEYFRAME_GRAPH = 'palette_keyframe.onnx';

export interface PaletteForwardInput extends Omit<ForwardInput, 'cond'> {
  /** Row-major [T, 64]: each position's cell (NONE at text positions, MASK where still to draw). */
  cells: Uint8Array;
  /** Row-major [T, 64]: the starting picture's cell at the cell each position predicts, NONE where none. */
  cond: Uint8Array;
}

/** What a pass that draws cells reads of a forward. */
export interface PaletteCellOutput {
  /** [T]: probability that the predicted cell equals its `cond` cell. */
  keepProb: Float32Array;
  /** Row-major [T, d]: each position's state, what `pixels` draws a cell from. */
  cellState: Float32Array;
  /** d, the width of a state row. */
  stateWidth: number;
}

export interface PaletteForwardOutput extends ForwardOutput, PaletteCellOutput {}

/** A whole sequence with nothing cached: a DiDA pass over a keyframe. `mask` is row-major [T, T]. */
export type PaletteKeyframeInput = Omit<PaletteForwardInput, 'past'>;

export interface PalettePixels {
  /** Row-major [N, 64]: each pixel's drawn palette index. */
  best: Uint8Array;
  /** [N]: the drawn hypothesis's weight times its weakest pixel's probability. */
  confidence: Float32Array;
}

export interface PaletteSession {
  readonly device: Device;
  forward(input: PaletteForwardInput): Promise<PaletteForwardOutput>;
  /** The cells of N positions: their states (row-major [N, d]) and conditioning cells ([N, 64]). */
  pixels(cellState: Float32Array, cond: Uint8Array): Promise<PalettePixels>;
  /**
   * The keep probabilities and states of a whole sequence through the keyframe graph, which skips
   * the cache and the text logits; the same values as `forward` with an empty cache. Absent when the
   * model directory has no keyframe graph.
   */
  keyframe?(input: PaletteKeyframeInput): Promise<PaletteCellOutput>;
  release(): Promise<void>;
}

/**
 * Cells as the keyframe graph takes them: each distinct 64-index pattern once ([U, 64]) and, per
 * position, the row of its pattern. A keyframe's MASK cells are one pattern and a picture repeats
 * many of its cells (114 distinct of 256 on a table), so the graph embeds U cells, not T.
 */
export function distinctCells(cells: Uint8Array): { patterns: Uint8Array; index: BigInt64Array } {
  const T = cells.length / 64;
  const rowOf = new Map<string, number>();
  const first: number[] = [];
  const index = new BigInt64Array(T);
  const text = Buffer.from(cells.buffer, cells.byteOffset, cells.length).toString('latin1');
  for (let t = 0; t < T; t++) {
    const key = text.slice(t * 64, t * 64 + 64);
    let row = rowOf.get(key);
    if (row === undefined) {
      row = first.length;
      rowOf.set(key, row);
      first.push(t);
    }
    index[t] = BigInt(row);
  }
  const patterns = new Uint8Array(first.length * 64);
  first.forEach((t, row) => patterns.set(cells.subarray(t * 64, t * 64 + 64), row * 64));
  return { patterns, index };
}

async function openGraph(dir: string, name: string, device: Device, threads: number, spinning: Spinning): Promise<ort.InferenceSession> {
  const file = join(dir, name);
  if (!existsSync(file)) throw new ModelError(`${file} not found: a palette-patch model directory holds spec.json, ${PALETTE_GRAPH} and ${PALETTE_PIXEL_GRAPH} (models/recipe.py writes them)`, file);
  try {
    return await ort.InferenceSession.create(file, sessionOptions(device, threads, spinning));
  } catch (cause) {
    throw new ModelError(`could not load ${file} on ${device}: ${(cause as Error).message}; is it a complete export of models/recipe.py?`, file, { cause });
  }
}

/**
 * The palette-patch graphs of a version-2 model directory as a session. `spinning` other than the
 * default is only there to measure what it costs (sessionOptions, bench/session-spin.ts).
 */
export async function openPaletteSession(dir: string, device: Device, threads = 2, spinning: Spinning = 'run'): Promise<PaletteSession> {
  const opened: ort.InferenceSession[] = [];
  const open = async (name: string) => {
    const graph = await openGraph(dir, name, device, threads, spinning);
    opened.push(graph);
    return graph;
  };
  let trunk: ort.InferenceSession, head: ort.InferenceSession, keyframe: ort.InferenceSession | null;
  try {
    trunk = await open(PALETTE_GRAPH);
    head = await open(PALETTE_PIXEL_GRAPH);
    keyframe = existsSync(join(dir, PALETTE_KEYFRAME_GRAPH)) ? await open(PALETTE_KEYFRAME_GRAPH) : null;
  } catch (error) {
    await Promise.all(opened.map((g) => g.release()));
    throw error;
  }
  return {
    device,
    async forward(input) {
      const T = input.ids.length;
      const P = input.past.dims[4]!;
      const out = await trunk.run({
        ...sequenceFeeds(input),
        cells: new ort.Tensor('uint8', input.cells, [1, T, 64]),
        cond_cells: new ort.Tensor('uint8', input.cond, [1, T, 64]),
        attention_mask: new ort.Tensor('float32', input.mask, [1, T, P + T]),
        past: new ort.Tensor('float32', input.past.data, [...input.past.dims]),
      });
      return {
        logits: out.logits!.data as Float32Array,
        vocab: out.logits!.dims[2]!,
        present: { data: out.present!.data as Float32Array, dims: out.present!.dims },
        keepProb: out.keep_prob!.data as Float32Array,
        cellState: out.cell_state!.data as Float32Array,
        stateWidth: out.cell_state!.dims[2]!,
      };
    },
    async pixels(cellState, cond) {
      const N = cond.length / 64;
      const out = await head.run({
        cell_state: new ort.Tensor('float32', cellState, [N, cellState.length / N]),
        cond_cells: new ort.Tensor('uint8', cond, [N, 64]),
      });
      return { best: out.pixel_best!.data as Uint8Array, confidence: out.pixel_confidence!.data as Float32Array };
    },
    ...(keyframe ? { keyframe: runKeyframe.bind(null, keyframe) } : {}),
    release: async () => {
      await Promise.all(opened.map((g) => g.release()));
    },
  };
}

async function runKeyframe(graph: ort.InferenceSession, input: PaletteKeyframeInput): Promise<PaletteCellOutput> {
  const T = input.ids.length;
  const cells = distinctCells(input.cells);
  const cond = distinctCells(input.cond);
  const out = await graph.run({
    ...sequenceFeeds(input),
    cell_patterns: new ort.Tensor('uint8', cells.patterns, [cells.patterns.length / 64, 64]),
    cell_index: new ort.Tensor('int64', cells.index, [1, T]),
    cond_patterns: new ort.Tensor('uint8', cond.patterns, [cond.patterns.length / 64, 64]),
    cond_index: new ort.Tensor('int64', cond.index, [1, T]),
    attention_mask: new ort.Tensor('float32', input.mask, [1, T, T]),
  });
  return { keepProb: out.keep_prob!.data as Float32Array, cellState: out.cell_state!.data as Float32Array, stateWidth: out.cell_state!.dims[2]! };
}
