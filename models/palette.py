"""Palette-patch pictures: the renderer paints with the 34 colours of spec.json `palette`, so a picture
is exactly its grid of palette indices. Encode: each pixel to its nearest palette colour through a
32x32x32 lookup table over (R>>3, G>>3, B>>3); decode: paint. A 128x128 picture is 16x16 cells of 8x8
indices. src/model/palette.ts builds the same table the same way (test/model/palette.test.ts checks
both give the same indices on a committed fixture).

The table: for each 5-bit bucket, the palette entry nearest (squared RGB distance, ties to the lower
index) to the bucket's centre (v << 3) + 4; then each palette colour's own bucket is set to that
colour, so a picture painted with palette colours round-trips exactly (no two palette colours share a
bucket; build_lut checks it).
"""
import numpy as np

CELL = 8          # pixels per cell side
BASE_COLOURS = ['#3a3f44', '#c9b99b', '#8a7a5e', '#2f6fd6', '#173d80', '#ffd23f', '#e63946', '#f4f4f4', '#f4a261',
                '#7b8cde', '#ff8fab', '#2a9d8f', '#6d597a', '#1b1b1b', '#9c6644', '#00e5ff', '#7cff6b']
SHADOW_ALPHA = 0x40 / 255


def palette_hex():
    """The 17 renderer colours and each under the 25 % black shadow (worldmodel.palette_hex)."""
    out = list(BASE_COLOURS)
    for h in BASE_COLOURS:
        rgb = [int(h[i:i + 2], 16) for i in (1, 3, 5)]
        shaded = '#' + ''.join(f'{round(c * (1 - SHADOW_ALPHA)):02x}' for c in rgb)
        if shaded not in out:
            out.append(shaded)
    return out


def palette_rgb(hexes=None):
    hexes = hexes or palette_hex()
    return np.array([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in hexes], dtype=np.int32)


def build_lut(pal=None):
    """uint8 [32*32*32]: palette index of bucket (r>>3)*1024 + (g>>3)*32 + (b>>3)."""
    pal = palette_rgb() if pal is None else pal
    v = np.arange(32) * 8 + 4
    centres = np.stack(np.meshgrid(v, v, v, indexing='ij'), -1).reshape(-1, 3)
    d = ((centres[:, None, :] - pal[None, :, :]) ** 2).sum(-1)
    lut = d.argmin(1).astype(np.uint8)  # argmin takes the first of equal distances
    own = (pal[:, 0] >> 3) * 1024 + (pal[:, 1] >> 3) * 32 + (pal[:, 2] >> 3)
    if len(set(own.tolist())) != len(pal):
        raise ValueError('two palette colours share a 5-bit bucket: the lookup table cannot be exact')
    lut[own] = np.arange(len(pal), dtype=np.uint8)
    return lut


LUT = build_lut()
PALETTE = palette_rgb().astype(np.uint8)


def encode(rgb):
    """uint8 [..., H, W, 3] RGB -> uint8 [..., H, W] palette indices."""
    rgb = np.asarray(rgb, dtype=np.uint8)
    key = (rgb[..., 0].astype(np.int32) >> 3) * 1024 + (rgb[..., 1].astype(np.int32) >> 3) * 32 + (rgb[..., 2] >> 3)
    return LUT[key]


def decode(idx):
    """uint8 [..., H, W] palette indices -> uint8 [..., H, W, 3] RGB."""
    return PALETTE[np.asarray(idx)]


def to_cells(idx):
    """[..., 128, 128] indices -> [..., 256, 64]: cells in row-major order, pixels row-major within a cell."""
    idx = np.asarray(idx)
    *lead, h, w = idx.shape
    g = h // CELL
    x = idx.reshape(*lead, g, CELL, w // CELL, CELL)
    x = np.moveaxis(x, -3, -2)  # ..., gy, gx, cy, cx
    return x.reshape(*lead, g * (w // CELL), CELL * CELL)


def from_cells(cells, grid=16):
    """[..., 256, 64] -> [..., 128, 128]."""
    cells = np.asarray(cells)
    *lead, n, p = cells.shape
    x = cells.reshape(*lead, grid, grid, CELL, CELL)
    x = np.moveaxis(x, -2, -3)
    return x.reshape(*lead, grid * CELL, grid * CELL)
