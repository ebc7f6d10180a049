import { Rng } from '../util/rng.js';
import { didaFill, DEFAULT_DIDA, type DidaOptions } from './dida.js';
import { DevicePool } from './device-pool.js';
import { allowRange, forceAt, generate, greedy, maxTokens, samplingParts, stopAt, type LogitsProcessor, type SamplingOptions } from './generation.js';
import { MODEL_IMAGE, rgbToPng, toModelRgb, type ImageSize } from './image-io.js';
import { openModelSessions, parseDevice, type ModelSessions } from './onnx-session.js';
import { keepUnchanged, type Picture } from './picture.js';
import { loadModelSpec, VQ_MODEL_DIR, TokenLayout, type Tokens } from './spec.js';
import { stepAlternatives } from './step-alternatives.js';

export const KEYFRAME_SAMPLERS = ['dida', 'ar'] as const;
export type KeyframeSampler = (typeof KEYFRAME_SAMPLERS)[number];

export interface KeyframeOptions extends SamplingOptions {
  sampler: KeyframeSampler;
  seed: number;
  /** DiDA only. */
  passes?: number;
  schedule?: DidaOptions['schedule'];
  guidance?: number;
  /**
   * Prior, in logits, that a cell keeps the starting picture's code (default DEFAULT_KEEP_BIAS). A
   * step changes a few cells and leaves the rest; where the model hesitates between keeping a cell
   * and a look-alike code, the small model otherwise scatters changes the step does not make, which
   * the robot rightly refuses. 0 = off.
   */
  keepBias?: number;
  signal?: AbortSignal;
  /**
   * DiDA only: after each pass, the codes known so far (a still open cell holds the starting
   * picture's code) and how many cells are filled. Without it the fill runs exactly as before.
   */
  onPass?: (progress: KeyframePass) => void;
}

/** One DiDA pass of a keyframe as it resolves (KeyframeOptions.onPass). */
export interface KeyframePass {
  /** 0-based; the last is passes - 1, whose codes are the keyframe's. */
  pass: number;
  passes: number;
  codes: Int32Array;
  filled: number;
  cells: number;
}

/**
 * Off by default: on the committed model a bias of 2 cost 8 points of accuracy on the changed cells
 * and the controller's acceptance (keystep bench --keep-bias 0|2, models/README.md). It helped a
 * weaker model; the knob stays for the next one.
 */
export const DEFAULT_KEEP_BIAS = 0;

/** AR's keep prior: at a visual step, `bias` on the logit of the starting picture's code for that cell. */
const keepPrior =
  (layout: TokenLayout, reference: ArrayLike<number>, bias: number): LogitsProcessor =>
  (logits, ctx) => {
    const cell = layout.codeIndexAt(ctx.step);
    if (cell >= 0) logits[layout.spec.visualBase + reference[cell]!]! += bias;
  };

export interface StepTextOptions extends SamplingOptions {
  seed: number;
  /** Longest answer, in tokens. */
  maxTokens?: number;
  /** Steps the answer starts with (a plan repair keeps them); generation continues after them. */
  keep?: readonly string[];
  signal?: AbortSignal;
}

/** Where a model comes from: its directory and the devices that run it. */
export interface ModelSource {
  dir?: string;
  /** One session per device; default ['cpu']. */
  devices?: readonly string[];
}

export interface WorldModelOptions extends ModelSource {
  /** The transformer's CPU threads (the tokenizer runs on one; see SessionOptions.tokenizerThreads). */
  threads?: number;
}

/**
 * The embedded world model: observation codes -> step texts, (picture, step) -> keyframe codes. Every
 * request runs on one device of the pool; the model sees only pictures and text.
 */
export class WorldModel {
  private constructor(
    readonly layout: TokenLayout,
    readonly pool: DevicePool<ModelSessions>,
    readonly dir: string,
  ) {}

  /** One VQ token per grid cell. */
  readonly codesPerCell = 1;

  readonly didaPasses = DEFAULT_DIDA.passes;

  /** The model's square picture size (spec.json imageSize). */
  get imageSize(): { width: number; height: number } {
    return { width: this.layout.spec.imageSize, height: this.layout.spec.imageSize };
  }

  static async open(options: WorldModelOptions = {}): Promise<WorldModel> {
    const dir = options.dir ?? VQ_MODEL_DIR;
    const spec = loadModelSpec(dir);
    const devices = (options.devices ?? ['cpu']).map(parseDevice);
    const pool = await DevicePool.open(devices, (device) =>
      openModelSessions(dir, parseDevice(device), {
        shape: spec.transformer,
        imageSize: spec.imageSize,
        grid: spec.grid,
        ...(options.threads !== undefined ? { threads: options.threads } : {}),
      }),
    );
    return new WorldModel(new TokenLayout(spec), pool, dir);
  }

  async close(): Promise<void> {
    await this.pool.close((s) => s.release());
  }

  /** A camera frame (PNG, any size) to the model's visual codes. */
  async encodeImage(image: Uint8Array | string): Promise<Int32Array> {
    return (await this.encodePicture(image)).codes;
  }

  async encodeRgb(rgb: Uint8Array): Promise<Int32Array> {
    return this.pool.run((s) => s.encode(rgb));
  }

  /** A camera frame as a Picture: its codes and the model-size RGB they came from. */
  async encodePicture(image: Uint8Array | string): Promise<Picture> {
    const rgb = await toModelRgb(image, this.imageSize);
    return { codes: await this.pool.run((s) => s.encode(rgb, 1)), rgb };
  }

  /** Visual codes to model-size RGB. */
  async decodeRgb(codes: ArrayLike<number>): Promise<Uint8Array> {
    return this.pool.run((s) => s.decode(codes, 1));
  }

  /**
   * Visual codes drawn against the picture they start from: cells whose code the model kept keep the
   * reference's pixels (picture.ts). Without a reference, the VQ decoder draws every cell.
   */
  async decodePicture(codes: Int32Array, reference?: Picture): Promise<Picture> {
    const decoded = await this.decodeRgb(codes);
    if (!reference) return { codes, rgb: decoded };
    const { imageSize: size, grid } = this.layout.spec;
    return { codes, rgb: keepUnchanged(codes, decoded, reference, { size, grid }) };
  }

  /** Model-size RGB to a keyframe PNG at `size` (the keyframe camera's, keyframeSizeOf; 128x96 by default). */
  async toPng(rgb: Uint8Array, size?: ImageSize): Promise<Buffer> {
    return rgbToPng(rgb, size, this.imageSize);
  }

  /** Visual codes to a keyframe PNG, drawn against `reference` when given. */
  async decodePng(codes: Int32Array, reference?: Picture): Promise<Buffer> {
    return this.toPng((await this.decodePicture(codes, reference)).rgb);
  }

  /** The remaining steps, as text, from the picture of the current state. */
  async stepTexts(robot: string, task: string, codes: ArrayLike<number>, options: StepTextOptions): Promise<string[]> {
    const { roles, visualBase } = this.layout.spec;
    const prompt = this.planPromptAfter(robot, task, codes, options.keep ?? []);
    const parts = samplingParts(options);
    const generated = await this.pool.run((s) =>
      generate(s, prompt, {
        // Only words, SEP and EOS: a plan's answer holds no pictures.
        processors: [allowRange(this.layout.spec.wordBase, visualBase, [roles.sep, roles.eos]), ...parts.processors],
        sampler: parts.sampler,
        stopping: [stopAt(roles.eos), maxTokens(Math.min(options.maxTokens ?? 200, this.layout.spec.maxLen - prompt.ids.length))],
        rng: new Rng(options.seed).fork('steps'),
        ...(options.signal ? { signal: options.signal } : {}),
      }),
    );
    return [...(options.keep ?? []), ...this.layout.splitSteps(generated)];
  }

  /** The model's most likely texts for the next step after `keep` that are none of `refused` (step-alternatives.ts). */
  async stepAlternatives(robot: string, task: string, codes: ArrayLike<number>, options: { keep: readonly string[]; refused: readonly string[]; signal?: AbortSignal }): Promise<{ text: string; logProb: number }[]> {
    const { roles, visualBase, wordBase, maxLen } = this.layout.spec;
    const prompt = this.planPromptAfter(robot, task, codes, options.keep);
    const ends = [roles.sep, roles.eos];
    return stepAlternatives(
      {
        encodeText: (text) => this.layout.encodeText(text),
        decodeText: (ids) => this.layout.decodeText(ids),
        ends,
        wordsOnly: allowRange(wordBase, visualBase, ends),
        room: maxLen - prompt.ids.length,
        continueGreedy: (processors, stopping) =>
          this.pool.run((s) => generate(s, prompt, { processors, sampler: greedy, stopping, rng: new Rng(0), ...(options.signal ? { signal: options.signal } : {}) })),
      },
      options.refused,
    );
  }

  /** A DiDA span after a pass as KeyframePass: open cells keep the starting picture's code. */
  private passReporter(start: ArrayLike<number>, passes: number, report: (progress: KeyframePass) => void): (pass: number, span: readonly number[]) => void {
    return (pass, span) => {
      const cells = this.layout.grid * this.layout.grid;
      const codes = Int32Array.from(start);
      let filled = 0;
      for (let k = 0; k < span.length; k++) {
        const c = this.layout.codeIndexAt(k);
        if (c < 0 || !this.layout.isVisual(span[k]!)) continue;
        codes[c] = span[k]! - this.layout.spec.visualBase;
        filled++;
      }
      report({ pass, passes, codes, filled, cells });
    };
  }

  /** The plan prompt followed by `keep`, steps already written: generation continues after them. */
  private planPromptAfter(robot: string, task: string, codes: ArrayLike<number>, keep: readonly string[]): Tokens {
    const base = this.layout.planPrompt(robot, task, codes);
    const kept = keep.flatMap((step) => [...this.layout.encodeText(step), this.layout.spec.roles.sep]);
    return { ids: [...base.ids, ...kept], imagePos: [...base.imagePos, ...kept.map(() => 0)] };
  }

  /** The keyframe after `step`, drawn from the picture it starts from (observation or previous keyframe). */
  async keyframe(robot: string, task: string, codes: ArrayLike<number>, step: string, options: KeyframeOptions): Promise<Int32Array> {
    const prompt = this.layout.keyframePrompt(robot, task, codes, step);
    const rng = new Rng(options.seed).fork('keyframe');
    const keepBias = options.keepBias ?? DEFAULT_KEEP_BIAS;
    // The conditioning input (exports with spec transformer.condInput): each keyframe position also
    // gets the starting picture's token at the cell it predicts. Models without it ignore it.
    const condition = this.layout.imageTokens(codes).ids;
    const span = await this.pool.run(async (s) => {
      if (options.sampler === 'dida') {
        const guidance = options.guidance ?? DEFAULT_DIDA.guidance;
        return didaFill(
          s,
          this.layout,
          prompt,
          {
            passes: options.passes ?? this.didaPasses,
            schedule: options.schedule ?? DEFAULT_DIDA.schedule,
            temperature: options.temperature ?? DEFAULT_DIDA.temperature,
            guidance,
            ...(keepBias !== 0 ? { keep: { reference: codes, bias: keepBias } } : {}),
            condition,
            rng,
            ...(options.signal ? { signal: options.signal } : {}),
            ...(options.onPass ? { onPass: this.passReporter(codes, options.passes ?? this.didaPasses, options.onPass) } : {}),
          },
          guidance !== 1 ? this.layout.keyframePrompt(robot, task, codes, null) : undefined,
        );
      }
      const { visualBase, codes: n, roles } = this.layout.spec;
      const parts = samplingParts(options);
      const isRowEnd = (k: number) => this.layout.isEndOfRowAt(k);
      // AR: a position predicts the next token, so <|image start|> carries the first cell and the
      // token at span index k the cell k + 1.
      const arPrompt = { ...prompt, cond: [...new Array<number>(prompt.ids.length - 1).fill(0), condition[0]!] };
      return generate(s, arPrompt, {
        processors: [
          (logits, ctx) => {
            if (!isRowEnd(ctx.step)) allowRange(visualBase, visualBase + n)(logits, ctx);
          },
          forceAt(isRowEnd, roles.endOfRow),
          ...(keepBias !== 0 ? [keepPrior(this.layout, codes, keepBias)] : []),
          ...parts.processors,
        ],
        sampler: parts.sampler,
        stopping: [maxTokens(this.layout.imageSpanLength)],
        rng,
        imagePosOf: (k) => this.layout.imagePosAt(k),
        condOf: (k) => condition[k + 1] ?? 0,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    });
    return this.layout.spanToCodes(span);
  }
}

export { MODEL_IMAGE };
