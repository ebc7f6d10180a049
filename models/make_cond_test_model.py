"""A tiny transformer with the conditioning input (cond_ids) whose answer is the conditioning token:
test/model/world-model-cond.test.ts runs it, with the committed tokenizer, to check that the TypeScript
runtime feeds cond_ids at the cell each position predicts, in AR (the next cell) and DiDA (its own).

    cd models && /usr/bin/python3 make_cond_test_model.py ../test/model/cond-model

Deterministic (seed 0). Not a trained model: its conditioning embedding is the token embedding scaled
up, so the tied output layer's argmax over the visual tokens is the conditioning token wherever one is
given, and a keyframe drawn from a picture comes out as that picture's codes exactly.
"""
import json
import os
import sys

import torch

from train import export_transformer, transformer_spec
from worldmodel import CODES, PAD, VISUAL_BASE, GPT

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
model = GPT(d=64, layers=1, heads=2, ff=128, cond=True)
with torch.no_grad():
    model.cond.weight.copy_(model.tok.weight * 40)
    model.cond.weight[PAD].zero_()
model.eval()
# Check the property the test relies on: each visual token, given as cond at any image position,
# is the argmax among the visual tokens.
with torch.no_grad():
    ids = torch.full((1, CODES), 8)  # MASK
    cond = torch.arange(VISUAL_BASE, VISUAL_BASE + CODES)[None]
    ipos = (torch.arange(CODES) % 271 + 1)[None]
    mask = torch.ones(1, CODES, CODES)
    logits, _ = model(ids, torch.arange(CODES)[None] % 600, ipos, mask, model.empty_past(1), cond)
    wrong = int((logits[0, :, VISUAL_BASE:].argmax(-1) != torch.arange(CODES)).sum())
assert wrong == 0, f'{wrong} codes are not their own argmax'
export_transformer(model, out)
json.dump(transformer_spec(model), open(f'{out}/transformer.json', 'w'), indent=1)
print('wrote', out)
