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

  constructor(readonly cells: Uint8Array) {
    if (cells.length === 0 || cells.length % PIX !== 0) throw new RangeError(`a cell dictionary holds whole cells of ${PIX} indices, got ${cells.length} bytes`);
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
    const { cells } = this;
    let best = 0;
    let bestDistance = PIX + 1;
    for (let m = 0, at = 0; m < this.size; m++, at += PIX) {
      let distance = 0;
      // Stop counting once this cell is no nearer than the best so far: most cells differ early.
      for (let p = 0; p < PIX && distance < bestDistance; p++) if (cells[at + p] !== cell[p]) distance++;
      if (distance < bestDistance) {
        best = m;
        bestDistance = distance;
      }
    }
    return cells.slice(best * PIX, (best + 1) * PIX);
  }
}

function key(cell: Uint8Array): string {
  return Buffer.from(cell.buffer, cell.byteOffset, PIX).toString('latin1');
}
