import { describe, expect, it } from 'vitest';
import { keepUnchanged } from '../../src/model/picture.js';

// A 4x4-pixel picture on a 2x2 grid: cells of 2x2 pixels.
const grid = { size: 4, grid: 2 };
const fill = (v: number) => new Uint8Array(4 * 4 * 3).fill(v);
const pixel = (rgb: Uint8Array, x: number, y: number) => rgb[(y * 4 + x) * 3];

describe('keepUnchanged', () => {
  it('keeps the reference pixels exactly in cells whose code repeats, and the decoded pixels elsewhere', () => {
    const reference = { codes: new Int32Array([1, 2, 3, 4]), rgb: fill(10) };
    const decoded = fill(200);
    const out = keepUnchanged([1, 9, 3, 9], decoded, reference, grid);
    // cell 0 (top-left) and cell 2 (bottom-left) repeat: reference; cells 1 and 3 changed: decoded.
    expect([pixel(out, 0, 0), pixel(out, 1, 1), pixel(out, 0, 2), pixel(out, 1, 3)]).toEqual([10, 10, 10, 10]);
    expect([pixel(out, 2, 0), pixel(out, 3, 1), pixel(out, 2, 2), pixel(out, 3, 3)]).toEqual([200, 200, 200, 200]);
    expect(decoded.every((v) => v === 200)).toBe(true); // the input is not modified
  });

  it('is the decoded picture when every code changed, and the reference when none did', () => {
    const reference = { codes: new Int32Array([1, 2, 3, 4]), rgb: fill(10) };
    expect(Array.from(keepUnchanged([5, 6, 7, 8], fill(99), reference, grid)).every((v) => v === 99)).toBe(true);
    expect(Array.from(keepUnchanged([1, 2, 3, 4], fill(99), reference, grid)).every((v) => v === 10)).toBe(true);
  });

  it('refuses pictures or code grids of the wrong size, naming what it expected', () => {
    const reference = { codes: new Int32Array([1, 2, 3, 4]), rgb: fill(10) };
    expect(() => keepUnchanged([1, 2, 3], fill(0), reference, grid)).toThrow(/expected 4 codes/);
    expect(() => keepUnchanged([1, 2, 3, 4], new Uint8Array(12), reference, grid)).toThrow(/4x4 RGB/);
  });
});
