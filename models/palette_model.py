"""keystep world model over palette-patch pictures (models/PALETTE.md).

A picture is 16x16 cells of 8x8 palette indices (models/palette.py), lossless for the renderer's
pictures. One decoder-only transformer takes text tokens and picture cells in one sequence:

    plan:      BOS robot task IMG_START <256 cells> IMG_END STEPS step1 SEP step2 ... EOS
    keyframe:  BOS robot task NEXT step IMG_START <256 cells of the keyframe>

A cell position's input is the CELL token's embedding plus a patch embedding of its 64 pixels (64
positions x 36 values: 34 colours, MASK, NONE) plus, in keyframes, a conditioning patch embedding of
the starting picture's cell at the cell the position predicts (the starting picture enters only that
way). Each position answers text logits (256 ids), a keep logit (the predicted cell equals the
conditioning cell) and per-pixel palette logits (64 x 34), to which the conditioning cell's one-hot
is added with a learned gain. The attention mask is an input, so one graph serves AR (cell by cell,
causal, KV cache) and DiDA (the keyframe span bidirectional, masked cells filled over a few passes).
"""
import math
import re

import torch
import torch.nn as nn
import torch.nn.functional as F

from palette import palette_hex

IMAGE_SIZE = 128
GRID = 16
CELLS = GRID * GRID
CELL = 8
PIX = CELL * CELL
COLOURS = 34
MASK_VALUE = 34          # a pixel value meaning "not known yet" (DiDA's masked cells)
NONE_VALUE = 35          # no picture at this position (text tokens, no conditioning cell)
CELL_VALUES = 36

SPECIALS = ['<|endoftext|>', '<|extra_203|>', '<|extra_204|>', '<|image start|>', '<|image end|>',
            '<|extra_200|>', '<|steps|>', '<|sep|>', '<|mask|>', '<|unk|>', '<|extra_100|>', '<|cell|>']
PAD, BOS, EOS, IMG_START, IMG_END, EOL, STEPS, SEP, MASK, UNK, NEXT, CELL_TOKEN = range(len(SPECIALS))
WORD_BASE = 16
TEXT_VOCAB = 256         # specials and words; pictures are not tokens
MAX_LEN = 640
IMAGE_POSITIONS = 1 + CELLS   # 0 outside pictures, else 1 + row * 16 + col
TRUNK_GRAPH = 'palette_transformer.onnx'
PIXEL_GRAPH = 'palette_pixels.onnx'
KEYFRAME_GRAPH = 'palette_keyframe.onnx'

WORD_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*|[^\sa-z0-9]")


def words(text):
    return WORD_RE.findall(text.lower())


class Block(nn.Module):
    def __init__(self, d, heads, ff):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, ff), nn.GELU(), nn.Linear(ff, d))

    def forward(self, x, bias, past_k, past_v):
        B, T, D = x.shape
        H = self.heads
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=2)
        q = q.view(B, T, H, D // H).transpose(1, 2)
        k = k.view(B, T, H, D // H).transpose(1, 2)
        v = v.view(B, T, H, D // H).transpose(1, 2)
        if past_k is not None and (past_k.shape[2] > 0 or torch.jit.is_tracing()):  # training has no cache: no copy
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(D // H)) + bias
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, D)
        x = x + self.proj(y)
        return x + self.ff(self.ln2(x)), k, v


class PatchEmbedding(nn.Module):
    """A cell's 64 pixel values (36 possible each) -> d: the sum of one learned vector per (pixel
    position, value), i.e. a linear map of the one-hot cell, done as a gather. NONE cells give 0."""

    def __init__(self, d):
        super().__init__()
        self.table = nn.Embedding(PIX * (CELL_VALUES - 1) + 1, d, padding_idx=PIX * (CELL_VALUES - 1))
        self.register_buffer('offsets', torch.arange(PIX) * (CELL_VALUES - 1), persistent=False)
        nn.init.normal_(self.table.weight, std=0.02)
        with torch.no_grad():
            self.table.weight[-1].zero_()

    def forward(self, cells):  # B,T,64 (any int dtype) -> B,T,d
        return self.table(self.rows(cells)).sum(2) * (1.0 / CELL)

    def rows(self, cells):
        """Each pixel's row of the table: (position, value), NONE to the zero row."""
        c = cells.long()
        return torch.where(c == NONE_VALUE, torch.full_like(c, PIX * (CELL_VALUES - 1)), c + self.offsets)

    def indexed(self, patterns, index):
        """The embedding of cells given as distinct patterns [U,64] and each position's pattern [B,T]:
        a keyframe's 256 MASK cells are one pattern and a picture repeats many cells, so this sums
        U x 64 vectors instead of T x 64. The same values as forward() on the cells themselves."""
        return F.embedding(index, self.table(self.rows(patterns)).sum(1) * (1.0 / CELL))


def distinct_cells(cells):
    """The distinct cells of `cells` (...,64) as patterns [U,64] and each position's pattern (...)."""
    patterns, index = torch.unique(cells.reshape(-1, PIX), dim=0, return_inverse=True)
    return patterns, index.reshape(cells.shape[:-1])


class PaletteGPT(nn.Module):
    def __init__(self, d=128, layers=4, heads=4, ff=None, pixel_hidden=0, mixture=1, pixel_layers=1):
        super().__init__()
        ff = ff or 4 * d
        self.d, self.layers, self.heads, self.ff_dim, self.pixel_hidden, self.mixture = d, layers, heads, ff, pixel_hidden, mixture
        self.pixel_layers = pixel_layers if pixel_hidden else 0
        self.tok = nn.Embedding(TEXT_VOCAB, d)
        self.pos = nn.Embedding(MAX_LEN, d)
        self.ipos = nn.Embedding(IMAGE_POSITIONS, d)
        self.blocks = nn.ModuleList([Block(d, heads, ff) for _ in range(layers)])
        self.ln = nn.LayerNorm(d)
        self.keep_head = nn.Linear(d, 1)
        # A linear head makes each pixel's logits a linear function of the cell's state; a hidden
        # layer lets one state say "this shape at this offset" without a basis vector for each pair.
        # More hidden layers cost little next to the last product (hidden x 64 x 34).
        widths = [d] + [pixel_hidden] * self.pixel_layers
        hidden = [m for i in range(self.pixel_layers) for m in (nn.Linear(widths[i], widths[i + 1]), nn.GELU())]
        self.pixel_head = nn.Sequential(*hidden, nn.Linear(pixel_hidden, PIX * COLOURS)) if pixel_hidden else nn.Linear(d, PIX * COLOURS)
        # Per-pixel logits drawn by argmax vote: where the model is unsure of a thin shape's offset,
        # the vote paints the union of the offsets it weighs (a gripper's U comes out as a blob). A
        # mixture of whole-cell hypotheses, each with its own per-pixel logits, makes one draw one
        # coherent pattern: the hypothesis is chosen first, then its pixels. Measured, a wrong
        # hypothesis costs more pixels than a blob does (models/PALETTE.md): off by default.
        if mixture > 1:
            self.mix_head = nn.Linear(d, mixture)
            self.hypotheses = nn.Linear(d, mixture * d)
        self.apply(self._init)
        self.patch = PatchEmbedding(d)
        self.cond = PatchEmbedding(d)
        with torch.no_grad():
            self.cond.table.weight.copy_(self.patch.table.weight)
        # Gain of the conditioning cell's one-hot added to the pixel logits: copying the starting
        # picture is the favoured guess from the first step.
        self.copy_gain = nn.Parameter(torch.tensor(2.0))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def empty_past(self, batch):
        return torch.zeros(self.layers, 2, batch, self.heads, 0, self.d // self.heads, device=self.tok.weight.device)

    def trunk(self, input_ids, position_ids, image_pos_ids, cells, cond_cells, attention_mask, past):
        x = self.tok(input_ids) + self.pos(position_ids) + self.ipos(image_pos_ids) + self.patch(cells) + self.cond(cond_cells)
        return self.blocks_from(x, attention_mask, past)

    def trunk_distinct(self, input_ids, position_ids, image_pos_ids, cells, cond_cells, attention_mask):
        """trunk() for training: no cache, and each patch embedding summed once per distinct cell of
        the batch (a batch's pictures repeat most cells, and MASK and NONE fill whole spans). The same
        values up to float summation order; a training step takes about 14 % less time."""
        return self.indexed_trunk(input_ids, position_ids, image_pos_ids, *distinct_cells(cells), *distinct_cells(cond_cells), attention_mask)

    def indexed_trunk(self, input_ids, position_ids, image_pos_ids, cell_patterns, cell_index, cond_patterns, cond_index, attention_mask):
        """The trunk's states without a cache, the cells given as distinct patterns plus an index
        (PatchEmbedding.indexed)."""
        x = (self.tok(input_ids) + self.pos(position_ids) + self.ipos(image_pos_ids) + self.patch.indexed(cell_patterns, cell_index)
             + self.cond.indexed(cond_patterns, cond_index))
        h, _ = self.blocks_from(x, attention_mask, None)
        return h

    def blocks_from(self, x, attention_mask, past):
        """The blocks and the last layer norm over the summed input embeddings x; past None: no cache
        in or out (present None)."""
        bias = ((1.0 - attention_mask) * -1e4).unsqueeze(1)
        presents = []
        for i, blk in enumerate(self.blocks):
            past_k, past_v = (None, None) if past is None else (past[i, 0], past[i, 1])
            x, k, v = blk(x, bias, past_k, past_v)
            presents.append(torch.stack([k, v]))
        return self.ln(x), None if past is None else torch.stack(presents)

    def text_logits(self, h):
        return h @ self.tok.weight.t()

    def keep_logit(self, h):
        """h: ...,d -> the logit that the predicted cell equals its conditioning cell (...)."""
        return self.keep_head(h)[..., 0]

    def pixel_logits(self, h, cond_cells):
        """h: ...,d, cond_cells ...,64 -> hypothesis log-weights (...,K) and pixel logits
        (...,K,64,34); K = 1 (log-weight 0) without a mixture."""
        if self.mixture > 1:
            mix = self.mix_head(h).log_softmax(-1)
            states = self.hypotheses(h).view(*h.shape[:-1], self.mixture, self.d)
        else:
            mix = torch.zeros(*h.shape[:-1], 1, device=h.device)
            states = h.unsqueeze(-2)
        pix = self.pixel_head(states).view(*states.shape[:-1], PIX, COLOURS)
        onehot = (cond_cells.long().unsqueeze(-1) == torch.arange(COLOURS, device=h.device)).float()
        return mix, pix + self.copy_gain * onehot.unsqueeze(-3)

    @staticmethod
    def draw(mix, pix):
        """The drawn cell: the hypothesis whose own most likely cell is the most likely one (its
        log-weight plus its pixels' best log-probabilities), then each of its pixels' best index.
        Confidence: that hypothesis's weight times its weakest pixel's probability.
        mix ...,K, pix ...,K,64,34 -> best ...,64 (long), confidence (...)."""
        logp = pix.log_softmax(-1)
        top, best = logp.max(-1)                                    # ...,K,64
        k = (mix + top.sum(-1)).argmax(-1, keepdim=True)            # ...,1
        best = best.gather(-2, k.unsqueeze(-1).expand(*best.shape[:-2], 1, PIX)).squeeze(-2)
        weakest = top.min(-1)[0].gather(-1, k).squeeze(-1)
        return best, (mix.gather(-1, k).squeeze(-1) + weakest).exp()

    def forward(self, input_ids, position_ids, image_pos_ids, cells, cond_cells, attention_mask, past):
        """-> text logits, keep logit, each pixel's drawn index, the cell's confidence, the cache."""
        h, present = self.trunk(input_ids, position_ids, image_pos_ids, cells, cond_cells, attention_mask, past)
        best, conf = self.draw(*self.pixel_logits(h, cond_cells))
        return self.text_logits(h), self.keep_logit(h), best, conf, present


class ExportedPaletteTrunk(nn.Module):
    """palette_transformer.onnx (models/PALETTE.md): text logits, the cache, each position's keep
    probability and its state (the last layer norm's output), which palette_pixels.onnx draws from.
    The pixel head is a graph of its own so that a sampler runs it only on the cells it draws: most
    cells keep their starting picture, and the head is the costly part of a pass."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, position_ids, image_pos_ids, cells, cond_cells, attention_mask, past):
        h, present = self.model.trunk(input_ids, position_ids, image_pos_ids, cells, cond_cells, attention_mask, past)
        return self.model.text_logits(h), present, torch.sigmoid(self.model.keep_logit(h)), h


class ExportedPaletteKeyframe(nn.Module):
    """palette_keyframe.onnx: DiDA's forward over a whole keyframe sequence, nothing cached. It answers
    only what a keyframe pass reads (keep probability and state), takes the cells as distinct patterns
    plus an index (PatchEmbedding.indexed), and has no cache input or output and no text logits:
    onnxruntime runs every node of a graph whatever outputs are fetched. The same weights and, on the
    same sequence, the same keep_prob and cell_state as palette_transformer.onnx."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, position_ids, image_pos_ids, cell_patterns, cell_index, cond_patterns, cond_index, attention_mask):
        h = self.model.indexed_trunk(input_ids, position_ids, image_pos_ids, cell_patterns, cell_index, cond_patterns, cond_index, attention_mask)
        return torch.sigmoid(self.model.keep_logit(h)), h


class ExportedPalettePixels(nn.Module):
    """palette_pixels.onnx: cell states [N,d] and the conditioning cells [N,64] -> each pixel's drawn
    palette index [N,64] and the cell's confidence [N] (PaletteGPT.draw); the 64 x 34 pixel logits
    never leave onnxruntime."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, cell_state, cond_cells):
        best, conf = self.model.draw(*self.model.pixel_logits(cell_state, cond_cells))
        return best.to(torch.uint8), conf


def spec_json(word_list, model):
    return {
        'version': 2,
        'picture': 'palette-cells',
        'imageSize': IMAGE_SIZE, 'grid': GRID, 'cell': CELL, 'colours': COLOURS,
        'cellValues': {'mask': MASK_VALUE, 'none': NONE_VALUE},
        'specials': {name: i for i, name in enumerate(SPECIALS)},
        'roles': {'pad': PAD, 'bos': BOS, 'eos': EOS, 'imageStart': IMG_START, 'imageEnd': IMG_END,
                  'endOfRow': EOL, 'steps': STEPS, 'sep': SEP, 'mask': MASK, 'unk': UNK, 'next': NEXT, 'cell': CELL_TOKEN},
        'wordBase': WORD_BASE, 'words': word_list, 'vocab': TEXT_VOCAB,
        'maxLen': MAX_LEN, 'imagePositions': IMAGE_POSITIONS, 'palette': palette_hex(),
        'transformer': {'layers': model.layers, 'heads': model.heads, 'headDim': model.d // model.heads, 'd': model.d,
                        'ff': model.ff_dim, 'condInput': True,
                        **({'pixelHidden': model.pixel_hidden} if model.pixel_hidden else {}),
                        **({'pixelLayers': model.pixel_layers} if model.pixel_layers > 1 else {}),
                        **({'pixelMixture': model.mixture} if model.mixture > 1 else {})},
    }
