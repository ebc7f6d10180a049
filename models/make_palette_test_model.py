"""A tiny untrained palette-patch transformer (models/palette_model.py, d = 16, one layer) exported as
models/recipe.py exports the real one, and what torch computes on a fixed input: the fixture of
test/model/palette-runtime.test.ts, which checks that the TypeScript session reads the graph's
outputs exactly as torch writes them (pixel_best and the cells a keep/draw decision gives, bit for bit).

    /usr/bin/python3 models/make_palette_test_model.py
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from palette_model import PaletteGPT, ExportedPaletteGPT, PIX, COLOURS, MASK_VALUE, NONE_VALUE, CELL_TOKEN  # noqa: E402
from recipe import export_onnx  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'model', 'palette-model')


def main():
    torch.manual_seed(0)
    model = PaletteGPT(d=16, layers=1, heads=2, ff=32)
    # Weights far from their init's 0.02, so that per-pixel argmaxes are clear of ties.
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.5)
    model.eval()
    os.makedirs(OUT, exist_ok=True)

    g = torch.Generator().manual_seed(1)
    T = 6
    ids = [1, 20, 30, 3, CELL_TOKEN, CELL_TOKEN]
    positions = list(range(T))
    image_pos = [0, 0, 0, 0, 1, 2]
    cells = torch.full((1, T, PIX), NONE_VALUE, dtype=torch.uint8)
    cells[0, 4] = torch.randint(0, COLOURS, (PIX,), generator=g).to(torch.uint8)
    cells[0, 5] = MASK_VALUE
    cond = torch.full((1, T, PIX), NONE_VALUE, dtype=torch.uint8)
    cond[0, 3] = torch.randint(0, COLOURS, (PIX,), generator=g).to(torch.uint8)
    cond[0, 4] = torch.randint(0, COLOURS, (PIX,), generator=g).to(torch.uint8)
    cond[0, 5] = torch.randint(0, COLOURS, (PIX,), generator=g).to(torch.uint8)
    mask = torch.tril(torch.ones(T, T))
    mask[4:, 4:] = 1  # the two cell positions see each other (DiDA)
    past = model.empty_past(1)
    args = (torch.tensor([ids]), torch.tensor([positions]), torch.tensor([image_pos]), cells, cond, mask[None], past)
    # Centre the keep logit on the fixture, so that it has cells both kept and drawn.
    with torch.no_grad():
        keep_logit = model(*args)[1][0]
        model.keep_head.bias -= keep_logit.median() + 1e-3
    export_onnx(model, os.path.join(OUT, 'palette_transformer.onnx'))
    with torch.no_grad():
        logits, present, keep, best, conf = ExportedPaletteGPT(model)(
            torch.tensor([ids]), torch.tensor([positions]), torch.tensor([image_pos]), cells, cond, mask[None], past)
    drawn = [cond[0, t].tolist() if keep[0, t] >= 0.5 else best[0, t].tolist() for t in range(T)]
    fixture = {
        'ids': ids, 'positions': positions, 'imagePos': image_pos,
        'cells': cells[0].flatten().tolist(), 'cond': cond[0].flatten().tolist(), 'mask': mask.flatten().tolist(),
        'shape': {'layers': model.layers, 'heads': model.heads, 'headDim': model.d // model.heads},
        'keepProb': keep[0].tolist(), 'pixelBest': best[0].flatten().tolist(), 'pixelConfidence': conf[0].tolist(),
        'textArgmax': logits[0].argmax(-1).tolist(), 'presentDims': list(present.shape), 'drawn': drawn,
    }
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(fixture, f)


if __name__ == '__main__':
    main()
