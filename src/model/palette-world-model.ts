import { Rng } from '../util/rng.js';
import { DevicePool } from './device-pool.js';
import { DEFAULT_DIDA } from './dida.js';
import { allowRange, generate, greedy, maxTokens, samplingParts, stopAt } from './generation.js';
import { rgbToPng, toModelRgb, type ImageSize } from './image-io.js';
import { openPaletteSession, parseDevice, type ForwardInput, type PaletteSession } from './onnx-session.js';
import { decodePalette, encodePalette, fromCells, paletteCodec, toCells, type PaletteCodec } from './palette.js';
import { keepRule } from './palette-draw.js';
import { drawKeyframeAr, drawKeyframeDida } from './palette-keyframes.js';
import { CELL_PIXELS, PaletteLayout, type PalettePrompt } from './palette-layout.js';
import { loadPaletteModelSpec } from './palette-spec.js';
import type { Picture } from './picture.js';
import type { PlanningModel } from './planning-model.js';
import { DEFAULT_MODEL_DIR } from './spec.js';
import { stepAlternatives } from './step-alternatives.js';
import type { KeyframeOptions, StepTextOptions, WorldModelOptions } from './world-model.js';

/**
 * A palette-patch world model (spec version 2, models/PALETTE.md) behind the planner: a picture is
 * its 256 cells of 64 palette indices (`codes`, cell after cell), encoded by a lookup table and
 * painted back, with no tokenizer. Step texts come from the graph's text logits after the plan
 * prompt; keyframes are drawn cell by cell, AR or DiDA (palette-keyframes.ts), greedily: a kept cell
 * copies the picture the step starts from, so keyframes keep every unchanged pixel by construction.
 */
export class PaletteWorldModel implements PlanningModel {
  private constructor(
    readonly layout: PaletteLayout,
    readonly codec: PaletteCodec,
    readonly pool: DevicePool<PaletteSession>,
    readonly dir: string,
  ) {}

  static async open(options: WorldModelOptions = {}): Promise<PaletteWorldModel> {
    const dir = options.dir ?? DEFAULT_MODEL_DIR;
    const spec = loadPaletteModelSpec(dir);
    const pool = await DevicePool.open((options.devices ?? ['cpu']).map((d) => String(parseDevice(d))), (device) => openPaletteSession(dir, parseDevice(device), options.threads ?? 2));
    return new PaletteWorldModel(new PaletteLayout(spec), paletteCodec(spec.palette), pool, dir);
  }

  get codesPerCell(): number {
    return CELL_PIXELS;
  }

  get didaPasses(): number {
    return this.layout.spec.decoding?.passes ?? DEFAULT_DIDA.passes;
  }

  get imageSize(): ImageSize {
    return { width: this.layout.spec.imageSize, height: this.layout.spec.imageSize };
  }

  async close(): Promise<void> {
    await this.pool.close((s) => s.release());
  }

  async encodePicture(image: Uint8Array | string): Promise<Picture> {
    const indices = encodePalette(await toModelRgb(image, this.imageSize), this.codec);
    // The picture the model sees is the snapped one: every pixel its nearest palette colour.
    return { codes: Int32Array.from(toCells(indices, this.layout.spec.imageSize, this.layout.spec.cell)), rgb: decodePalette(indices, this.codec) };
  }

  async encodeImage(image: Uint8Array | string): Promise<Int32Array> {
    return (await this.encodePicture(image)).codes;
  }

  /** Cells are painted as they are: a drawn keyframe already holds the starting picture's kept cells. */
  async decodePicture(codes: Int32Array): Promise<Picture> {
    const { imageSize, cell } = this.layout.spec;
    return { codes, rgb: decodePalette(fromCells(Uint8Array.from(codes), imageSize, cell), this.codec) };
  }

  async decodePng(codes: Int32Array): Promise<Buffer> {
    return this.toPng((await this.decodePicture(codes)).rgb);
  }

  async toPng(rgb: Uint8Array, size?: ImageSize): Promise<Buffer> {
    return rgbToPng(rgb, size, this.imageSize);
  }

  async stepTexts(robot: string, task: string, codes: ArrayLike<number>, options: StepTextOptions): Promise<string[]> {
    const { roles, maxLen } = this.layout.spec;
    const prompt = this.layout.planPrompt(robot, task, codes, options.keep ?? []);
    const parts = samplingParts(options);
    const generated = await this.pool.run((s) =>
      generate(textSession(s, this.layout, prompt), prompt, {
        processors: [allowRange(this.layout.spec.wordBase, this.layout.wordEnd, [roles.sep, roles.eos]), ...parts.processors],
        sampler: parts.sampler,
        stopping: [stopAt(roles.eos), maxTokens(Math.min(options.maxTokens ?? 200, maxLen - prompt.ids.length))],
        rng: new Rng(options.seed).fork('steps'),
        ...(options.signal ? { signal: options.signal } : {}),
      }),
    );
    return [...(options.keep ?? []), ...this.layout.splitSteps(generated)];
  }

  async stepAlternatives(robot: string, task: string, codes: ArrayLike<number>, options: { keep: readonly string[]; refused: readonly string[]; signal?: AbortSignal }): Promise<{ text: string; logProb: number }[]> {
    const { roles, wordBase, maxLen } = this.layout.spec;
    const prompt = this.layout.planPrompt(robot, task, codes, options.keep);
    const ends = [roles.sep, roles.eos];
    return stepAlternatives(
      {
        encodeText: (text) => this.layout.encodeText(text),
        decodeText: (ids) => this.layout.decodeText(ids),
        ends,
        wordsOnly: allowRange(wordBase, this.layout.wordEnd, ends),
        room: maxLen - prompt.ids.length,
        continueGreedy: (processors, stopping) =>
          this.pool.run((s) => generate(textSession(s, this.layout, prompt), prompt, { processors, sampler: greedy, stopping, rng: new Rng(0), ...(options.signal ? { signal: options.signal } : {}) })),
      },
      options.refused,
    );
  }

  /**
   * Each pixel is the graph's best index; which cells change is decided by keepRule: greedy by
   * default, shifted by `keepBias`, and drawn from the seed at `temperature` > 0, so a redraw of a
   * refused keyframe (sampled, with its own seed) can change other cells than the first draw.
   */
  async keyframe(robot: string, task: string, codes: ArrayLike<number>, step: string, options: KeyframeOptions): Promise<Int32Array> {
    const start = Uint8Array.from(codes);
    const prefix = this.layout.keyframePrefix(robot, task, step);
    const shape = this.layout.spec.transformer;
    const passes = options.passes ?? this.didaPasses;
    const rng = new Rng(options.seed).fork('keyframe');
    const keeps = keepRule({ ...(options.keepBias !== undefined ? { bias: options.keepBias } : {}), ...(options.temperature !== undefined ? { temperature: options.temperature } : {}), random: () => rng.float() });
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('keyframe aborted');
    const drawn = await this.pool.run((s) =>
      options.sampler === 'dida'
        ? drawKeyframeDida(s, shape, prefix, start, passes, options.onPass ? (pass, known, filled) => options.onPass!({ pass, passes, codes: Int32Array.from(known), filled, cells: this.layout.cells }) : undefined, keeps)
        : drawKeyframeAr(s, shape, prefix, start, keeps),
    );
    return Int32Array.from(drawn);
  }
}

/**
 * The palette session as generate() sees a model: each position's cell input is the prompt's cell at
 * that sequence position (the picture's cells), NONE for the text generated after it; no position
 * predicts a cell, so every conditioning cell is NONE.
 */
function textSession(session: PaletteSession, layout: PaletteLayout, prompt: PalettePrompt) {
  const { layers, heads, headDim } = layout.spec.transformer;
  const none = layout.spec.cellValues.none;
  return {
    layers,
    heads,
    headDim,
    forward(input: ForwardInput) {
      const T = input.ids.length;
      const cells = new Uint8Array(T * CELL_PIXELS).fill(none);
      input.positions.forEach((p, t) => {
        if (p < prompt.ids.length) cells.set(prompt.cells.subarray(p * CELL_PIXELS, (p + 1) * CELL_PIXELS), t * CELL_PIXELS);
      });
      const { ids, positions, imagePos, mask, past } = input;
      return session.forward({ ids, positions, imagePos, mask, past, cells, cond: new Uint8Array(T * CELL_PIXELS).fill(none) });
    },
  };
}
