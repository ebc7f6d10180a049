"""Writes test/model/fixtures/palette/: two model-size pictures of a scripts/export-dataset.ts export
(a T-shirt and a table scene, off-palette edge pixels included) and what models/palette.py makes of
them, which test/model/palette.test.ts checks src/model/palette.ts against:

  /usr/bin/python3 models/palette_fixture.py --data models/.cache/palette/data

  pictures.bin.gz  2 x 128 x 128 x 3 uint8 RGB
  indices.bin.gz   2 x 128 x 128 uint8 palette indices (palette.encode)
  cells.bin.gz     2 x 256 x 64 uint8 (palette.to_cells)
  lut.bin.gz       32768 uint8, the whole lookup table (palette.LUT)
"""
import argparse
import gzip
import json
import os

import numpy as np

import palette


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True)
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'model', 'fixtures', 'palette'))
    a = ap.parse_args()
    index = json.load(open(os.path.join(a.data, 'index.json')))
    h, w, c = index['frameShape']
    frames = np.memmap(os.path.join(a.data, 'frames.bin'), dtype=np.uint8, mode='r').reshape(-1, h, w, c)
    # The first held-out picture of each scene.
    pick = [next(p['frame'] for p in index['plans'] if p['split'] == 'heldout' and p['scene'] == s) for s in ('tshirt', 'table')]
    pics = np.ascontiguousarray(frames[pick])
    idx = palette.encode(pics)
    os.makedirs(a.out, exist_ok=True)
    for name, arr in (('pictures', pics), ('indices', idx), ('cells', palette.to_cells(idx)), ('lut', palette.LUT)):
        with gzip.GzipFile(os.path.join(a.out, f'{name}.bin.gz'), 'wb', mtime=0) as f:
            f.write(np.ascontiguousarray(arr).tobytes())
    off = int((palette.decode(idx) != pics).any(-1).sum())
    print(f'frames {pick}: {off} of {idx.size} pixels are not exactly a palette colour; wrote {a.out}')


if __name__ == '__main__':
    main()
