import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelError } from './model-error.js';

const PIX = 64;

/**
 * The cells a palette-patch model has seen change into (models/PALETTE.md, "Cell dictionary"): every
 * distinct 8x8 cell that a training transition's outcome holds where it differs from the starting
 * picture, 64 palette indices each, in the recipe's order. The pixel graph draws each pixel of a
 * changed cell on its own, and where it is unsure of a thin shape's offset the pixels vote for a
 * blob no renderer paints; a drawn cell is snapped to the dictionary cell with the fewest differing
 * pixels, so a changed cell is always a shape the scenes hold. Three in four changed cells of held-out
 * outcomes are in the dictionary exactly.
 */
export class CellDictionary {
  private readonly exact = new Map<string, number>();
  /** The cells as 32-bit words, 16 per cell (a copy, so aligned whatever `cells`' offset). */
  private readonly words: Uint32Array;

  constructor(readonly cells: Uint8Array) {
    if (cells.length === 0 || cells.length % PIX !== 0) throw new RangeError(`a cell dictionary holds whole cells of ${PIX} indices, got ${cells.length} bytes`);
    this.words = new Uint32Array(Uint8Array.from(cells).buffer);
    for (let m = 0; m < this.size; m++) this.exact.set(key(cells.subarray(m * PIX, (m + 1) * PIX)), m);
  }

  get size(): number {
    return this.cells.length / PIX;
  }

  static load(dir: string, file: string, count: number): CellDictionary {
    const path = join(dir, file);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (cause) {
      throw new ModelError(`${path} could not be read (${(cause as Error).message}): spec.json names it as the model's cell dictionary; copy it with the graphs, or export the model again with models/recipe.py`, path, { cause });
    }
    if (bytes.length !== count * PIX) throw new ModelError(`${path} holds ${bytes.length} bytes, spec.json says ${count} cells of ${PIX}: the file and spec.json come from different exports; export the model again`, path);
    return new CellDictionary(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  }

  /**
   * The dictionary cell nearest `cell` (64 indices) by the number of differing pixels, the first in
   * dictionary order on a tie, as numpy's argmin over the same distances: models/recipe.py snaps
   * the cells it draws with the same rule.
   */
  nearest(cell: Uint8Array): Uint8Array {
    const hit = this.exact.get(key(cell));
    if (hit !== undefined) return this.cells.slice(hit * PIX, (hit + 1) * PIX);
    // Four pixels at a time: the count of differing bytes of two 32-bit words, summed word by word,
    // stopping once an entry is no nearer than the best so far (most entries differ early).
    const query = new Uint32Array(WORDS);
    new Uint8Array(query.buffer).set(cell.subarray(0, PIX));
    const { words } = this;
    let best = 0;
    let bestDistance = PIX + 1;
    for (let m = 0, at = 0; m < this.size; m++, at += WORDS) {
      let distance = 0;
      for (let w = 0; w < WORDS && distance < bestDistance; w++) {
        const x = words[at + w]! ^ query[w]!;
        if (x !== 0) distance += differingBytes(x);
      }
      if (distance < bestDistance) {
        best = m;
        bestDistance = distance;
      }
    }
    return this.cells.slice(best * PIX, (best + 1) * PIX);
  }
}

const WORDS = PIX / 4;

/** How many of the four bytes of `x` are not zero. */
function differingBytes(x: number): number {
  let t = x | (x >>> 4);
  t |= t >>> 2;
  t |= t >>> 1;
  return Math.imul(t & 0x01010101, 0x01010101) >>> 24;
}

function key(cell: Uint8Array): string {
  return Buffer.from(cell.buffer, cell.byteOffset, PIX).toString('latin1');
}
