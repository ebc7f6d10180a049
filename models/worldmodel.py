"""keystep world model: a VQ image tokenizer and a decoder-only transformer over one vocabulary.

The token layout (models/vq/spec.json) is the contract with the TypeScript runtime (src/model/spec.ts).
Emu3.5's specials have counterparts here: BOS <|extra_203|>, EOS <|extra_204|>, image start/end,
end of row <|extra_200|>, assistant start <|extra_100|> (NEXT, before a keyframe's step text),
plus STEPS (the plan's answer starts), SEP between steps and MASK for DiDA.
"""
import math
import re

import torch
import torch.nn as nn
import torch.nn.functional as F

IMAGE_SIZE = 128         # model pictures are 128x128 RGB (src/model/image-io.ts)
GRID = 16                # 8x downsampling: 16x16 visual tokens per picture
CODES = 1024             # VQ codebook entries
CODE_DIM = 64

SPECIALS = ['<|endoftext|>', '<|extra_203|>', '<|extra_204|>', '<|image start|>', '<|image end|>',
            '<|extra_200|>', '<|steps|>', '<|sep|>', '<|mask|>', '<|unk|>', '<|extra_100|>']
PAD, BOS, EOS, IMG_START, IMG_END, EOL, STEPS, SEP, MASK, UNK, NEXT = range(len(SPECIALS))
WORD_BASE = 16           # words take ids 16..VISUAL_BASE-1
VISUAL_BASE = 256        # visual token k is id VISUAL_BASE + k
VOCAB = VISUAL_BASE + CODES
MAX_LEN = 640
# Image positions: 0 outside pictures, else 1 + row * (GRID + 1) + col, the end-of-row token at col GRID.
IMAGE_POSITIONS = 1 + GRID * (GRID + 1)

WORD_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*|[^\sa-z0-9]")


def words(text):
    return WORD_RE.findall(text.lower())


def spec_json(word_list):
    return {
        'version': 1,
        'imageSize': IMAGE_SIZE, 'grid': GRID, 'codes': CODES, 'codeDim': CODE_DIM,
        'specials': {name: i for i, name in enumerate(SPECIALS)},
        'roles': {'pad': PAD, 'bos': BOS, 'eos': EOS, 'imageStart': IMG_START, 'imageEnd': IMG_END,
                  'endOfRow': EOL, 'steps': STEPS, 'sep': SEP, 'mask': MASK, 'unk': UNK, 'next': NEXT},
        'wordBase': WORD_BASE, 'words': word_list, 'visualBase': VISUAL_BASE, 'vocab': VOCAB,
        'maxLen': MAX_LEN, 'imagePositions': IMAGE_POSITIONS, 'palette': palette_hex(),
    }


# ---------------------------------------------------------------- VQ tokenizer

# The sim renderer's colours (src/scenes/palette.ts, kept in models/palette.py; a test checks spec.json's copy against it) and each of
# them under the 25 % black shadow the renderer draws under lifted things. Sim pictures are flat
# colours, so the decoder draws with these: per pixel a softmax over palette entries, blended, which
# keeps colours exact, lets antialiased edges come out as blends and never washes a small object
# (the fork, a gripper) into the table.
from palette import BASE_COLOURS, SHADOW_ALPHA, palette_hex  # noqa: E402,F401  (one copy of the renderer's colours)


def palette_tensor():
    return torch.tensor([[int(h[i:i + 2], 16) / 255.0 for i in (1, 3, 5)] for h in palette_hex()])


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a = nn.Conv2d(c, c, 3, padding=1)
        self.b = nn.Conv2d(c, c, 1)

    def forward(self, x):
        return x + self.b(F.relu(self.a(F.relu(x))))


class VQ(nn.Module):
    """Conv encoder -> EMA codebook -> conv decoder. Pixels in [0,1] in and out (NCHW), 128x128 <-> 16x16
    codes. Fully convolutional, so it trains on 8-aligned crops and runs on whole pictures.

    The encoder sees the picture and its nearest-palette one-hot map (so antialiasing noise does not
    pick the code); the decoder predicts palette logits per pixel (`logits`), drawn as the softmax
    blend of palette colours (`decode`)."""

    def __init__(self, ch=32, codes=CODES, dim=CODE_DIM, decay=0.95):
        super().__init__()
        self.register_buffer('palette', palette_tensor())
        k = self.palette.shape[0]
        self.enc = nn.Sequential(
            nn.Conv2d(3 + k, ch, 4, 2, 1), nn.ReLU(), nn.Conv2d(ch, 2 * ch, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(2 * ch, 2 * ch, 4, 2, 1), ResBlock(2 * ch), ResBlock(2 * ch), nn.ReLU(), nn.Conv2d(2 * ch, dim, 1))
        self.dec = nn.Sequential(
            nn.Conv2d(dim, 2 * ch, 3, padding=1), ResBlock(2 * ch), ResBlock(2 * ch), nn.ReLU(),
            nn.ConvTranspose2d(2 * ch, 2 * ch, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(2 * ch, ch, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(ch, ch, 4, 2, 1), nn.ReLU(), nn.Conv2d(ch, k, 3, padding=1))
        self.decay = decay
        self.register_buffer('codebook', torch.randn(codes, dim) * 0.1)
        self.register_buffer('ema_count', torch.ones(codes))
        self.register_buffer('ema_sum', self.codebook.clone())

    def quantize(self, z):  # z: N,D,H,W -> indices N,H,W
        flat = z.permute(0, 2, 3, 1).reshape(-1, z.shape[1])
        d = (flat * flat).sum(1, keepdim=True) - 2 * flat @ self.codebook.t() + (self.codebook ** 2).sum(1)[None]
        return d.argmin(1).view(z.shape[0], z.shape[2], z.shape[3]), flat

    def labels(self, x):
        """Nearest palette entry per pixel: N,H,W long."""
        d = ((x.unsqueeze(1) - self.palette[None, :, :, None, None]) ** 2).sum(2)
        return d.argmin(1)

    def features(self, x):
        d = ((x.unsqueeze(1) - self.palette[None, :, :, None, None]) ** 2).sum(2)
        # One-hot of the nearest entry without argmin/one_hot ops (plain comparisons export to any opset).
        onehot = (d <= d.amin(1, keepdim=True)).float()
        return self.enc(torch.cat([x * 2 - 1, onehot], 1))

    def encode(self, x):
        return self.quantize(self.features(x))[0]

    def draw(self, logits):
        return torch.einsum('nkhw,kc->nchw', logits.softmax(1), self.palette)

    def decode(self, idx):  # idx: N,H,W long -> pixels N,3,8H,8W in [0,1]
        q = self.codebook[idx].permute(0, 3, 1, 2)
        return self.draw(self.dec(q))

    def forward(self, x):
        z = self.features(x)
        idx, flat = self.quantize(z)
        q = self.codebook[idx].permute(0, 3, 1, 2)
        if self.training:
            with torch.no_grad():
                onehot = F.one_hot(idx.view(-1), self.codebook.shape[0]).float()
                self.ema_count.mul_(self.decay).add_(onehot.sum(0), alpha=1 - self.decay)
                self.ema_sum.mul_(self.decay).add_(onehot.t() @ flat, alpha=1 - self.decay)
                n = self.ema_count.sum()
                count = (self.ema_count + 1e-5) / (n + self.codebook.shape[0] * 1e-5) * n
                self.codebook.copy_(self.ema_sum / count[:, None])
        commit = F.mse_loss(z, q.detach())
        q = z + (q - z).detach()   # straight-through
        logits = self.dec(q)
        return self.draw(logits), idx, commit, logits

    @torch.no_grad()
    def restart_dead(self, z_samples, gen):
        """Codes nobody uses get moved onto random encoder outputs, so the codebook stays in use."""
        dead = self.ema_count < 1e-3
        n = int(dead.sum())
        if n == 0:
            return 0
        pick = torch.randint(0, z_samples.shape[0], (n,), generator=gen)
        chosen = z_samples[pick].to(self.codebook.device)
        self.codebook[dead] = chosen
        self.ema_sum[dead] = chosen
        self.ema_count[dead] = 1.0
        return n


class VQEncoder(nn.Module):
    """ONNX graph: pixels uint8 NHWC (N,128,128,3) -> visual codes int64 N,16,16."""

    def __init__(self, vq):
        super().__init__()
        self.vq = vq

    def forward(self, pixels):
        x = pixels.float().permute(0, 3, 1, 2) / 255.0
        return self.vq.encode(x)


class VQDecoder(nn.Module):
    """ONNX graph: visual codes int64 N,16,16 -> pixels uint8 NHWC."""

    def __init__(self, vq):
        super().__init__()
        self.vq = vq

    def forward(self, codes):
        x = self.vq.decode(codes).clamp(0, 1) * 255.0 + 0.5
        return x.permute(0, 2, 3, 1).to(torch.uint8)


# ---------------------------------------------------------------- transformer

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
        k = torch.cat([past_k, k.view(B, T, H, D // H).transpose(1, 2)], dim=2)
        v = torch.cat([past_v, v.view(B, T, H, D // H).transpose(1, 2)], dim=2)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(D // H)) + bias
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, D)
        x = x + self.proj(y)
        return x + self.ff(self.ln2(x)), k, v


class GPT(nn.Module):
    """Decoder-only transformer. The attention mask is an input, so one graph serves causal AR (with a
    KV cache) and DiDA (a bidirectional keyframe span over a causal prefix)."""

    def __init__(self, d=128, layers=4, heads=4, ff=512, cond=False):
        super().__init__()
        self.d, self.layers, self.heads = d, layers, heads
        self.tok = nn.Embedding(VOCAB, d)
        self.pos = nn.Embedding(MAX_LEN, d)
        self.ipos = nn.Embedding(IMAGE_POSITIONS, d)
        self.blocks = nn.ModuleList([Block(d, heads, ff) for _ in range(layers)])
        self.ln = nn.LayerNorm(d)
        self.apply(self._init)
        # Conditioning-cell input (`cond_ids`, see cond_ids_for): the token of the starting picture at
        # the cell a position predicts, added to that position's input like GameNGen and DIAMOND
        # concatenate the context frame to the frame they denoise. It starts as a copy of the token
        # embedding, so with tied output weights the copy is the favoured guess from the first step and
        # the layers spend their capacity on what the step changes. Optional: exports without it
        # keep the five-input graph.
        self.cond = None
        if cond:
            self.cond = nn.Embedding(VOCAB, d, padding_idx=PAD)
            with torch.no_grad():
                self.cond.weight.copy_(self.tok.weight)
                self.cond.weight[PAD].zero_()

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    @staticmethod
    def layers_in(state):
        """How many blocks a state dict holds (a grown model has more than the default 4)."""
        return 1 + max(int(k.split('.')[1]) for k in state if k.startswith('blocks.'))

    def empty_past(self, batch):
        return torch.zeros(self.layers, 2, batch, self.heads, 0, self.d // self.heads, device=self.tok.weight.device)

    def forward(self, input_ids, position_ids, image_pos_ids, attention_mask, past, cond_ids=None):
        """attention_mask: float B,T,P+T, 1 = may attend. past: L,2,B,H,P,Dh. cond_ids: B,T (PAD where
        none; needed when the model has the conditioning input). Returns logits B,T,V and present
        L,2,B,H,P+T,Dh."""
        x = self.tok(input_ids) + self.pos(position_ids) + self.ipos(image_pos_ids)
        if self.cond is not None:
            x = x + self.cond(cond_ids if cond_ids is not None else torch.zeros_like(input_ids))
        bias = ((1.0 - attention_mask) * -1e4).unsqueeze(1)
        presents = []
        for i, blk in enumerate(self.blocks):
            x, k, v = blk(x, bias, past[i, 0], past[i, 1])
            presents.append(torch.stack([k, v]))
        logits = self.ln(x) @ self.tok.weight.t()
        return logits, torch.stack(presents)


def cond_ids_for(ids, ipos, shift):
    """The `cond_ids` input of a sequence: at each position, the token of the sequence's first picture
    (the starting picture) at the cell whose token that position's logits predict, PAD elsewhere.
    DiDA positions predict their own token (shift 0); AR positions predict the next one (shift 1), so
    an AR keyframe's <|image start|> carries the starting picture's first cell. Only cells of a later
    picture (the keyframe) get one; plan sequences have a single picture and get none."""
    out = [PAD] * len(ids)
    first, k = {}, 0
    while k < len(ids) and ids[k] != IMG_START:
        k += 1
    k += 1
    while k < len(ids) and ids[k] != IMG_END:
        first[ipos[k]] = ids[k]
        k += 1
    for j in range(k + 1, len(ids)):
        if ipos[j] > 0 and j - shift >= 0:
            out[j - shift] = first.get(ipos[j], PAD)
    return out
