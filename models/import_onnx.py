"""Recover train.py's checkpoints (vq.pt, gpt.pt) from the committed ONNX files.

Checkpoints live in a cache that does not travel with the repository, so a later run that wants to go
on from the committed export (fine-tune the VQ decoder with the codes fixed, train the transformer
on) starts here. Every weight is an initializer of the graphs: the VQ's by name, the transformer's
linear layers as the transposed matrices torch.onnx.export folds them into, in graph order. The check
before anything is written exports the recovered weights again and compares every initializer with
the committed one.

    /usr/bin/python3 import_onnx.py --onnx vq --cache .cache/shipped     # needs Debian's python3-onnx
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from train import export_onnx  # train.py only parses arguments in main()
from worldmodel import GPT, VQ


def initializers(path):
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}


def import_vq(enc, dec):
    vq = VQ()
    state = vq.state_dict()
    for name in state:
        if name in ('ema_count', 'ema_sum'):
            continue
        source = dec if name.startswith('dec.') or name in ('codebook', 'palette') else enc
        key = f'vq.{name}'
        if key not in source:
            sys.exit(f'import_onnx: {key} is not in the VQ graphs; was this export made by worldmodel.py\'s VQ?')
        state[name] = torch.from_numpy(source[key].copy())
    # EMA statistics only matter for training the codebook, which a decoder fine-tune keeps frozen.
    state['ema_sum'] = state['codebook'].clone()
    state['ema_count'] = torch.ones_like(state['ema_count'])
    vq.load_state_dict(state)
    return vq.eval()


def import_gpt(graph):
    cond = 'model.cond.weight' in graph
    blocks = {int(k.split('.')[2]) for k in graph if k.startswith('model.blocks.')}
    model = GPT(cond=cond, layers=1 + max(blocks) if blocks else 4)
    state = model.state_dict()
    named = {k[len('model.'):]: v for k, v in graph.items() if k.startswith('model.')}
    # Linear weights were folded into transposed MatMul constants, in the order the graph uses them:
    # per block qkv, proj, ff.0, ff.2; then the output head, tied to tok.weight.
    folded = [v for k, v in graph.items() if k.startswith('onnx::MatMul_')]
    linear = [k for k in state if k.endswith('.weight') and k.startswith('blocks.') and state[k].dim() == 2]
    if len(folded) != len(linear) + 1:
        sys.exit(f'import_onnx: {len(folded)} folded matrices for {len(linear)} linear layers and a head; unknown layout')
    for name, value in zip(linear, folded):
        if tuple(value.T.shape) != tuple(state[name].shape):
            sys.exit(f'import_onnx: {name} is {tuple(state[name].shape)}, the graph has {tuple(value.T.shape)}')
        named[name] = value.T
    if not np.array_equal(folded[-1].T, named['tok.weight']):
        sys.exit('import_onnx: the output head is not tied to the token embedding as worldmodel.GPT ties it')
    missing = [k for k in state if k not in named]
    if missing:
        sys.exit(f'import_onnx: not in the transformer graph: {missing}')
    model.load_state_dict({k: torch.from_numpy(np.array(named[k], copy=True)) for k in state})
    return model.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--onnx', default='vq', help='directory with vq_encoder.onnx, vq_decoder.onnx, transformer.onnx')
    ap.add_argument('--cache', required=True, help='where vq.pt and gpt.pt go')
    args = ap.parse_args()
    files = {n: os.path.join(args.onnx, f'{n}.onnx') for n in ('vq_encoder', 'vq_decoder', 'transformer')}
    graphs = {n: initializers(p) for n, p in files.items()}
    vq = import_vq(graphs['vq_encoder'], graphs['vq_decoder'])
    gpt = import_gpt(graphs['transformer'])
    # Checked before anything is written: a failed import leaves no checkpoint behind to train on.
    with tempfile.TemporaryDirectory() as out:
        export_onnx(vq, gpt, out)
        for n in files:
            # The transformer's folded constants get fresh onnx:: names, so compare values, not names.
            ours, again = (sorted(g.values(), key=lambda a: (a.shape, a.tobytes())) for g in (graphs[n], initializers(os.path.join(out, f'{n}.onnx'))))
            same = len(ours) == len(again) and all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(ours, again))
            print(f'{n}: {len(ours)} initializers, re-exported {"identical" if same else "DIFFERENT"}')
            if not same:
                sys.exit(f'import_onnx: the weights recovered from {files[n]} do not export to the same graph')
    os.makedirs(args.cache, exist_ok=True)
    torch.save(vq.state_dict(), os.path.join(args.cache, 'vq.pt'))
    torch.save(gpt.state_dict(), os.path.join(args.cache, 'gpt.pt'))
    print(f'wrote {args.cache}/vq.pt and gpt.pt')


if __name__ == '__main__':
    main()
