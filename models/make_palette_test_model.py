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
from palette_model import PaletteGPT, ExportedPalettePixels, ExportedPaletteTrunk, PIX, COLOURS, MASK_VALUE, NONE_VALUE, CELL_TOKEN  # noqa: E402
import numpy as np  # noqa: E402

from palette_model import EOS, PIXEL_GRAPH, SEP, TRUNK_GRAPH, WORD_BASE, spec_json  # noqa: E402
from recipe import Layout, ar_decode, dida_decode, export_onnx, greedy_text  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'model', 'palette-model')


def main():
    torch.manual_seed(0)
    # A hidden pixel layer and a mixture of hypotheses, as `recipe.py --pixel-hidden --pixel-mixture` makes.
    model = PaletteGPT(d=16, layers=1, heads=2, ff=32, pixel_hidden=8, mixture=3)
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
    # Centre the keep logit on the keyframe's first DiDA pass, so that the fixtures have cells both kept and drawn.
    prefix = [1, 20, 30, 10, 40, 41, 3]
    rs = np.random.RandomState(2)
    start = rs.randint(0, COLOURS, (256, PIX)).astype(np.uint8)
    n = len(prefix)
    kf_cells = torch.full((1, n + 256, PIX), NONE_VALUE, dtype=torch.uint8)
    kf_cells[0, n:] = MASK_VALUE
    kf_cond = torch.full((1, n + 256, PIX), NONE_VALUE, dtype=torch.uint8)
    kf_cond[0, n:] = torch.from_numpy(start)
    kf_mask = torch.tril(torch.ones(n + 256, n + 256))
    kf_mask[n:, n:] = 1
    with torch.no_grad():
        keep_logit = model(torch.tensor([prefix + [CELL_TOKEN] * 256]), torch.arange(n + 256)[None], torch.tensor([[0] * n + list(range(1, 257))]),
                           kf_cells, kf_cond, kf_mask[None], past)[1][0, n:]
        model.keep_head.bias -= keep_logit.median() + 1e-3
    export_onnx(model, OUT)
    with torch.no_grad():
        logits, present, keep, state = ExportedPaletteTrunk(model)(
            torch.tensor([ids]), torch.tensor([positions]), torch.tensor([image_pos]), cells, cond, mask[None], past)
        best, conf = (x[None] for x in ExportedPalettePixels(model)(state[0], cond[0]))
    drawn = [cond[0, t].tolist() if keep[0, t] >= 0.5 else best[0, t].tolist() for t in range(T)]
    fixture = {
        'ids': ids, 'positions': positions, 'imagePos': image_pos,
        'cells': cells[0].flatten().tolist(), 'cond': cond[0].flatten().tolist(), 'mask': mask.flatten().tolist(),
        'shape': {'layers': model.layers, 'heads': model.heads, 'headDim': model.d // model.heads},
        'keepProb': keep[0].tolist(), 'cellState': state[0].flatten().tolist(), 'pixelBest': best[0].flatten().tolist(), 'pixelConfidence': conf[0].tolist(),
        'textArgmax': logits[0].argmax(-1).tolist(), 'presentDims': list(present.shape), 'drawn': drawn,
    }
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(fixture, f)

    # Whole keyframes, as models/recipe.py's evaluation draws them: AR and DiDA with 2 and 4 passes.
    class Prefix:
        def keyframe_prefix(self, row):
            return prefix
    keyframes = {
        'prefix': Prefix().keyframe_prefix(None), 'start': start.flatten().tolist(),
        'ar': ar_decode(model, Prefix(), None, start).flatten().tolist(),
        'dida2': dida_decode(model, Prefix(), None, start, 2).flatten().tolist(),
        'dida4': dida_decode(model, Prefix(), None, start, 4).flatten().tolist(),
    }
    with open(os.path.join(OUT, 'expected-keyframes.json'), 'w') as f:
        json.dump(keyframes, f)

    # A model folder the runtime opens as a whole (spec.json beside the graph, the shipped model's
    # words), and what it must answer through the planner's path: the step texts of a plan prompt,
    # greedy over words, SEP and EOS, and the keyframes of a step from real prompt text.
    words = json.load(open(os.path.join(os.path.dirname(__file__), 'spec.json')))['words']
    spec = spec_json(words, model)
    spec['recipe'] = {'command': '/usr/bin/python3 models/make_palette_test_model.py', 'seed': 0, 'dataHash': 'sha256:' + '0' * 64,
                      'steps': 0, 'graph': TRUNK_GRAPH, 'pixelGraph': PIXEL_GRAPH}
    with open(os.path.join(OUT, 'spec.json'), 'w') as f:
        json.dump(spec, f, indent=1)
    layout = Layout(words)
    row = {'robot': 'aloha-agilex', 'task': 'fold the t-shirt', 'steps': [], 'frame': 0,
           'step': 'fold the left sleeve with the left arm'}
    keyframes_of_row = {
        'robot': row['robot'], 'task': row['task'], 'step': row['step'], 'prefix': layout.keyframe_prefix(row),
        'ar': ar_decode(model, layout, row, start).flatten().tolist(),
        'dida2': dida_decode(model, layout, row, start, 2).flatten().tolist(),
        'text': greedy_text(model, layout, row, [start], limit=12, allowed=words_only(spec['vocab'], WORD_BASE + len(words))),
    }
    with open(os.path.join(OUT, 'expected-model.json'), 'w') as f:
        json.dump(keyframes_of_row, f)


def words_only(vocab, word_end):
    """The runtime's restriction of step texts: only words, SEP and EOS may follow."""
    allowed = torch.full((vocab,), float('-inf'))
    allowed[WORD_BASE:word_end] = 0
    allowed[SEP] = 0
    allowed[EOS] = 0
    return allowed

if __name__ == '__main__':
    main()
