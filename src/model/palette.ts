/**
 * Palette-patch pictures (models/PALETTE.md). The renderer paints with the colours of spec.json
 * `palette`, so the world model holds a picture as its palette indices, 16x16 cells of 8x8, instead of
 * learned codes. Encode: each pixel to its nearest palette colour through a 32x32x32 lookup table over
 * (R>>3, G>>3, B>>3); decode: paint. The same table as models/palette.py, built the same way (the
 * test checks both on a committed fixture): for each 5-bit bucket the palette entry nearest (squared
 * RGB distance, ties to the lower index) to the bucket's centre (v << 3) + 4, then each palette
 * colour's own bucket set to that colour, so a picture painted with palette colours round-trips
 * exactly. Pure: no image library.
 */

export interface PaletteCodec {
  /** Number of palette colours. */
  readonly colours: number;
  /** RGB of each colour, 3 bytes per entry. */
  readonly rgb: Uint8Array;
  /** Palette index of bucket (r >> 3) * 1024 + (g >> 3) * 32 + (b >> 3). */
  readonly lut: Uint8Array;
}

export const PALETTE_CELL = 8;

const codecs = new Map<string, PaletteCodec>();

function parseHex(hex: string): [number, number, number] {
  if (!/^#[0-9a-fA-F]{6}$/.test(hex)) throw new RangeError(`palette: '${hex}' is not a #rrggbb colour`);
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** The codec of a palette (spec.json `palette`); built once per palette and cached. */
export function paletteCodec(hexes: readonly string[]): PaletteCodec {
  const key = hexes.join(',');
  const known = codecs.get(key);
  if (known) return known;
  if (hexes.length === 0 || hexes.length > 255) throw new RangeError(`palette: ${hexes.length} colours (1 to 255 allowed)`);
  const rgb = new Uint8Array(hexes.length * 3);
  hexes.forEach((h, i) => rgb.set(parseHex(h), i * 3));
  const lut = new Uint8Array(32 * 32 * 32);
  for (let r = 0; r < 32; r++) {
    for (let g = 0; g < 32; g++) {
      for (let b = 0; b < 32; b++) {
        const cr = r * 8 + 4;
        const cg = g * 8 + 4;
        const cb = b * 8 + 4;
        let best = 0;
        let bestD = Infinity;
        for (let k = 0; k < hexes.length; k++) {
          const dr = cr - rgb[k * 3]!;
          const dg = cg - rgb[k * 3 + 1]!;
          const db = cb - rgb[k * 3 + 2]!;
          const d = dr * dr + dg * dg + db * db;
          if (d < bestD) {
            bestD = d;
            best = k;
          }
        }
        lut[r * 1024 + g * 32 + b] = best;
      }
    }
  }
  const owners = new Set<number>();
  for (let k = 0; k < hexes.length; k++) {
    const at = (rgb[k * 3]! >> 3) * 1024 + (rgb[k * 3 + 1]! >> 3) * 32 + (rgb[k * 3 + 2]! >> 3);
    if (owners.has(at)) throw new RangeError('palette: two colours share a 5-bit bucket; the lookup table cannot be exact');
    owners.add(at);
    lut[at] = k;
  }
  const codec = { colours: hexes.length, rgb, lut };
  codecs.set(key, codec);
  return codec;
}

/** Row-major RGB (3 bytes per pixel) -> one palette index per pixel. */
export function encodePalette(rgb: Uint8Array, codec: PaletteCodec): Uint8Array {
  if (rgb.length % 3 !== 0) throw new RangeError(`encodePalette: ${rgb.length} bytes is not whole RGB pixels`);
  const n = rgb.length / 3;
  const out = new Uint8Array(n);
  const lut = codec.lut;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    out[i] = lut[((rgb[j]! >> 3) << 10) | ((rgb[j + 1]! >> 3) << 5) | (rgb[j + 2]! >> 3)]!;
  }
  return out;
}

/** Palette indices -> row-major RGB. */
export function decodePalette(indices: Uint8Array, codec: PaletteCodec): Uint8Array {
  const out = new Uint8Array(indices.length * 3);
  const pal = codec.rgb;
  for (let i = 0, j = 0; i < indices.length; i++, j += 3) {
    const k = indices[i]!;
    if (k >= codec.colours) throw new RangeError(`decodePalette: index ${k} at pixel ${i} is not one of ${codec.colours} colours`);
    out[j] = pal[k * 3]!;
    out[j + 1] = pal[k * 3 + 1]!;
    out[j + 2] = pal[k * 3 + 2]!;
  }
  return out;
}

/**
 * A size x size picture of indices -> its cells: (size / cell)^2 cells in row-major order, each
 * cell x cell indices row-major (models/palette.py to_cells).
 */
export function toCells(indices: Uint8Array, size: number, cell = PALETTE_CELL): Uint8Array {
  if (indices.length !== size * size || size % cell !== 0) throw new RangeError(`toCells: expected ${size}x${size} indices in cells of ${cell}`);
  const grid = size / cell;
  const out = new Uint8Array(indices.length);
  let o = 0;
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      for (let y = 0; y < cell; y++) {
        const at = (gy * cell + y) * size + gx * cell;
        out.set(indices.subarray(at, at + cell), o);
        o += cell;
      }
    }
  }
  return out;
}

/** Inverse of toCells. */
export function fromCells(cells: Uint8Array, size: number, cell = PALETTE_CELL): Uint8Array {
  if (cells.length !== size * size || size % cell !== 0) throw new RangeError(`fromCells: expected ${size * size} indices in cells of ${cell}`);
  const grid = size / cell;
  const out = new Uint8Array(cells.length);
  let o = 0;
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      for (let y = 0; y < cell; y++) {
        out.set(cells.subarray(o, o + cell), (gy * cell + y) * size + gx * cell);
        o += cell;
      }
    }
  }
  return out;
}
