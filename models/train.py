"""Trains keystep's world model from scripts/export-dataset.ts output, evaluates it on held-out seeds
and exports ONNX. Seeded; 2 CPU threads by default (Debian's torch), the training stages (vq, vqdec,
gpt) and the encoding of the frames on a GPU with --device cuda. Run with Debian's torch:

  /usr/bin/python3 models/train.py --data models/.cache/data128 --out models/vq [--vq-steps N] [--gpt-steps N]
      [--stage all|vq|gpt|eval|onnx] [--cache DIR] [--vq-crop 64] [--vq-batch 32] [--gpt-init OLD/gpt.pt]

Stages (each cached under models/.cache/): vq -> codes -> gpt -> eval -> onnx. Writes models/vq/*.onnx,
models/vq/spec.json, models/vq/metrics.json.

Every run that encodes the frames also writes CACHE/codes.npy (int16 [N,16,16], 4.4 MB for the
8,530-frame export). With --codes that file stands in for frames.bin (419 MB): the gpt, eval and onnx
stages need only the data's index.json, the codes and CACHE/vq.pt, so a transformer run can move to a
CUDA host that cannot make the frames and should not have to receive them:

  /usr/bin/python3 models/train.py --data D --codes C/codes.npy --cache C --stage gpt --device cuda ...

A run that trains the tokenizer too reads frames.bin.xz where there is no frames.bin (`xz -T1 -6`,
9.4 MB), so a whole run from nothing needs only 23 MB of files on a CUDA host (models/gpu-train.sh).
"""
import argparse
import ctypes
import gzip
import lzma
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from worldmodel import (cond_ids_for, BOS, CODES, EOL, EOS, GRID, IMAGE_SIZE, IMG_END, IMG_START, MASK, NEXT, SEP, STEPS, UNK, VISUAL_BASE,
                        WORD_BASE, GPT, VQ, VQDecoder, VQEncoder, spec_json, words)

torch.set_num_threads(2)


def keep_freed_memory():
    """Tells glibc's malloc to keep freed memory instead of handing it back to the kernel. A training
    step allocates and frees tensors of tens of MB (a batch's attention is 70 MB); glibc serves every
    block over 32 MB with a fresh mmap and unmaps it on free, so each step faults every page in again,
    and on a VM a page fault can be dear: on the 2-core VM this recipe is measured on, a 64 MB tensor
    allocated and filled 50 times takes 7.6 s, and without this setting a transformer step 6.6 s, 66 of
    its 82 s wall in the kernel. With mmap off
    and no trimming, the heap is reused: 1.9 s per step, the same weights. (jemalloc preloaded with
    decay off is faster still, 1.8 s: see the model card.) A no-op where malloc is not glibc's."""
    try:
        libc = ctypes.CDLL('libc.so.6')
        M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
        return libc.mallopt(M_MMAP_MAX, 0) == 1 and libc.mallopt(M_TRIM_THRESHOLD, 2 ** 31 - 1) == 1
    except (OSError, AttributeError):
        return False


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def log(*a):
    print(f'[{time.strftime("%H:%M:%S")}]', *a, flush=True)


# ---------------------------------------------------------------- data

def load(data_dir, with_frames=True):
    """The export's index and frames: frames.bin, or where only that is there frames.bin.xz (the same
    bytes, `xz -T1 -6`: 9.4 MB instead of 419 MB, small enough to copy to a CUDA host)
    or frames.bin.gz."""
    index = json.load(open(os.path.join(data_dir, 'index.json')))
    if not with_frames:
        return index, None
    h, w, c = index['frameShape']
    raw = os.path.join(data_dir, 'frames.bin')
    packed = next(((raw + ext, opener) for ext, opener in (('.xz', lzma.open), ('.gz', gzip.open)) if os.path.exists(raw + ext)), None)
    if os.path.exists(raw):
        frames = np.fromfile(raw, dtype=np.uint8)
    elif packed:
        with packed[1](packed[0], 'rb') as f:
            frames = np.frombuffer(bytearray(f.read()), dtype=np.uint8)  # writable, as np.fromfile's is
    else:
        sys.exit(f'train.py: {data_dir} has no frames.bin, frames.bin.xz or frames.bin.gz (npx tsx scripts/export-dataset.ts --out {data_dir}); '
                 'the gpt, eval and onnx stages can run from --codes instead')
    if frames.size % (h * w * c):
        sys.exit(f'train.py: the frames in {data_dir} hold {frames.size} bytes, not a whole number of {h}x{w}x{c} frames: a truncated copy?')
    return index, frames.reshape(-1, h, w, c)


def pixels(frames, ids, device='cpu'):
    """Frames `ids` (indices or a slice) as float NCHW in [0, 1] on `device`."""
    return torch.from_numpy(frames[ids]).to(device).float().permute(0, 3, 1, 2) / 255.0


def cpu_state(module):
    """A module's state dict on the CPU, wherever it trained: what every checkpoint holds."""
    return {k: v.cpu() for k, v in module.state_dict().items()}


def load_codes(path, index):
    """codes.npy as the gpt stage uses it; refuses a file that cannot belong to this index."""
    if not os.path.exists(path):
        sys.exit(f'train.py: --codes {path} does not exist (every run that encodes the frames writes CACHE/codes.npy)')
    codes = np.load(path)
    need = 1 + max(max(r['frame'], r.get('next', -1)) for r in index['plans'] + index['transitions'])
    if codes.ndim != 3 or codes.shape[1:] != (GRID, GRID) or len(codes) < need:
        sys.exit(f'train.py: --codes {path} holds {codes.shape}, but this index needs [>= {need}, {GRID}, {GRID}]: codes of another data export?')
    return codes


def frame_split(index, n):
    """Frames that appear only in held-out episodes are the VQ's held-out set."""
    train = np.zeros(n, bool)
    for row in index['plans'] + index['transitions']:
        if row['split'] == 'train':
            train[row['frame']] = True
            if 'next' in row:
                train[row['next']] = True
    return np.nonzero(train)[0], np.nonzero(~train)[0]


# ---------------------------------------------------------------- VQ

@torch.no_grad()
def palette_weights(vq, frames, train_ids):
    """Palette entries weighted by inverse square-root frequency (capped at 30x the table's): the
    table and floor cover 90 % of the pixels, a gripper or the fork a few dozen, and those decide
    what the controller sees."""
    sample = pixels(frames, train_ids[::20], vq.codebook.device)
    freq = torch.bincount(torch.cat([vq.labels(sample[i:i + 64]).reshape(-1) for i in range(0, len(sample), 64)]),
                          minlength=vq.palette.shape[0]).float()
    class_w = (freq.sum() / (freq + freq.sum() * 1e-4)).sqrt()
    return (class_w / class_w[freq.argmax()]).clamp(max=30.0)


def palette_loss(vq, logits, rec, x, class_w):
    """Returns (cross-entropy, hinge, total). Cross-entropy against the nearest palette entry, pixels
    near an edge weighing up to 11x (that is where a code has to say exactly where things are); L1 on
    the blend, which matches antialiased edges; a hinge on pixels off by more than 0.15 in a channel,
    which the controller counts."""
    labels = vq.labels(x)
    w = saliency(x)
    ce = (F.cross_entropy(logits, labels, weight=class_w, reduction='none') * w[:, 0]).sum() / (class_w[labels] * w[:, 0]).sum()
    err = (rec - x).abs()
    hinge = F.relu(err.amax(1) - 0.15).mean()
    return ce, hinge, ce + 2 * (err * w).mean() + 4 * hinge


def train_vq(frames, train_ids, heldout_ids, steps, seed, crop=64, batch=32, device='cpu'):
    """Trains on crop x crop windows at multiples of 8 pixels (the token stride): the conv tokenizer
    sees the same patches as on whole pictures at a quarter of the cost. On `device`; every random
    choice is drawn on the CPU from the same seeded generator, so a CUDA run sees the same batches."""
    seed_all(seed)
    vq = VQ().to(device)
    opt = torch.optim.Adam(vq.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(seed)
    class_w = palette_weights(vq, frames, train_ids)
    log('vq palette weights', [round(v, 1) for v in class_w.tolist()])
    t0 = time.time()
    for step in range(steps):
        pick = train_ids[torch.randint(0, len(train_ids), (batch,), generator=gen).numpy()]
        x = pixels(frames, pick, device)
        if crop < x.shape[-1]:
            oy, ox = (torch.randint(0, (x.shape[-1] - crop) // 8 + 1, (2,), generator=gen) * 8).tolist()
            x = x[:, :, oy:oy + crop, ox:ox + crop]
        lr = 2e-3 * min(1.0, (step + 1) / 50) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        for g in opt.param_groups:
            g['lr'] = lr
        vq.train()
        rec, idx, commit, logits = vq(x)
        ce, hinge, loss = palette_loss(vq, logits, rec, x, class_w)
        loss = loss + 0.25 * commit
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 and step < steps * 0.8:
            with torch.no_grad():
                z = vq.features(x).permute(0, 2, 3, 1).reshape(-1, vq.codebook.shape[1]).cpu()
            # Dead codes restart on salient positions, where the codebook is short of entries.
            sal = F.avg_pool2d(saliency(x).mean(1, keepdim=True), 8).permute(0, 2, 3, 1).reshape(-1).cpu()
            keep = torch.multinomial(sal, min(len(sal), vq.codebook.shape[0]), replacement=True, generator=gen)
            restarted = vq.restart_dead(z[keep], gen)
            log(f'vq step {step} loss {loss.item():.4f} ce {ce.item():.4f} hinge {hinge.item():.4f} restarted {restarted} codes ({(time.time() - t0) / (step + 1):.2f} s/step)')
    seconds = time.time() - t0
    vq.eval()
    return vq, seconds


def focus_weights(index, n, train_ids, focus):
    """Sampling weight per frame for the decoder fine-tune: FACTOR for a frame that is the outcome of a
    training step starting with PREFIX (the largest that applies), 1 for any other training frame."""
    w = np.zeros(n)
    w[train_ids] = 1.0
    for t in index['transitions']:
        if t['split'] == 'train':
            f = next((f for p, f in focus if t['step'].startswith(p)), 1.0)
            w[t['next']] = max(w[t['next']], f)
    return torch.from_numpy(w)


def train_vq_decoder(vq, frames, codes, train_ids, steps, seed, batch=12, weights=None, peak_lr=1e-3, device='cpu'):
    """Fine-tunes the decoder alone on whole pictures, the codes fixed: the transformer's tokens stay
    valid (it can run after the GPT stage), and whole pictures teach the borders crops never show.
    `weights` (focus_weights) draws some frames more often: the outcomes of steps whose change is a
    few thin strokes (a fork lifted, a jaw on a corner) that the decoder draws as a smear."""
    seed_all(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    vq.to(device)
    for p in vq.parameters():
        p.requires_grad_(False)
    for p in vq.dec.parameters():
        p.requires_grad_(True)
    opt = torch.optim.Adam(vq.dec.parameters(), lr=1e-3)
    class_w = palette_weights(vq, frames, train_ids)
    all_codes = torch.from_numpy(codes.astype(np.int64)).to(device)
    t0 = time.time()
    vq.train()
    for step in range(steps):
        if weights is None:
            pick = train_ids[torch.randint(0, len(train_ids), (batch,), generator=gen).numpy()]
        else:
            pick = torch.multinomial(weights, batch, replacement=True, generator=gen).numpy()
        x = pixels(frames, pick, device)
        lr = peak_lr * min(1.0, (step + 1) / 30) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        for g in opt.param_groups:
            g['lr'] = lr
        logits = vq.dec(vq.codebook[all_codes[torch.from_numpy(pick).to(device)]].permute(0, 3, 1, 2))
        rec = vq.draw(logits)
        ce, hinge, loss = palette_loss(vq, logits, rec, x, class_w)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            log(f'vq decoder step {step}/{steps} loss {loss.item():.4f} ce {ce.item():.4f} hinge {hinge.item():.4f} ({(time.time() - t0) / (step + 1):.2f} s/step)')
    vq.eval()
    for p in vq.parameters():
        p.requires_grad_(True)
    return vq, time.time() - t0


def saliency(x):
    """Per-pixel loss weight: 1 on flat areas, up to 11 within two pixels of a colour edge."""
    with torch.no_grad():
        gx = (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().amax(1, keepdim=True)
        gy = (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().amax(1, keepdim=True)
        g = F.pad(gx, (0, 1, 0, 0)) + F.pad(gy, (0, 0, 0, 1))
        g = F.max_pool2d((g > 0.08).float(), 5, 1, 2)
        return 1 + 10 * g


@torch.no_grad()
def vq_metrics(vq, frames, ids):
    errs, bad, used = [], [], set()
    for i in range(0, len(ids), 64):
        x = pixels(frames, ids[i:i + 64], vq.codebook.device)
        idx = vq.encode(x)
        used.update(idx.unique().tolist())
        rec = vq.decode(idx).clamp(0, 1)
        errs.append((rec - x).abs().mean(dim=(1, 2, 3)))
        bad.append(((rec - x).abs().amax(1) > 80 / 255).float().mean(dim=(1, 2)))
    e, b = torch.cat(errs).cpu(), torch.cat(bad).cpu()
    return {'meanAbsErr': round(e.mean().item(), 4), 'p95AbsErr': round(e.quantile(0.95).item(), 4), 'codesUsed': len(used),
            # share of pixels off by more than 80/255 in a channel (what the sim controller counts)
            'badPixels': round(b.mean().item(), 5), 'p95BadPixels': round(b.quantile(0.95).item(), 5)}


@torch.no_grad()
def encode_all(vq, frames):
    out = []
    for i in range(0, len(frames), 64):
        out.append(vq.encode(pixels(frames, slice(i, i + 64), vq.codebook.device)).cpu())
    return torch.cat(out).numpy().astype(np.int16)


# ---------------------------------------------------------------- sequences

class Layout:
    def __init__(self, word_list):
        self.word_id = {w: WORD_BASE + i for i, w in enumerate(word_list)}

    def text(self, s):
        return [self.word_id.get(w, UNK) for w in words(s)]

    @staticmethod
    def image(codes):
        """Visual ids with end-of-row tokens, and their image positions."""
        ids, ipos = [], []
        for r in range(GRID):
            for c in range(GRID):
                ids.append(VISUAL_BASE + int(codes[r, c]))
                ipos.append(1 + r * (GRID + 1) + c)
            if r < GRID - 1:
                ids.append(EOL)
                ipos.append(1 + r * (GRID + 1) + GRID)
        return ids, ipos

    def prefix(self, robot, task, codes):
        t = [BOS] + self.text(f'{robot} {task}')
        img, ip = self.image(codes)
        ids = t + [IMG_START] + img + [IMG_END]
        return ids, [0] * (len(t) + 1) + ip + [0]

    def plan(self, row, codes):
        ids, ip = self.prefix(row['robot'], row['task'], codes[row['frame']])
        answer = [STEPS]
        for i, s in enumerate(row['steps']):
            answer += ([SEP] if i else []) + self.text(s)
        answer.append(EOS)
        start = len(ids)
        return ids + answer, ip + [0] * len(answer), start

    def next_state(self, row, codes, with_step=True, cond=None):
        """Returns ids, image positions, where the step text starts, where the keyframe's visual span
        starts (after its image start) and ends (before its image end). `cond` replaces the starting
        picture's codes (a corrupted copy, see corrupt_codes)."""
        ids, ip = self.prefix(row['robot'], row['task'], codes[row['frame']] if cond is None else cond)
        step = self.text(row['step']) if with_step else []
        text_start = len(ids)
        ids = ids + [NEXT] + step + [IMG_START]
        ip = ip + [0] * (len(step) + 2)
        img, imp = self.image(codes[row['next']])
        span = (len(ids), len(ids) + len(img))
        return ids + img + [IMG_END], ip + imp + [0], text_start, span


def corrupt_codes(grid, codes, rng, max_cells):
    """A copy of a 16x16 code grid with model-like errors, for noise augmentation of the conditioning
    picture. At plan time every keyframe after the first is drawn from the previous generated keyframe,
    whose errors (stray blobs, smudges) the model only ever saw clean in training, so they compound
    over a 7-step chain (GameNGen fixes the same drift by noising its context frames). The target stays
    the clean true next state, so the model learns to drop errors instead of copying them. Errors come
    as single cells and 2x2 blocks, with the code of another cell of the same picture (a smear), of the
    same cell in a random other frame (a colour from elsewhere, like the blobs the validator refuses),
    or a uniformly random code."""
    out = grid.copy()
    n = rng.randint(1, max_cells)
    k = 0
    while k < n:
        r, c = rng.randrange(GRID), rng.randrange(GRID)
        cells = [(r, c)] if rng.random() < 0.5 else [(r + i, c + j) for i in (0, 1) for j in (0, 1) if r + i < GRID and c + j < GRID]
        kind = rng.random()
        if kind < 0.4:
            code = grid[rng.randrange(GRID), rng.randrange(GRID)]
        elif kind < 0.7:
            code = codes[rng.randrange(len(codes))][r, c]
        else:
            code = rng.randrange(CODES)
        for rc in cells:
            out[rc] = code
        k += len(cells)
    return out


def collate(items):
    """items: (ids, ipos, targets, bidir_span or None, cond_ids) -> batch tensors."""
    T = max(len(i[0]) for i in items)
    B = len(items)
    ids = torch.zeros(B, T, dtype=torch.long)
    ipos = torch.zeros(B, T, dtype=torch.long)
    cond = torch.zeros(B, T, dtype=torch.long)
    tgt = torch.full((B, T), -100, dtype=torch.long)
    mask = torch.tril(torch.ones(T, T)).repeat(B, 1, 1)
    for b, (i, p, t, span, c) in enumerate(items):
        ids[b, :len(i)] = torch.tensor(i)
        ipos[b, :len(p)] = torch.tensor(p)
        tgt[b, :len(t)] = torch.tensor(t)
        cond[b, :len(c)] = torch.tensor(c)
        if span is not None:
            mask[b, span[0]:span[1], span[0]:span[1]] = 1.0
    pos = torch.arange(T).repeat(B, 1)
    return ids, pos, ipos, mask, tgt, cond


def ar_item(ids, ipos, loss_from):
    t = [-100] * len(ids)
    for k in range(max(loss_from, 1), len(ids)):
        t[k - 1] = ids[k]
    return ids, ipos, t, None, cond_ids_for(ids, ipos, 1)


def dida_item(ids, ipos, span, rng, ratio=None):
    """Masked-token item: a share of the keyframe's visual tokens (never end-of-row) become MASK and
    are predicted in place; the span attends to itself both ways."""
    vis = [k for k in range(*span) if ids[k] != EOL]
    if ratio is None:
        ratio = math.cos(rng.random() * math.pi / 2)  # MaskGIT's cosine schedule, sampled
    n = max(1, int(round(ratio * len(vis))))
    masked = rng.sample(vis, n)
    inp = list(ids)
    t = [-100] * len(ids)
    for k in masked:
        t[k] = ids[k]
        inp[k] = MASK
    return inp, ipos, t, span, cond_ids_for(ids, ipos, 0)


# ---------------------------------------------------------------- GPT

def change_weights(row, codes, span, length, changed_weight, shift=0):
    """Per-target loss weights of a next-state item: `changed_weight` where the true next picture's
    code differs from the (clean) starting picture's, else 1. About 80 % of keyframe tokens copy the
    starting picture, so without it the loss is mostly copying and the small changes that carry the
    step (a gripper moving onto a cup) get little gradient. `shift` = 1 for AR items, whose target at
    k - 1 is the token at k."""
    if changed_weight == 1:
        return None
    w = [1.0] * length
    before, after = codes[row['frame']].reshape(-1), codes[row['next']].reshape(-1)
    for j in range(span[1] - span[0]):
        r, c = divmod(j, GRID + 1)
        if c < GRID and before[r * GRID + c] != after[r * GRID + c]:
            w[span[0] + j - shift] = changed_weight
    return w


def grow_blocks(state, old_layers, new_layers):
    """A checkpoint with `old_layers` blocks as one with `new_layers`, computing exactly the same
    function (block expansion, as LLaMA Pro grows a model): each added block is a copy of the block
    before it with its two output projections (attention `proj`, MLP `ff.2`) zeroed, so it adds
    nothing to the residual stream until training moves those weights. Added blocks go after the
    middle blocks, where the old ones are spread evenly: 4 -> 5 gives old 0, 1, new, 2, 3."""
    if new_layers == old_layers:
        return state
    if new_layers < old_layers:
        sys.exit(f'train.py: --gpt-layers {new_layers} is fewer than the {old_layers} blocks of the warm start; a model cannot shrink')
    extra = new_layers - old_layers
    # Old block i is followed by a copy when it is one of the `extra` blocks nearest the middle.
    middle = sorted(range(old_layers), key=lambda i: (abs(i + 0.5 - old_layers / 2), i))[:extra]
    order = []  # for each new block: (old block it comes from, is it an added copy)
    for i in range(old_layers):
        order.append((i, False))
        if i in middle:
            order.append((i, True))
    out = {k: v for k, v in state.items() if not k.startswith('blocks.')}
    for j, (i, added) in enumerate(order):
        for k, v in state.items():
            if not k.startswith(f'blocks.{i}.'):
                continue
            name = f'blocks.{j}.' + k[len(f'blocks.{i}.'):]
            zero = added and (name.endswith('.proj.weight') or name.endswith('.proj.bias') or '.ff.2.' in name)
            out[name] = torch.zeros_like(v) if zero else v.clone()
    log(f'gpt grown from {old_layers} to {new_layers} blocks: ' + ', '.join(f'{i}' + ("'" if a else '') for i, a in order))
    return out


def train_gpt(index, codes, layout, steps, seed, batch=(2, 5, 5), cfg_drop=0.1, init=None, peak_lr=1.5e-3, noise=(0.0, 0), changed_weight=1.0, focus=(), cond=False, layers=None,
              save_every=0, save_dir=None, device='cpu', save_last=False):
    """noise: (share of keyframe items whose starting picture is corrupted, most cells corrupted).
    changed_weight: loss weight of keyframe tokens that differ from the starting picture.
    focus: (step text prefix, factor) pairs: keyframe items whose step starts with the prefix are drawn
    `factor` times as often. A run sees fewer items than there are distinct transitions, so the mix
    decides where the little compute goes.
    cond: give the transformer the conditioning-cell input (worldmodel.GPT, cond_ids_for).
    save_every: also write save_dir/gpt-step<N>.pt every that many steps, so a run cut short (by a
    time limit on the host) still leaves weights to evaluate and export.
    save_last: the snapshots replace one file, save_dir/gpt-last.pt (written beside it, then renamed,
    so a run killed mid-write leaves the one before), with gpt-last.json saying its step: one file to
    copy back however far the run got.
    device: where the steps run ('cpu', 'cuda', 'cuda:1'); batches are built on the CPU from the same
    seeded streams either way, and the model comes back on the CPU for evaluation and export."""
    seed_all(seed)
    rng = random.Random(seed)
    plans = [p for p in index['plans'] if p['split'] == 'train']
    uniq = {}
    for t in index['transitions']:
        if t['split'] == 'train':
            uniq.setdefault((t['robot'], t['task'], t['frame'], t['step'], t['next']), t)
    trans = list(uniq.values())
    log(f'gpt data: {len(plans)} plans, {len(trans)} distinct transitions')
    if focus:
        # Cumulative weights for rng.choices; without focus rng.choice keeps earlier runs' random stream.
        cum, total = [], 0.0
        for t in trans:
            total += next((f for p, f in focus if t['step'].startswith(p)), 1.0)
            cum.append(total)
        log(f'gpt focus {focus}: ' + ', '.join(f'{p!r} {sum(t["step"].startswith(p) for t in trans) / len(trans):.1%} of transitions' for p, _ in focus))
    pick = (lambda: rng.choices(trans, cum_weights=cum)[0]) if focus else (lambda: rng.choice(trans))
    old = torch.load(init, map_location='cpu') if init else None
    old_layers = GPT.layers_in(old) if old is not None else None
    model = GPT(cond=cond, layers=layers or old_layers or 4)
    if old is not None:
        # Warm start from an earlier run: every weight whose shape matches, and the text/special rows
        # of the token embedding (visual rows belong to the old codebook and stay random).
        old = grow_blocks(old, old_layers, model.layers)
        own = model.state_dict()
        for k, v in old.items():
            if k in own and own[k].shape == v.shape:
                own[k] = v
            elif k == 'tok.weight':
                own[k][:VISUAL_BASE] = v[:VISUAL_BASE]
        if model.cond is not None and 'cond.weight' not in old:
            # A model trained without the conditioning input: it starts at zero, so the warm start
            # computes what the checkpoint did and learns to use the input from there.
            own['cond.weight'].zero_()
        model.load_state_dict(own)
        log(f'gpt warm start from {init}')
    log(f'gpt params: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M on {device}')
    model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.01)
    def cond(row):
        """A corrupted copy of the row's starting picture for `noise[0]` of keyframe items, else None."""
        return corrupt_codes(codes[row['frame']], codes, rng, noise[1]) if rng.random() < noise[0] else None

    t0 = time.time()
    for step in range(steps):
        items, kinds, weights = [], [], []
        for _ in range(batch[0]):
            ids, ip, start = layout.plan(rng.choice(plans), codes)
            items.append(ar_item(ids, ip, start + 1))
            kinds.append('text')
            weights.append(None)
        for _ in range(batch[1]):
            row = pick()
            ids, ip, ts, span = layout.next_state(row, codes, cond=cond(row))
            items.append(ar_item(ids, ip, ts + 1))
            kinds.append('ar')
            weights.append(change_weights(row, codes, span, len(ids), changed_weight, shift=1))
        for _ in range(batch[2]):
            row = pick()
            ids, ip, ts, span = layout.next_state(row, codes, with_step=rng.random() >= cfg_drop, cond=cond(row))
            items.append(dida_item(ids, ip, span, rng))
            kinds.append('dida')
            weights.append(change_weights(row, codes, span, len(ids), changed_weight))
        ids, pos, ipos, mask, tgt, cids = collate(items)
        w = torch.ones(tgt.shape)
        for b, row_w in enumerate(weights):
            if row_w is not None:
                w[b, :len(row_w)] = torch.tensor(row_w)
        ids, pos, ipos, mask, tgt, cids, w = (t.to(device) for t in (ids, pos, ipos, mask, tgt, cids, w))
        lr = peak_lr * min(1.0, (step + 1) / 60) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        for g in opt.param_groups:
            g['lr'] = lr
        model.train()
        logits, _ = model(ids, pos, ipos, mask, model.empty_past(len(items)), cids)
        losses = {}
        for kind in ('text', 'ar', 'dida'):
            rows = [b for b, k in enumerate(kinds) if k == kind]
            t = tgt[rows].reshape(-1)
            ce = F.cross_entropy(logits[rows].reshape(-1, logits.shape[-1]), t, ignore_index=-100, reduction='none')
            wk = w[rows].reshape(-1) * (t != -100)
            losses[kind] = (ce * wk).sum() / wk.sum()
        loss = losses['text'] + losses['ar'] + losses['dida']
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 50 == 0 or step == steps - 1:
            el = time.time() - t0
            log(f'gpt step {step}/{steps} text {losses["text"].item():.3f} ar {losses["ar"].item():.3f} '
                f'dida {losses["dida"].item():.3f} ({el / (step + 1):.2f} s/step)')
        if save_every and save_dir and (step + 1) % save_every == 0 and step != steps - 1:
            state = cpu_state(model)
            if save_last:
                torch.save(state, os.path.join(save_dir, 'gpt-last.pt.tmp'))
                os.replace(os.path.join(save_dir, 'gpt-last.pt.tmp'), os.path.join(save_dir, 'gpt-last.pt'))
                json.dump({'step': step + 1, 'steps': steps, 'seconds': round(time.time() - t0)}, open(os.path.join(save_dir, 'gpt-last.json'), 'w'))
            else:
                torch.save(state, os.path.join(save_dir, f'gpt-step{step + 1}.pt'))
    model.cpu()
    model.eval()
    return model, time.time() - t0


def parse_focus(text):
    """'pick up=2;fold the=1.5' -> [('pick up', 2.0), ('fold the', 1.5)]."""
    out = []
    for part in filter(None, (p.strip() for p in text.split(';'))):
        prefix, _, factor = part.rpartition('=')
        if not prefix or not factor.replace('.', '', 1).isdigit() or float(factor) <= 0:
            raise SystemExit(f'focus: "{part}" is not PREFIX=FACTOR with a positive FACTOR (e.g. "pick up=2")')
        out.append((prefix, float(factor)))
    return out


# ---------------------------------------------------------------- evaluation

@torch.no_grad()
def dida_decode(model, ids, ip, span, passes):
    """Greedy DiDA over the keyframe span: all visual tokens start as MASK; each pass keeps the most
    confident predictions, so that after pass k a (1 - cos(pi/2 * k/passes)) share is filled."""
    ids = list(ids)
    vis = [k for k in range(*span) if ids[k] != EOL]
    for k in vis:
        ids[k] = MASK
    T = len(ids)
    mask = torch.tril(torch.ones(T, T))
    mask[span[0]:span[1], span[0]:span[1]] = 1
    cond = torch.tensor([cond_ids_for(ids, ip, 0)])
    for p in range(passes):
        still = [k for k in vis if ids[k] == MASK]
        if not still:
            break
        x = torch.tensor([ids])
        logits, _ = model(x, torch.arange(T)[None], torch.tensor([ip]), mask[None], model.empty_past(1), cond)
        probs = logits[0, still][:, VISUAL_BASE:].softmax(-1)
        conf, tok = probs.max(-1)
        target_filled = len(vis) if p == passes - 1 else int(round(len(vis) * (1 - math.cos(math.pi / 2 * (p + 1) / passes))))
        n = max(1, target_filled - (len(vis) - len(still)))
        order = conf.argsort(descending=True)[:n]
        for o in order.tolist():
            ids[still[o]] = VISUAL_BASE + int(tok[o])
    return [ids[k] - VISUAL_BASE for k in vis]


@torch.no_grad()
def ar_decode(model, ids, ip, span):
    """Greedy AR with a KV cache; end-of-row tokens are forced where the layout puts them."""
    prefix = ids[:span[0]]
    T = len(prefix)
    cond = cond_ids_for(ids, ip, 1)  # from the whole sequence: its keyframe cells say which cell comes next
    logits, past = model(torch.tensor([prefix]), torch.arange(T)[None], torch.tensor([ip[:T]]), torch.tril(torch.ones(T, T))[None], model.empty_past(1),
                         torch.tensor([cond[:T]]))
    out = []
    pos = T
    last = logits[0, -1]
    for k in range(span[0], span[1]):
        tok = EOL if ids[k] == EOL else VISUAL_BASE + int(last[VISUAL_BASE:].argmax())
        if tok != EOL:
            out.append(tok - VISUAL_BASE)
        logits, past = model(torch.tensor([[tok]]), torch.tensor([[pos]]), torch.tensor([[ip[k]]]), torch.ones(1, 1, pos + 1), past, torch.tensor([[cond[k]]]))
        last = logits[0, -1]
        pos += 1
    return out


@torch.no_grad()
def evaluate(model, index, codes, layout, n_trans=60, n_plans=60, seed=1):
    rng = random.Random(seed)
    trans = [t for t in index['transitions'] if t['split'] == 'heldout']
    trans = rng.sample(trans, min(n_trans, len(trans)))
    res = {'ar': [], 'dida4': [], 'dida8': [], 'copy': [], 'arChanged': [], 'dida8Changed': []}
    for t in trans:
        ids, ip, ts, span = layout.next_state(t, codes)
        truth = np.array([i - VISUAL_BASE for i in ids[span[0]:span[1]] if i != EOL])
        cond = codes[t['frame']].reshape(-1)
        changed = truth != cond
        ar = np.array(ar_decode(model, ids, ip, span))
        d4 = np.array(dida_decode(model, ids, ip, span, 4))
        d8 = np.array(dida_decode(model, ids, ip, span, 8))
        res['ar'].append((ar == truth).mean())
        res['dida4'].append((d4 == truth).mean())
        res['dida8'].append((d8 == truth).mean())
        res['copy'].append((cond == truth).mean())
        if changed.any():
            res['arChanged'].append((ar == truth)[changed].mean())
            res['dida8Changed'].append((d8 == truth)[changed].mean())
    out = {f'keyframeTokenAccuracy_{k}': round(float(np.mean(v)), 4) for k, v in res.items()}
    # Step texts: greedy, exact match of the whole remaining plan and of the first step.
    plans = rng.sample([p for p in index['plans'] if p['split'] == 'heldout'], n_plans)
    exact = first = 0
    for p in plans:
        ids, ip, start = layout.plan(p, codes)
        gen = greedy_text(model, ids[:start + 1], ip[:start + 1])
        truth = ids[start + 1:]
        exact += gen == truth
        cut = truth.index(SEP) if SEP in truth else len(truth) - 1
        first += gen[:cut] == truth[:cut]
    out['planExactMatch'] = round(exact / n_plans, 4)
    out['firstStepExactMatch'] = round(first / n_plans, 4)
    out['heldoutTransitions'] = len(trans)
    out['heldoutPlans'] = n_plans
    return out


@torch.no_grad()
def greedy_text(model, ids, ip, limit=160):
    T = len(ids)
    logits, past = model(torch.tensor([ids]), torch.arange(T)[None], torch.tensor([ip]), torch.tril(torch.ones(T, T))[None], model.empty_past(1))
    out = []
    pos = T
    for _ in range(limit):
        tok = int(logits[0, -1, :VISUAL_BASE].argmax())
        out.append(tok)
        if tok == EOS:
            break
        logits, past = model(torch.tensor([[tok]]), torch.tensor([[pos]]), torch.tensor([[0]]), torch.ones(1, 1, pos + 1), past)
        pos += 1
    return out


# ---------------------------------------------------------------- ONNX

def export_vq(vq, out):
    vq.eval()
    torch.onnx.export(VQEncoder(vq), (torch.zeros(1, IMAGE_SIZE, IMAGE_SIZE, 3, dtype=torch.uint8),), os.path.join(out, 'vq_encoder.onnx'),
                      input_names=['pixels'], output_names=['codes'], opset_version=14,
                      dynamic_axes={'pixels': {0: 'batch'}, 'codes': {0: 'batch'}})
    torch.onnx.export(VQDecoder(vq), (torch.zeros(1, GRID, GRID, dtype=torch.long),), os.path.join(out, 'vq_decoder.onnx'),
                      input_names=['codes'], output_names=['pixels'], opset_version=14,
                      dynamic_axes={'codes': {0: 'batch'}, 'pixels': {0: 'batch'}})


class ExportedGPT(torch.nn.Module):
    """The transformer as exported: logits and cache, plus each position's most likely visual token and
    its softmax probability among the visual tokens. DiDA's greedy passes fetch only those two: the
    pick over 1,024 codes for every token of the span costs ~4.5 ms per pass in JavaScript (Math.exp
    per code) and well under one in the graph, and the [T, V] logits need not leave the session."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, position_ids, image_pos_ids, attention_mask, past, cond_ids=None):
        logits, present = self.model(input_ids, position_ids, image_pos_ids, attention_mask, past, cond_ids)
        confidence, best = logits[..., VISUAL_BASE:].softmax(-1).max(-1)
        return logits, present, best, confidence


def export_onnx(vq, model, out):
    export_vq(vq, out)
    export_transformer(model, out)


def export_transformer(model, out):
    model.eval()
    B, T, P = 1, 3, 2
    args = (torch.zeros(B, T, dtype=torch.long), torch.arange(T)[None] + P, torch.zeros(B, T, dtype=torch.long),
            torch.ones(B, T, P + T), torch.zeros(model.layers, 2, B, model.heads, P, model.d // model.heads))
    names = ['input_ids', 'position_ids', 'image_pos_ids', 'attention_mask', 'past']
    axes = {'input_ids': {0: 'batch', 1: 'seq'}, 'position_ids': {0: 'batch', 1: 'seq'}, 'image_pos_ids': {0: 'batch', 1: 'seq'},
            'attention_mask': {0: 'batch', 1: 'seq', 2: 'total'}, 'past': {2: 'batch', 4: 'past_seq'},
            'logits': {0: 'batch', 1: 'seq'}, 'present': {2: 'batch', 4: 'total'},
            'visual_best': {0: 'batch', 1: 'seq'}, 'visual_confidence': {0: 'batch', 1: 'seq'}}
    if model.cond is not None:
        args += (torch.zeros(B, T, dtype=torch.long),)
        names.append('cond_ids')
        axes['cond_ids'] = {0: 'batch', 1: 'seq'}
    torch.onnx.export(ExportedGPT(model), args, os.path.join(out, 'transformer.onnx'),
                      input_names=names, output_names=['logits', 'present', 'visual_best', 'visual_confidence'],
                      opset_version=14, dynamic_axes=axes)


def transformer_spec(model):
    """spec.json `transformer`: the cache shape and whether the graph takes cond_ids (src/model/spec.ts)."""
    return {'layers': model.layers, 'heads': model.heads, 'headDim': model.d // model.heads, 'd': model.d,
            'condInput': model.cond is not None}


# Step counts that fit the whole recipe, data export included, in 60 minutes on 2 CPU cores
# (measured s/step: VQ 0.85, VQ decoder 1.27, transformer 2.2 at batch 4,5,5; encoding every frame,
# the held-out eval and the export take ~10 minutes together). Explicit flags override a preset.
PRESETS = {
    # Measured alternative: VQ 1000 / decoder 300 / transformer 700 (56 min) gives a better tokenizer
    # (the controller acts on 88 % of its reconstructions, not 58 %) but a weaker transformer (DiDA
    # keyframes acted on 8 %, not 25 %); neither folds a T-shirt. The transformer is the gap, so the
    # preset keeps 850 transformer steps.
    'hour': {'vq_steps': 700, 'vqdec_steps': 200, 'gpt_steps': 850, 'gpt_batch': '4,5,5', 'gpt_lr': 1.5e-3,
             'gpt_noise': '0.5,24', 'gpt_changed_weight': 3.0, 'gpt_cond': True},
}


def main():
    started = time.time()
    if not keep_freed_memory():
        log('malloc is not glibc\'s: freed memory goes back to the kernel (training steps may be slower, see keep_freed_memory)')
    ap = argparse.ArgumentParser()
    ap.add_argument('--preset', choices=sorted(PRESETS), default=None,
                    help='hour: the one-pass recipe from nothing that fits 60 minutes on 2 CPU cores (stage all)')
    ap.add_argument('--data', default='models/.cache/data')
    ap.add_argument('--out', default='models/vq')
    ap.add_argument('--vq-steps', type=int, default=1500)
    ap.add_argument('--gpt-steps', type=int, default=800)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--vq-crop', type=int, default=64)
    ap.add_argument('--vq-batch', type=int, default=32)
    ap.add_argument('--vqdec-steps', type=int, default=1000, help='decoder-only fine-tuning steps (stage vqdec)')
    ap.add_argument('--vqdec-lr', type=float, default=1e-3, help='peak learning rate of the decoder fine-tune')
    ap.add_argument('--vqdec-focus', default='', help='draw the outcomes of steps starting with PREFIX FACTOR times as often: "PREFIX=FACTOR;..." (e.g. "pick up the fork=8")')
    ap.add_argument('--gpt-batch', default='2,5,5', help='plan, AR keyframe and DiDA keyframe sequences per step')
    ap.add_argument('--gpt-lr', type=float, default=1.5e-3)
    ap.add_argument('--gpt-noise', default='0,0', help='share of keyframe items with a corrupted starting picture, most cells corrupted (e.g. 0.5,24)')
    ap.add_argument('--gpt-changed-weight', type=float, default=1.0, help='loss weight of keyframe tokens that change (e.g. 3)')
    ap.add_argument('--gpt-focus', default='', help='draw keyframe items whose step starts with PREFIX FACTOR times as often: "PREFIX=FACTOR;..." (e.g. "pick up=2")')
    ap.add_argument('--gpt-cond', action=argparse.BooleanOptionalAction, default=False,
                    help='give the transformer the conditioning-cell input (cond_ids): the starting picture\'s token at the cell each position predicts')
    ap.add_argument('--gpt-layers', type=int, default=None, help='transformer blocks (default: the warm start\'s, else 4); more than the warm start grows it (grow_blocks)')
    ap.add_argument('--gpt-init', default=None, help='warm-start checkpoint (gpt.pt of an earlier run)')
    ap.add_argument('--gpt-save-every', type=int, default=0, help='also save CACHE/gpt-step<N>.pt every N transformer steps (0: only at the end)')
    ap.add_argument('--gpt-save-last', action='store_true', help='with --gpt-save-every: one snapshot file, CACHE/gpt-last.pt (+ gpt-last.json with its step), replaced each time')
    ap.add_argument('--device', default='cpu', help="where the vq, vqdec and gpt stages train and the frames are encoded: cpu, cuda, cuda:N (evaluation and export stay on the CPU)")
    ap.add_argument('--codes', default=None, help='codes.npy of an earlier run (its CACHE/codes.npy, made by the same vq.pt) instead of frames.bin: gpt, eval and onnx stages only')
    ap.add_argument('--train-only', action='store_true', help='stop after the training stages, checkpoints in CACHE (no held-out eval, no ONNX): for a CUDA host whose newer torch exports another way; evaluate and export with torch 1.13 and --stage eval')
    ap.add_argument('--threads', type=int, default=2, help='torch CPU threads (2 = the target machine; 1 each lets two runs share it)')
    ap.add_argument('--eval-n', type=int, default=60)
    ap.add_argument('--cache', default=None, help='where checkpoints go (default OUT/.cache)')
    ap.add_argument('--stage', default='all', help='all | vq | gpt (reuse the cached VQ) | vqdec (fine-tune the cached VQ decoder, codes fixed) | eval (reuse both) | onnx (re-export only)')
    preset = ap.parse_known_args()[0].preset
    if preset:
        ap.set_defaults(**PRESETS[preset])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if preset and args.stage != 'all':
        ap.error(f'--preset {preset} is a whole recipe: it runs --stage all')
    cache = args.cache or os.path.join(args.out, '.cache')
    os.makedirs(cache, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    if args.codes and args.stage not in ('gpt', 'eval', 'onnx'):
        ap.error(f'--codes stands in for the frames only in the gpt, eval and onnx stages; --stage {args.stage} trains the VQ on frames.bin')
    if args.device != 'cpu' and args.stage not in ('vq', 'vqdec', 'gpt', 'all'):
        ap.error(f'--device {args.device} moves training; --stage {args.stage} has none (evaluation and export run on the CPU)')
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        ap.error(f'--device {args.device}: this torch sees no CUDA device (torch {torch.__version__}); train on cpu or on a CUDA host')
    if args.device.startswith('cuda'):
        # The random choices are the CPU run's (seeded generators on the CPU); this also asks CUDA for
        # its deterministic kernels where there are some (a warning where there are none), so a GPU
        # run repeats itself. cuBLAS needs the workspace setting before its first call.
        os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG', ':4096:8')
        torch.use_deterministic_algorithms(True, warn_only=True)
    index, frames = load(args.data, with_frames=not args.codes)
    codes = load_codes(args.codes, index) if args.codes else None
    n_frames = len(codes) if frames is None else len(frames)
    train_ids, heldout_ids = frame_split(index, n_frames)
    metrics_path = os.path.join(args.out, 'metrics.json')
    metrics = json.load(open(metrics_path)) if os.path.exists(metrics_path) and args.stage != 'all' else {}
    metrics['data'] = {'frames': int(n_frames), 'trainFrames': int(len(train_ids)), 'heldoutFrames': int(len(heldout_ids)),
                       'plans': len(index['plans']), 'transitions': len(index['transitions']), 'missRate': index['missRate']}
    torch.manual_seed(args.seed)
    if args.stage in ('all', 'vq'):
        vq, secs = train_vq(frames, train_ids, heldout_ids, args.vq_steps, args.seed, args.vq_crop, args.vq_batch, device=args.device)
        torch.save(cpu_state(vq), os.path.join(cache, 'vq.pt'))
        metrics['vq'] = {'steps': args.vq_steps, 'crop': args.vq_crop, 'batch': args.vq_batch, 'trainSeconds': round(secs), 'params': sum(p.numel() for p in vq.parameters()),
                         'heldout': vq_metrics(vq, frames, heldout_ids), 'train': vq_metrics(vq, frames, train_ids[:2000])}
        log('vq', metrics['vq'])
        json.dump(metrics, open(os.path.join(cache, 'vq-metrics.json'), 'w'), indent=1)
        if args.stage == 'vq':
            if not args.train_only:
                export_vq(vq.cpu(), args.out)  # so the tokenizer can be judged (bench/model-ceiling.ts) before the GPT trains
            return
    else:
        if os.path.exists(os.path.join(cache, 'vq-metrics.json')):
            metrics['vq'] = json.load(open(os.path.join(cache, 'vq-metrics.json')))['vq']
        vq = VQ()
        vq.load_state_dict(torch.load(os.path.join(cache, 'vq.pt')))
        vq.eval()
    if codes is None:
        codes = encode_all(vq.to(args.device), frames)
        np.save(os.path.join(cache, 'codes.npy'), codes)  # what --codes reads (the VQ stays in vq.pt beside it)
    if args.stage in ('all', 'vqdec'):
        before = vq_metrics(vq, frames, heldout_ids)
        focus = parse_focus(args.vqdec_focus)
        weights = focus_weights(index, len(frames), train_ids, focus) if focus else None
        vq, secs = train_vq_decoder(vq, frames, codes, train_ids, args.vqdec_steps, args.seed, weights=weights, peak_lr=args.vqdec_lr, device=args.device)
        torch.save(cpu_state(vq), os.path.join(cache, 'vq.pt'))
        assert (encode_all(vq, frames[:256]) == codes[:256]).all(), 'decoder fine-tuning changed the codes'
        vq_metrics_all = metrics.setdefault('vq', {})
        if 'decoderFineTune' in vq_metrics_all:  # a decoder tuned again keeps the record of the runs before
            vq_metrics_all.setdefault('earlierDecoderFineTunes', []).append(vq_metrics_all.pop('decoderFineTune'))
        vq_metrics_all['decoderFineTune'] = {'steps': args.vqdec_steps, 'lr': args.vqdec_lr, 'focus': args.vqdec_focus, 'trainSeconds': round(secs), 'heldoutBefore': before,
                                            'heldout': vq_metrics(vq, frames, heldout_ids)}
        log('vq decoder', metrics['vq']['decoderFineTune'])
        json.dump({'vq': metrics['vq']}, open(os.path.join(cache, 'vq-metrics.json'), 'w'), indent=1)
        if args.stage == 'vqdec':
            if not args.train_only:
                export_vq(vq.cpu(), args.out)
            return
    vq.cpu()  # the evaluation and the exports run on the CPU
    layout = Layout(index['words'])
    if args.stage in ('all', 'gpt'):
        model, secs = train_gpt(index, codes, layout, args.gpt_steps, args.seed, init=args.gpt_init,
                                batch=tuple(int(b) for b in args.gpt_batch.split(',')), peak_lr=args.gpt_lr,
                                noise=(float(args.gpt_noise.split(',')[0]), int(args.gpt_noise.split(',')[1])), changed_weight=args.gpt_changed_weight,
                                focus=parse_focus(args.gpt_focus), cond=args.gpt_cond, layers=args.gpt_layers,
                                save_every=args.gpt_save_every, save_dir=cache, device=args.device, save_last=args.gpt_save_last)
        torch.save(model.state_dict(), os.path.join(cache, 'gpt.pt'))
        metrics['gpt'] = {'steps': args.gpt_steps, 'batch': args.gpt_batch, 'noise': args.gpt_noise, 'changedWeight': args.gpt_changed_weight, 'focus': args.gpt_focus, 'cond': model.cond is not None, 'lr': args.gpt_lr, 'init': args.gpt_init, 'trainSeconds': round(secs), 'params': sum(p.numel() for p in model.parameters()),
                          'd': model.d, 'layers': model.layers, 'heads': model.heads}
        if args.train_only:
            if args.stage == 'all':
                metrics['recipe'] = {'preset': preset, 'wallSeconds': round(time.time() - started), 'seed': args.seed, 'device': args.device, 'trainOnly': True}
            json.dump(metrics, open(metrics_path, 'w'), indent=1)
            log('trained; evaluate and export with --stage eval', json.dumps(metrics))
            return
    else:
        state = torch.load(os.path.join(cache, 'gpt.pt'))
        model = GPT(cond='cond.weight' in state, layers=GPT.layers_in(state))
        model.load_state_dict(state)
        model.eval()
    t0 = time.time()
    if args.stage != 'onnx':
        metrics['eval'] = evaluate(model, index, codes, layout, n_trans=args.eval_n, n_plans=args.eval_n)
        log('eval', metrics['eval'], f'{time.time() - t0:.0f}s')
    export_onnx(vq, model, args.out)
    spec = spec_json(index['words'])
    spec['transformer'] = transformer_spec(model)
    json.dump(spec, open(os.path.join(args.out, 'spec.json'), 'w'), indent=1)
    if args.stage == 'all':
        # Wall clock of this whole run, data loading to export (the dataset export is not included).
        metrics['recipe'] = {'preset': preset, 'wallSeconds': round(time.time() - started), 'seed': args.seed}
    json.dump(metrics, open(metrics_path, 'w'), indent=1)
    log('done', json.dumps(metrics))


if __name__ == '__main__':
    main()
