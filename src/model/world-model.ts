import { Rng } from '../util/rng.js';
import { didaFill, DEFAULT_DIDA, type DidaOptions } from './dida.js';
import { DevicePool } from './device-pool.js';
import { allowRange, forceAt, generate, maxTokens, samplingParts, stopAt, type SamplingOptions } from './generation.js';
import { MODEL_IMAGE, rgbToPng, toModelRgb } from './image-io.js';
import { openModelSessions, parseDevice, type ModelSessions } from './onnx-session.js';
import { DEFAULT_MODEL_DIR, loadModelSpec, TokenLayout } from './spec.js';

export type KeyframeSampler = 'dida' | 'ar';

export interface KeyframeOptions extends SamplingOptions {
  sampler: KeyframeSampler;
  seed: number;
  /** DiDA only. */
  passes?: number;
  schedule?: DidaOptions['schedule'];
  guidance?: number;
  signal?: AbortSignal;
}

export interface StepTextOptions extends SamplingOptions {
  seed: number;
  /** Longest answer, in tokens. */
  maxTokens?: number;
  signal?: AbortSignal;
}

export interface WorldModelOptions {
  dir?: string;
  /** One session per device; default ['cpu']. */
  devices?: readonly string[];
  /** CPU threads per session. */
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

  /** The model's square picture size (spec.json imageSize). */
  get imageSize(): { width: number; height: number } {
    return { width: this.layout.spec.imageSize, height: this.layout.spec.imageSize };
  }

  static async open(options: WorldModelOptions = {}): Promise<WorldModel> {
    const dir = options.dir ?? DEFAULT_MODEL_DIR;
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
    const rgb = await toModelRgb(image, this.imageSize);
    return this.pool.run((s) => s.encode(rgb, 1));
  }

  async encodeRgb(rgb: Uint8Array): Promise<Int32Array> {
    return this.pool.run((s) => s.encode(rgb));
  }

  /** Visual codes to model-size RGB. */
  async decodeRgb(codes: ArrayLike<number>): Promise<Uint8Array> {
    return this.pool.run((s) => s.decode(codes, 1));
  }

  /** Visual codes to a keyframe PNG (stretched back to the camera's 4:3). */
  async decodePng(codes: ArrayLike<number>): Promise<Buffer> {
    return rgbToPng(await this.decodeRgb(codes), undefined, this.imageSize);
  }

  /** The remaining steps, as text, from the picture of the current state. */
  async stepTexts(robot: string, task: string, codes: ArrayLike<number>, options: StepTextOptions): Promise<string[]> {
    const prompt = this.layout.planPrompt(robot, task, codes);
    const { roles, visualBase } = this.layout.spec;
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
    return this.layout.splitSteps(generated);
  }

  /** The keyframe after `step`, drawn from the picture it starts from (observation or previous keyframe). */
  async keyframe(robot: string, task: string, codes: ArrayLike<number>, step: string, options: KeyframeOptions): Promise<Int32Array> {
    const prompt = this.layout.keyframePrompt(robot, task, codes, step);
    const rng = new Rng(options.seed).fork('keyframe');
    const span = await this.pool.run(async (s) => {
      if (options.sampler === 'dida') {
        const guidance = options.guidance ?? DEFAULT_DIDA.guidance;
        return didaFill(
          s,
          this.layout,
          prompt,
          {
            passes: options.passes ?? DEFAULT_DIDA.passes,
            schedule: options.schedule ?? DEFAULT_DIDA.schedule,
            temperature: options.temperature ?? DEFAULT_DIDA.temperature,
            guidance,
            rng,
            ...(options.signal ? { signal: options.signal } : {}),
          },
          guidance !== 1 ? this.layout.keyframePrompt(robot, task, codes, null) : undefined,
        );
      }
      const { visualBase, codes: n, roles } = this.layout.spec;
      const parts = samplingParts(options);
      const isRowEnd = (k: number) => this.layout.isEndOfRowAt(k);
      return generate(s, prompt, {
        processors: [
          (logits, ctx) => {
            if (!isRowEnd(ctx.step)) allowRange(visualBase, visualBase + n)(logits, ctx);
          },
          forceAt(isRowEnd, roles.endOfRow),
          ...parts.processors,
        ],
        sampler: parts.sampler,
        stopping: [maxTokens(this.layout.imageSpanLength)],
        rng,
        imagePosOf: (k) => this.layout.imagePosAt(k),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    });
    return this.layout.spanToCodes(span);
  }
}

export { MODEL_IMAGE };
