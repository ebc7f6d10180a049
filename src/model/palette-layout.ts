import type { PaletteModelSpec } from './palette-spec.js';
import { joinWords, splitSteps, words } from './text.js';

/** Cells of a picture and values per cell (models/PALETTE.md). */
export const CELL_PIXELS = 64;

/** A prompt of a palette-patch model: text ids, image positions and each position's cell input. */
export interface PalettePrompt {
  ids: number[];
  imagePos: number[];
  /** Row-major [T, 64]: the picture's cells at its cell positions, NONE elsewhere. */
  cells: Uint8Array;
}

/**
 * The sequences of a palette-patch model, as models/recipe.py Layout writes them:
 *   plan:     BOS robot task IMG_START <256 cells> IMG_END STEPS step1 SEP step2 ... EOS
 *   keyframe: BOS robot task NEXT step IMG_START <256 cells, drawn>
 * A picture is not tokens: its cell positions carry CELL and their 64 palette indices in `cells`.
 */
export class PaletteLayout {
  private readonly wordIds = new Map<string, number>();

  constructor(readonly spec: PaletteModelSpec) {
    spec.words.forEach((w, i) => this.wordIds.set(w, spec.wordBase + i));
  }

  get cells(): number {
    return this.spec.grid * this.spec.grid;
  }

  /** One past the last word id: words are [wordBase, wordEnd). */
  get wordEnd(): number {
    return this.spec.wordBase + this.spec.words.length;
  }

  encodeText(text: string): number[] {
    return words(text).map((w) => this.wordIds.get(w) ?? this.spec.roles.unk);
  }

  decodeText(ids: readonly number[]): string {
    return joinWords(ids.flatMap((id) => (id >= this.spec.wordBase && id < this.wordEnd ? [this.spec.words[id - this.spec.wordBase]!] : [])));
  }

  splitSteps(ids: readonly number[]): string[] {
    return splitSteps(ids, this.spec.roles, (step) => this.decodeText(step));
  }

  /** The plan prompt for `picture` (256 x 64 palette indices), ending with STEPS and the steps in `keep`. */
  planPrompt(robot: string, task: string, picture: ArrayLike<number>, keep: readonly string[] = []): PalettePrompt {
    const { roles, cellValues } = this.spec;
    if (picture.length !== this.cells * CELL_PIXELS) throw new RangeError(`a palette picture is ${this.cells * CELL_PIXELS} indices, got ${picture.length}`);
    const head = [roles.bos, ...this.encodeText(`${robot} ${task}`), roles.imageStart];
    const kept = keep.flatMap((step) => [...this.encodeText(step), roles.sep]);
    const ids = [...head, ...new Array<number>(this.cells).fill(roles.cell), roles.imageEnd, roles.steps, ...kept];
    const imagePos = ids.map((_, i) => (i >= head.length && i < head.length + this.cells ? 1 + i - head.length : 0));
    const cells = new Uint8Array(ids.length * CELL_PIXELS).fill(cellValues.none);
    cells.set(Uint8Array.from(picture), head.length * CELL_PIXELS);
    return { ids, imagePos, cells };
  }

  /** BOS robot task NEXT step IMG_START: what a keyframe's cells follow. */
  keyframePrefix(robot: string, task: string, step: string): number[] {
    const { roles } = this.spec;
    return [roles.bos, ...this.encodeText(`${robot} ${task}`), roles.next, ...this.encodeText(step), roles.imageStart];
  }
}
