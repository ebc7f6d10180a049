import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { MODELS_DIR } from '../paths.js';
import { ModelError, modelFile } from './model-error.js';
import { joinWords, splitSteps, words } from './text.js';

/**
 * models/spec.json: the token layout shared with the Python recipe (models/worldmodel.py). One
 * vocabulary: specials (Emu3.5's names where they have one), a small closed word list, then the VQ
 * codebook as visual tokens at `visualBase + code`.
 */
export const ModelSpec = z.object({
  version: z.literal(1),
  imageSize: z.number().int().positive(),
  grid: z.number().int().min(16),
  codes: z.number().int().positive(),
  codeDim: z.number().int().positive(),
  specials: z.record(z.string(), z.number().int().nonnegative()),
  roles: z.object({
    pad: z.number().int(),
    bos: z.number().int(),
    eos: z.number().int(),
    imageStart: z.number().int(),
    imageEnd: z.number().int(),
    endOfRow: z.number().int(),
    steps: z.number().int(),
    sep: z.number().int(),
    mask: z.number().int(),
    unk: z.number().int(),
    next: z.number().int(),
  }),
  wordBase: z.number().int().positive(),
  words: z.array(z.string().min(1)),
  visualBase: z.number().int().positive(),
  vocab: z.number().int().positive(),
  maxLen: z.number().int().positive(),
  imagePositions: z.number().int().positive(),
  /** The colours the VQ decoder draws with (sim/palette.ts and their shadowed shades), when it draws with a palette. */
  palette: z.array(z.string().regex(/^#[0-9a-f]{6}$/)).optional(),
  transformer: z.object({
    layers: z.number().int().positive(),
    heads: z.number().int().positive(),
    headDim: z.number().int().positive(),
    d: z.number().int().positive(),
    /** The graph takes `cond_ids` (models/worldmodel.py GPT `cond`); absent in exports before it. */
    condInput: z.boolean().default(false),
  }),
});
export type ModelSpec = z.infer<typeof ModelSpec>;

/** The embedded model the planner opens unless told otherwise: the palette-patch recipe's output (models/recipe.py). */
export const DEFAULT_MODEL_DIR = MODELS_DIR;
/** The VQ-token model (models/train.py): what `--backend oracle-vq` draws through unless given `--model`. */
export const VQ_MODEL_DIR = join(MODELS_DIR, 'vq');

export function loadModelSpec(dir = VQ_MODEL_DIR): ModelSpec {
  const file = modelFile(dir, 'spec.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new ModelError(`${file} is not readable JSON (${(cause as Error).message}). Re-export the model with models/train.py.`, file, { cause });
  }
  const parsed = ModelSpec.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ModelError(`${file}: ${issue.path.join('.')}: ${issue.message}. Re-export the model with models/train.py.`, file);
  }
  return parsed.data;
}

/** A token sequence with the per-token image positions the transformer's `image_pos_ids` input takes. */
export interface Tokens {
  ids: number[];
  imagePos: number[];
}

/** Where a picture's tokens sit: `start` is the first token after <|image start|>. */
export interface ImageSpan {
  start: number;
  /** One past the last visual/end-of-row token (the <|image end|> index). */
  end: number;
}

/**
 * Text and image tokens as the model reads and writes them. Pure: no ONNX, no I/O.
 * Layouts (the same as models/train.py):
 *   plan:      BOS robot task IMG_START image IMG_END STEPS step1 SEP step2 ... EOS
 *   keyframe:  BOS robot task IMG_START image IMG_END NEXT step IMG_START keyframe IMG_END
 * An image is grid rows of grid visual tokens, rows separated by the end-of-row token.
 */
export class TokenLayout {
  readonly grid: number;
  private readonly wordIds = new Map<string, number>();

  constructor(readonly spec: ModelSpec) {
    this.grid = spec.grid;
    spec.words.forEach((w, i) => this.wordIds.set(w, spec.wordBase + i));
  }

  get roles(): ModelSpec['roles'] {
    return this.spec.roles;
  }

  /** Visual tokens of one picture, end-of-row tokens included. */
  get imageSpanLength(): number {
    return this.grid * this.grid + this.grid - 1;
  }

  encodeText(text: string): number[] {
    return words(text).map((w) => this.wordIds.get(w) ?? this.spec.roles.unk);
  }

  /** Word ids back to text; specials and visual tokens are skipped. */
  decodeText(ids: readonly number[]): string {
    const out: string[] = [];
    for (const id of ids) {
      const w = this.spec.words[id - this.spec.wordBase];
      if (id >= this.spec.wordBase && id < this.spec.visualBase && w !== undefined) out.push(w);
    }
    return joinWords(out);
  }

  /** Words the vocabulary lacks: the model cannot read them and sees <|unk|>. */
  unknownWords(text: string): string[] {
    return words(text).filter((w) => !this.wordIds.has(w));
  }

  isVisual(id: number): boolean {
    return id >= this.spec.visualBase && id < this.spec.visualBase + this.spec.codes;
  }

  /** Image position of the k-th token of an image span (0-based, end-of-row tokens counted). */
  imagePosAt(k: number): number {
    const row = Math.floor(k / (this.grid + 1));
    const col = k % (this.grid + 1);
    return 1 + row * (this.grid + 1) + col;
  }

  /** True where the k-th token of an image span is an end-of-row token. */
  isEndOfRowAt(k: number): boolean {
    return k % (this.grid + 1) === this.grid;
  }

  /** Codes (grid x grid, row-major) to the span's token ids. */
  imageTokens(codes: ArrayLike<number>): Tokens {
    if (codes.length !== this.grid * this.grid) throw new RangeError(`an image is ${this.grid * this.grid} codes, got ${codes.length}`);
    const ids: number[] = [];
    const imagePos: number[] = [];
    for (let k = 0; k < this.imageSpanLength; k++) {
      imagePos.push(this.imagePosAt(k));
      if (this.isEndOfRowAt(k)) ids.push(this.spec.roles.endOfRow);
      else ids.push(this.spec.visualBase + codes[this.codeIndexAt(k)]!);
    }
    return { ids, imagePos };
  }

  /** Which code (row-major) the k-th token of a span stands for; -1 for end of row. */
  codeIndexAt(k: number): number {
    if (this.isEndOfRowAt(k)) return -1;
    const row = Math.floor(k / (this.grid + 1));
    return row * this.grid + (k % (this.grid + 1));
  }

  /** Span token ids back to codes; throws when a visual position holds something else. */
  spanToCodes(ids: readonly number[]): Int32Array {
    const codes = new Int32Array(this.grid * this.grid);
    for (let k = 0; k < this.imageSpanLength; k++) {
      const c = this.codeIndexAt(k);
      if (c < 0) continue;
      const id = ids[k]!;
      if (!this.isVisual(id)) throw new RangeError(`token ${k} of the keyframe is ${id}, not a visual token`);
      codes[c] = id - this.spec.visualBase;
    }
    return codes;
  }

  /** BOS robot task IMG_START image IMG_END. */
  prefix(robot: string, task: string, codes: ArrayLike<number>): Tokens {
    const text = [this.roles.bos, ...this.encodeText(`${robot} ${task}`), this.roles.imageStart];
    const image = this.imageTokens(codes);
    return {
      ids: [...text, ...image.ids, this.roles.imageEnd],
      imagePos: [...text.map(() => 0), ...image.imagePos, 0],
    };
  }

  /** The plan prompt, ending with STEPS: the model continues with the step texts. */
  planPrompt(robot: string, task: string, codes: ArrayLike<number>): Tokens {
    const p = this.prefix(robot, task, codes);
    return { ids: [...p.ids, this.roles.steps], imagePos: [...p.imagePos, 0] };
  }

  /** Generated step text tokens (up to EOS) to step strings. */
  splitSteps(ids: readonly number[]): string[] {
    return splitSteps(ids, this.roles, (step) => this.decodeText(step));
  }

  /**
   * The keyframe prompt, ending with IMG_START: the model continues with the keyframe's span.
   * `step` null gives the unconditional prompt classifier-free guidance contrasts with.
   */
  keyframePrompt(robot: string, task: string, codes: ArrayLike<number>, step: string | null): Tokens {
    const p = this.prefix(robot, task, codes);
    // The whole sequence, keyframe and its image end included, must fit the model's positions.
    const room = Math.max(0, this.spec.maxLen - p.ids.length - 2 - this.imageSpanLength - 1);
    const text = [this.roles.next, ...(step === null ? [] : this.encodeText(step).slice(0, room)), this.roles.imageStart];
    return { ids: [...p.ids, ...text], imagePos: [...p.imagePos, ...text.map(() => 0)] };
  }
}
