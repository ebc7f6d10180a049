import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CellDictionary } from '../../src/model/cell-dictionary.js';
import { ModelError } from '../../src/model/model-error.js';

const cellOf = (fill: number, changes: [number, number][] = []) => {
  const cell = new Uint8Array(64).fill(fill);
  for (const [p, v] of changes) cell[p] = v;
  return cell;
};
const dictionaryOf = (...cells: Uint8Array[]) => {
  const bytes = new Uint8Array(cells.length * 64);
  cells.forEach((c, m) => bytes.set(c, m * 64));
  return new CellDictionary(bytes);
};

describe('cell dictionary: a drawn cell snapped to the nearest cell the scenes hold', () => {
  const a = cellOf(1);
  const b = cellOf(2, [[0, 1]]);
  const c = cellOf(1, [[5, 7], [6, 7], [7, 7]]);
  const dictionary = dictionaryOf(a, b, c);

  it('a cell in the dictionary is its own nearest', () => {
    expect(Array.from(dictionary.nearest(c))).toEqual(Array.from(c));
    expect(Array.from(dictionary.nearest(b))).toEqual(Array.from(b));
  });

  it('else the cell with the fewest differing pixels', () => {
    // Two pixels of 7 where c has three: one pixel from c, two from a.
    expect(Array.from(dictionary.nearest(cellOf(1, [[5, 7], [6, 7]])))).toEqual(Array.from(c));
    expect(Array.from(dictionary.nearest(cellOf(2, [[0, 1], [63, 9]])))).toEqual(Array.from(b));
  });

  it('the first in dictionary order on a tie, as numpy argmin', () => {
    const x = cellOf(3);
    const y = cellOf(4);
    // Equally far from both (32 pixels each): the first entry wins, whichever it is.
    const half = cellOf(3, Array.from({ length: 32 }, (_, p) => [p, 4] as [number, number]));
    expect(Array.from(dictionaryOf(x, y).nearest(half))).toEqual(Array.from(x));
    expect(Array.from(dictionaryOf(y, x).nearest(half))).toEqual(Array.from(y));
  });

  it('the answer is a copy: changing it leaves the dictionary as it was', () => {
    const got = dictionary.nearest(a);
    got.fill(9);
    expect(Array.from(dictionary.nearest(a))).toEqual(Array.from(a));
  });

  it('refuses bytes that are not whole cells, and a file whose size disagrees with spec.json by name', () => {
    expect(() => new CellDictionary(new Uint8Array(65))).toThrow(/whole cells of 64/);
    expect(() => new CellDictionary(new Uint8Array(0))).toThrow(/whole cells of 64/);
    const dir = mkdtempSync(join(tmpdir(), 'keystep-cells-'));
    writeFileSync(join(dir, 'cells.bin'), new Uint8Array(128));
    expect(CellDictionary.load(dir, 'cells.bin', 2).size).toBe(2);
    expect(() => CellDictionary.load(dir, 'cells.bin', 3)).toThrow(ModelError);
    expect(() => CellDictionary.load(dir, 'cells.bin', 3)).toThrow(/cells\.bin holds 128 bytes, spec\.json says 3 cells/);
    expect(() => CellDictionary.load(dir, 'missing.bin', 1)).toThrow(/missing\.bin could not be read/);
  });
});
