import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodePalette, encodePalette, fromCells, paletteCodec, toCells } from '../../src/model/palette.js';

const spec = JSON.parse(readFileSync(new URL('../../models/spec.json', import.meta.url), 'utf8')) as { palette: string[] };
const codec = paletteCodec(spec.palette);
// models/palette_fixture.py: two held-out pictures of an export (a T-shirt, a table) and what
// models/palette.py makes of them.
const fixture = (name: string) => new Uint8Array(gunzipSync(readFileSync(new URL(`./fixtures/palette/${name}.bin.gz`, import.meta.url))));
const SIZE = 128;
const PICTURE = SIZE * SIZE;

describe('palette pictures', () => {
  it('builds the same lookup table as models/palette.py', () => {
    const lut = fixture('lut');
    expect(lut.length).toBe(32 * 32 * 32);
    expect(Buffer.from(codec.lut).equals(Buffer.from(lut))).toBe(true);
  });

  it('gives the same indices and cells as models/palette.py on exported pictures', () => {
    const pictures = fixture('pictures');
    const indices = fixture('indices');
    const cells = fixture('cells');
    expect(pictures.length).toBe(2 * PICTURE * 3);
    for (let p = 0; p < 2; p++) {
      const rgb = pictures.subarray(p * PICTURE * 3, (p + 1) * PICTURE * 3);
      const got = encodePalette(rgb, codec);
      const want = indices.subarray(p * PICTURE, (p + 1) * PICTURE);
      const first = got.findIndex((v, i) => v !== want[i]);
      expect(first, `picture ${p}: first differing pixel`).toBe(-1);
      expect(Buffer.from(toCells(got, SIZE)).equals(Buffer.from(cells.subarray(p * PICTURE, (p + 1) * PICTURE)))).toBe(true);
      expect(Buffer.from(fromCells(toCells(got, SIZE), SIZE)).equals(Buffer.from(got))).toBe(true);
    }
  });

  it('round-trips a picture painted with palette colours exactly', () => {
    // Every colour, in stripes and single pixels, over a whole model-size picture.
    const indices = new Uint8Array(PICTURE);
    for (let i = 0; i < PICTURE; i++) indices[i] = (i % 7 === 0 ? i : Math.floor(i / 97)) % codec.colours;
    const rgb = decodePalette(indices, codec);
    expect(Buffer.from(encodePalette(rgb, codec)).equals(Buffer.from(indices))).toBe(true);
    expect(Buffer.from(decodePalette(encodePalette(rgb, codec), codec)).equals(Buffer.from(rgb))).toBe(true);
  });

  it('maps each palette colour to itself', () => {
    for (let k = 0; k < codec.colours; k++) {
      const px = codec.rgb.subarray(k * 3, k * 3 + 3);
      expect(encodePalette(px, codec)[0]).toBe(k);
    }
  });

  it('refuses what is not a picture of palette indices', () => {
    expect(() => encodePalette(new Uint8Array(4), codec)).toThrow(/whole RGB pixels/);
    expect(() => decodePalette(new Uint8Array([codec.colours]), codec)).toThrow(/not one of/);
    expect(() => toCells(new Uint8Array(10), SIZE)).toThrow(/expected/);
    expect(() => paletteCodec(['#fff'])).toThrow(/#rrggbb/);
  });

  it('builds the table once per palette', () => {
    expect(paletteCodec([...spec.palette])).toBe(codec);
  });
});
