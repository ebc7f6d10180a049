"""The palette world model's recipe: from nothing to the ONNX graphs, spec.json and metrics.json, in
one command (models/PALETTE.md):

  /usr/bin/python3 models/recipe.py --out models

Stages, each resumable from its own files under --cache (default OUT/.cache/palette):
  export  npx tsx scripts/export-dataset.ts into CACHE/data (skipped when its stamp is there)
  encode  frames.bin -> CACHE/cells.npy, uint8 [N, 256, 64] palette indices (models/palette.py)
  train   the transformer (models/palette_model.py); CACHE/ckpt.pt every --save-every steps, with the
          optimiser and the batch sampler's random state, so a stopped run continues where it was
          and ends with the same weights as one that never stopped
  eval    held-out transitions (scene seeds >= 100000): exact-cell and changed-cell accuracy, AR and
          DiDA; held-out plans: exact match of the step texts
  onnx    OUT/palette_transformer.onnx, OUT/palette_pixels.onnx, OUT/palette_keyframe.onnx,
          OUT/spec.json, OUT/metrics.json; with --int8 the graphs' weight products in int8
          (models/quantize.py)

Deterministic from --seed (2 torch threads; a run with other --threads, or with the default
--precision bf16 on another kind of CPU, gives other float rounding). bf16 is fast where the CPU has
AMX or AVX512-BF16; elsewhere use --precision fp32 (models/PALETTE.md, Training).
Prints progress with the wall time since the start; the wall time of a whole run is in metrics.json.
"""
import os
# Threads waiting at a barrier sleep instead of spinning: on a machine shared with other work, a
# spinning thread burns the core its partner needs (set before torch loads its OpenMP runtime).
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
import argparse  # noqa: E402
import ctypes  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import palette  # noqa: E402
from quantize import quantize_graph, require_onnx  # noqa: E402
from palette_model import (BOS, CELL_TOKEN, CELLS, COLOURS, EOS, GRID, IMG_END, IMG_START, MASK_VALUE, NEXT, NONE_VALUE,  # noqa: E402
                           KEYFRAME_GRAPH, PAD, PIX, PIXEL_GRAPH, SEP, STEPS, TRUNK_GRAPH, UNK, WORD_BASE, ExportedPaletteKeyframe, ExportedPalettePixels,
                           ExportedPaletteTrunk, PaletteGPT, spec_json, words)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
T0 = time.time()


def log(*a):
    el = time.time() - T0
    print(f'[{time.strftime("%H:%M:%S")} +{int(el) // 60}:{int(el) % 60:02d}]', *a, flush=True)


def keep_freed_memory():
    """glibc's malloc keeps freed memory instead of unmapping blocks over 32 MB on every free (a page
    fault is dear on these VMs: steps 3x slower without this; see train.py). No-op elsewhere."""
    try:
        libc = ctypes.CDLL('libc.so.6')
        return libc.mallopt(-4, 0) == 1 and libc.mallopt(-1, 2 ** 31 - 1) == 1
    except (OSError, AttributeError):
        return False


def save_atomic(obj, path):
    torch.save(obj, path + '.tmp')
    os.replace(path + '.tmp', path)


def json_atomic(obj, path):
    with open(path + '.tmp', 'w') as f:
        json.dump(obj, f, indent=1)
    os.replace(path + '.tmp', path)


# ---------------------------------------------------------------- export and encode

def export_args(a):
    return {'seed': a.data_seed, 'trainSeeds': a.train_seeds, 'heldoutSeeds': a.heldout_seeds, 'missRate': a.miss_rate,
            'extraSeeds': a.extra_seeds, 'extraMissRate': a.extra_miss_rate, **({'tippedStarts': a.tipped_starts} if a.tipped_starts else {}),
            **({'slippedFolds': a.slipped_folds} if a.slipped_folds else {})}


def export_data(a, data):
    want = export_args(a)
    stamp = os.path.join(data, 'export-done.json')
    if os.path.exists(stamp) and json.load(open(stamp)) == want:
        log(f'export: {data} is there')
        return
    cmd = ['npx', 'tsx', 'scripts/export-dataset.ts', '--out', os.path.abspath(data), '--seed', str(a.data_seed),
           '--train-seeds', str(a.train_seeds), '--heldout-seeds', str(a.heldout_seeds), '--miss-rate', str(a.miss_rate),
           '--extra-train-seeds', str(a.extra_seeds), '--extra-miss-rate', str(a.extra_miss_rate)]
    if a.tipped_starts:
        cmd += ['--tipped-starts', str(a.tipped_starts)]
    if a.slipped_folds:
        cmd += ['--slipped-folds', str(a.slipped_folds)]
    log('export:', ' '.join(cmd))
    t = time.time()
    subprocess.run(cmd, cwd=ROOT, check=True)
    json_atomic(want, stamp)
    log(f'export: done in {time.time() - t:.0f} s')


def data_hash(data):
    h = hashlib.sha256()
    for name in ('index.json', 'frames.bin'):
        with open(os.path.join(data, name), 'rb') as f:
            for block in iter(lambda: f.read(1 << 22), b''):
                h.update(block)
    return h.hexdigest()


def encode_cells(data, cache):
    path = os.path.join(cache, 'cells.npy')
    meta_path = os.path.join(cache, 'cells.json')
    if os.path.exists(path) and os.path.exists(meta_path):
        meta = json.load(open(meta_path))
        log(f'encode: {path} is there ({meta["frames"]} frames)')
        return np.load(path), meta['dataHash']
    index = json.load(open(os.path.join(data, 'index.json')))
    h, w, c = index['frameShape']
    frames = np.fromfile(os.path.join(data, 'frames.bin'), dtype=np.uint8).reshape(-1, h, w, c)
    out = np.empty((len(frames), CELLS, PIX), np.uint8)
    for i in range(0, len(frames), 512):
        out[i:i + 512] = palette.to_cells(palette.encode(frames[i:i + 512]))
    # Lossless on these pictures? Count pixels whose colour is not exactly a palette colour.
    sample = frames[::50]
    off = int((palette.decode(palette.encode(sample)) != sample).any(-1).sum())
    digest = data_hash(data)
    np.save(path + '.tmp.npy', out)
    os.replace(path + '.tmp.npy', path)
    json_atomic({'frames': len(frames), 'dataHash': digest, 'offPalettePixelsInSample': off, 'sampleFrames': len(sample)}, meta_path)
    log(f'encode: {len(frames)} frames -> {path}; {off} of {sample.shape[0] * h * w} sampled pixels are not exactly a palette colour')
    return out, digest


# ---------------------------------------------------------------- sequences

class Layout:
    def __init__(self, word_list):
        self.word_id = {w: WORD_BASE + i for i, w in enumerate(word_list)}

    def text(self, s):
        return [self.word_id.get(w, UNK) for w in words(s)]

    def plan(self, row, cells):
        """ids, image positions, cell inputs (list of arrays or None), text target start."""
        t = [BOS] + self.text(f'{row["robot"]} {row["task"]}') + [IMG_START]
        n = len(t)
        ids = t + [CELL_TOKEN] * CELLS + [IMG_END, STEPS]
        for i, s in enumerate(row['steps']):
            ids += ([SEP] if i else []) + self.text(s)
        ids.append(EOS)
        ipos = [0] * n + list(range(1, CELLS + 1)) + [0] * (len(ids) - n - CELLS)
        return ids, ipos, (n, cells[row['frame']]), n + CELLS + 1

    def keyframe_prefix(self, row):
        return [BOS] + self.text(f'{row["robot"]} {row["task"]}') + [NEXT] + self.text(row['step']) + [IMG_START]


def item_plan(layout, row, cells):
    ids, ipos, (at, pic), start = layout.plan(row, cells)
    T = len(ids)
    inp = np.full((T, PIX), NONE_VALUE, np.uint8)
    inp[at:at + CELLS] = pic
    text_tgt = np.full(T, -100, np.int64)
    text_tgt[start:T - 1] = ids[start + 1:]
    return dict(ids=ids, ipos=ipos, cells=inp, cond=np.full((T, PIX), NONE_VALUE, np.uint8), text_tgt=text_tgt, span=None, cell_rows=None)


def item_keyframe(layout, row, start_cells, next_cells, mode, rng, cw):
    """mode 'ar': position k predicts the next cell (IMG_START -> cell 0); 'dida': masked cells predict
    themselves, the span bidirectional. `start_cells` is the conditioning picture (maybe corrupted).
    cell_rows: (positions, target cells, cond cells, keep targets, weights)."""
    prefix = layout.keyframe_prefix(row)
    n = len(prefix)
    ids = prefix + [CELL_TOKEN] * CELLS
    T = len(ids)
    ipos = [0] * n + list(range(1, CELLS + 1))
    inp = np.full((T, PIX), NONE_VALUE, np.uint8)
    cond = np.full((T, PIX), NONE_VALUE, np.uint8)
    if mode == 'ar':
        inp[n:] = next_cells
        positions = np.arange(n - 1, n - 1 + CELLS)        # IMG_START .. cell 254 predict cells 0..255
        targets = np.arange(CELLS)
        span = None
    else:
        ratio = math.cos(rng.random() * math.pi / 2)
        k = max(1, int(round(ratio * CELLS)))
        masked = np.array(sorted(rng.sample(range(CELLS), k)))
        inp[n:] = next_cells
        inp[n + masked] = MASK_VALUE
        positions = n + masked
        targets = masked
        span = (n, T)
    if mode == 'ar':
        cond[positions] = start_cells[targets]
    else:
        cond[n:] = start_cells                          # every cell of the span, as a sampler gives it
    tgt = next_cells[targets]
    keep = (tgt == start_cells[targets]).all(1)
    return dict(ids=ids, ipos=ipos, cells=inp, cond=cond, text_tgt=None, span=span,
                cell_rows=(positions, tgt, start_cells[targets], keep))


def corrupt(start, nxt, all_cells, rng, max_cells):
    """A copy of the starting picture with model-like errors (a sampler's own keyframe is the next
    step's start): cells from elsewhere in the picture, half-drawn changes (the outcome's cell at a
    neighbouring place) or the same cell of another frame."""
    out = start.copy()
    for _ in range(rng.randint(1, max_cells)):
        r, c = rng.randrange(GRID), rng.randrange(GRID)
        kind = rng.random()
        if kind < 0.4:
            out[r * GRID + c] = start[rng.randrange(CELLS)]
        elif kind < 0.8:
            rr = min(GRID - 1, max(0, r + rng.randint(-1, 1)))
            cc = min(GRID - 1, max(0, c + rng.randint(-1, 1)))
            out[r * GRID + c] = nxt[rr * GRID + cc]
        else:
            out[r * GRID + c] = all_cells[rng.randrange(len(all_cells))][r * GRID + c]
    return out


def collate(items):
    B = len(items)
    T = max(len(i['ids']) for i in items)
    ids = torch.full((B, T), PAD, dtype=torch.long)
    ipos = torch.zeros(B, T, dtype=torch.long)
    cells = torch.full((B, T, PIX), NONE_VALUE, dtype=torch.uint8)
    cond = torch.full((B, T, PIX), NONE_VALUE, dtype=torch.uint8)
    mask = torch.tril(torch.ones(T, T)).repeat(B, 1, 1)
    for b, it in enumerate(items):
        L = len(it['ids'])
        ids[b, :L] = torch.tensor(it['ids'])
        ipos[b, :L] = torch.tensor(it['ipos'])
        cells[b, :L] = torch.from_numpy(it['cells'])
        cond[b, :L] = torch.from_numpy(it['cond'])
        if it['span'] is not None:
            s, e = it['span']
            mask[b, s:e, s:e] = 1.0
    return ids, torch.arange(T).repeat(B, 1), ipos, cells, cond, mask


# ---------------------------------------------------------------- training

def starts_any(texts, prefix):
    return any(s.startswith(prefix) for s in texts)


def focus_factor(texts, focus):
    """The largest FACTOR of the focus prefixes any of `texts` starts with; 1 when none."""
    return max([v for prefix, v in focus if starts_any(texts, prefix)] + [1.0])


def hard_weight(t, focus, after_miss):
    return focus_factor([t['step']], focus) * (after_miss if t.get('afterMiss') else 1.0)


def parse_focus(text):
    out = []
    for part in filter(None, (p.strip() for p in text.split(';'))):
        prefix, _, factor = part.rpartition('=')
        out.append((prefix, float(factor)))
    return out


def training_rows(index):
    plans = [p for p in index['plans'] if p['split'] == 'train']
    uniq = {}
    for t in index['transitions']:
        if t['split'] == 'train':
            key = (t['robot'], t['task'], t['frame'], t['step'], t['next'])
            if key in uniq:
                uniq[key]['afterMiss'] = uniq[key]['afterMiss'] or t['afterMiss']
            else:
                uniq[key] = dict(t)
    return plans, list(uniq.values())


# Arguments that shape the weights: a checkpoint continues only a run with the same ones.
TRAINING_ARGS = ('seed', 'threads', 'precision', 'd', 'layers', 'heads', 'pixel_hidden', 'pixel_layers', 'pixel_mixture', 'steps', 'batch', 'lr', 'noise', 'noise_cells', 'changed_weight',
                 'changed_pixel_weight', 'kept_pixel_weight', 'kept_pixel_share', 'pixel_loss_weight', 'focus', 'after_miss', 'plan_focus', 'ema',
                 'late_steps', 'late_focus', 'late_after_miss')
# Shaping arguments added after checkpoints were first written: an older checkpoint was trained with these.
EARLIER_DEFAULTS = {'pixel_hidden': 0, 'pixel_layers': 1, 'pixel_mixture': 1, 'kept_pixel_share': 1.0, 'precision': 'fp32', 'plan_focus': '', 'ema': 0.0, 'late_steps': 0, 'late_focus': '', 'late_after_miss': 0.0}


def trained_with(ck_args, k):
    return ck_args.get(k, EARLIER_DEFAULTS.get(k))


def autocast(precision):
    """bf16: the trunk's and heads' matrix products in bfloat16 (oneDNN; fast on CPUs with AMX or
    AVX512-BF16), weights, optimiser and losses in float32. fp32: everything in float32."""
    return torch.autocast('cpu', dtype=torch.bfloat16, enabled=precision == 'bf16')


def cpu_has_bf16():
    try:
        flags = open('/proc/cpuinfo').read().split()
    except OSError:
        return False
    return 'amx_bf16' in flags or 'avx512_bf16' in flags


def lr_at(a, step):
    return a.lr * min(1.0, (step + 1) / 60) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / a.steps)))


def ema_update(ema, model, decay, step):
    """One step of the weights' running average. The decay ramps up over the first steps so that
    the average does not remember the initial weights."""
    d = min(decay, (1 + step) / (10 + step))
    with torch.no_grad():
        for e, p in zip(ema.values(), model.state_dict().values()):
            if e.dtype.is_floating_point:
                e.lerp_(p, 1.0 - d)
            else:
                e.copy_(p)


def averaged(model, ema):
    """The model that evaluation and export see: the running average where there is one."""
    if ema is not None:
        model.load_state_dict(ema)
    return model.eval()


def train(a, index, cells, cache):
    ckpt_path = os.path.join(cache, 'ckpt.pt')
    layout = Layout(index['words'])
    plans, trans = training_rows(index)
    focus = parse_focus(a.focus)
    cum = np.cumsum([hard_weight(t, focus, a.after_miss) for t in trans]).tolist()
    # The last --late-steps draw keyframes with their own weights: the kinds that still miss after
    # the main phase get the low-lr tail of the schedule to themselves.
    late_focus = parse_focus(a.late_focus) if a.late_focus else focus
    late_cum = np.cumsum([hard_weight(t, late_focus, a.late_after_miss or a.after_miss) for t in trans]).tolist() if a.late_steps > 0 else cum
    plan_focus = parse_focus(a.plan_focus)
    plan_cum = np.cumsum([focus_factor(p['steps'], plan_focus) for p in plans]).tolist() if plan_focus else None
    torch.manual_seed(a.seed)
    model = PaletteGPT(d=a.d, layers=a.layers, heads=a.heads, pixel_hidden=a.pixel_hidden, mixture=a.pixel_mixture, pixel_layers=a.pixel_layers)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.95), weight_decay=0.01)
    rng = random.Random(a.seed)
    step, seconds = 0, 0.0
    # A batch of 13 sequences gives noisy steps, and the rarest kinds of keyframe (a bottle stood up
    # after a miss) are decided by the last few of them: the exported weights average the last
    # ~1/(1 - ema) steps instead.
    ema = {k: v.detach().clone() for k, v in model.state_dict().items()} if a.ema > 0 else None
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        shaping = [k for k in TRAINING_ARGS if trained_with(ck['args'], k) != getattr(a, k)]
        if shaping:
            sys.exit(f'recipe.py: {ckpt_path} was trained with other ' + ', '.join(f'--{k.replace("_", "-")} ({trained_with(ck["args"], k)})' for k in shaping)
                     + ': run with those, or remove it to start over')
        model.load_state_dict(ck['model'])
        opt.load_state_dict(ck['opt'])
        rng.setstate(ck['rng'])
        if ema is not None:
            ema = ck['ema']
        step, seconds = ck['step'], ck['seconds']
        log(f'train: resumed from {ckpt_path} at step {step}/{a.steps}')
        if step >= a.steps:
            return averaged(model, ema), ck
    else:
        share = {p: sum(t['step'].startswith(p) for t in trans) / len(trans) for p, _ in focus}
        log(f'train: {len(plans)} plans, {len(trans)} distinct transitions ({sum(t["afterMiss"] for t in trans)} after a miss); '
            f'focus {focus} ' + ', '.join(f'{p!r} {s:.1%}' for p, s in share.items()))
        if plan_focus:
            log('train: plan focus ' + ', '.join(f'{pre!r} x{v:g} on {sum(starts_any(p["steps"], pre) for p in plans) / len(plans):.1%} of plans'
                                                  for pre, v in plan_focus))
        log(f'train: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters, d {a.d}, {a.layers} layers, '
            f'batch {a.batch}, {a.steps} steps')
    nb = [int(x) for x in a.batch.split(',')]
    pick = lambda: rng.choices(trans, cum_weights=late_cum if step >= a.steps - a.late_steps else cum)[0]  # noqa: E731
    t_start = time.time() - seconds
    last_save = time.time()
    model.train()
    while step < a.steps:
        items = []
        for _ in range(nb[0]):
            plan = rng.choices(plans, cum_weights=plan_cum)[0] if plan_cum else rng.choice(plans)
            items.append(item_plan(layout, plan, cells))
        for mode, n in (('ar', nb[1]), ('dida', nb[2])):
            for _ in range(n):
                row = pick()
                start, nxt = cells[row['frame']], cells[row['next']]
                if rng.random() < a.noise:
                    start = corrupt(start, nxt, cells, rng, a.noise_cells)
                items.append(item_keyframe(layout, row, start, nxt, mode, rng, a.changed_weight))
        ids, pos, ipos, cin, cond, mask = collate(items)
        for g in opt.param_groups:
            g['lr'] = lr_at(a, step)
        with autocast(a.precision):
            h = model.trunk_distinct(ids, pos, ipos, cin, cond, mask)
        # text
        tb, tt, tg = [], [], []
        for b, it in enumerate(items):
            if it['text_tgt'] is not None:
                k = np.nonzero(it['text_tgt'] >= 0)[0]
                tb += [b] * len(k)
                tt += k.tolist()
                tg += it['text_tgt'][k].tolist()
        with autocast(a.precision):
            text_logits = model.text_logits(h[tb, tt])
        text_loss = F.cross_entropy(text_logits.float(), torch.tensor(tg))
        # cells
        cb, ct, ctgt, ccond, ckeep = [], [], [], [], []
        for b, it in enumerate(items):
            if it['cell_rows'] is not None:
                positions, tgt, cnd, keep = it['cell_rows']
                cb += [b] * len(positions)
                ct += positions.tolist()
                ctgt.append(tgt)
                ccond.append(cnd)
                ckeep.append(keep)
        ctgt = torch.from_numpy(np.concatenate(ctgt)).long()
        ccond = torch.from_numpy(np.concatenate(ccond))
        ckeep = torch.from_numpy(np.concatenate(ckeep))
        cb, ct = torch.tensor(cb), torch.tensor(ct)
        with autocast(a.precision):
            keep_logit = model.keep_logit(h[cb, ct]).float()
        changed = (~ckeep).float()
        wk = 1.0 + (a.changed_weight - 1.0) * changed
        keep_loss = (F.binary_cross_entropy_with_logits(keep_logit, ckeep.float(), reduction='none') * wk).sum() / wk.sum()
        # Pixels: kept cells count a little (the keep answer copies them), changed cells fully, and
        # changed pixels of changed cells more. Only a share of the kept cells is drawn through the
        # pixel head (weighted up to match): most cells keep, and the head is the costly part.
        rows = torch.ones(len(ckeep), dtype=torch.bool) if a.kept_pixel_share >= 1 else \
            ~ckeep | torch.from_numpy(np.random.default_rng(rng.getrandbits(32)).random(len(ckeep)) < a.kept_pixel_share)
        with autocast(a.precision):
            mix, pix = model.pixel_logits(h[cb[rows], ct[rows]], ccond[rows])
        mix, pix = mix.float(), pix.float()
        ctgt, ccond, kept = ctgt[rows], ccond[rows], ckeep[rows].float()
        pix_changed = (ctgt != ccond.long()).float()
        wp = (a.kept_pixel_weight / min(1.0, a.kept_pixel_share)) * kept[:, None] + (1.0 - kept)[:, None] * (1.0 + a.changed_pixel_weight * pix_changed)
        # A cell's weighted log-likelihood under each hypothesis, then the mixture's (K = 1: the
        # weighted cross-entropy).
        ll = (pix.log_softmax(-1).gather(-1, ctgt[:, None, :, None].expand(-1, pix.shape[1], -1, 1))[..., 0] * wp[:, None]).sum(-1)
        pix_loss = -torch.logsumexp(mix + ll, -1).sum() / wp.sum()
        loss = text_loss + keep_loss + a.pixel_loss_weight * pix_loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if ema is not None:
            ema_update(ema, model, a.ema, step)
        if step % 25 == 0 or step == 1 or step == a.steps:
            el = time.time() - t_start
            log(f'train step {step}/{a.steps} text {text_loss.item():.3f} keep {keep_loss.item():.3f} pixel {pix_loss.item():.3f} '
                f'lr {lr_at(a, step - 1):.2e} ({el / step:.2f} s/step, eta {(a.steps - step) * el / step / 60:.1f} min)')
        if step == a.steps or time.time() - last_save > a.save_seconds or step % a.save_every == 0:
            ck = {'model': model.state_dict(), 'opt': opt.state_dict(), 'rng': rng.getstate(), 'step': step,
                  'seconds': time.time() - t_start, 'args': vars(a), **({'ema': ema} if ema is not None else {})}
            save_atomic(ck, ckpt_path)
            last_save = time.time()
    return averaged(model, ema), ck


# ---------------------------------------------------------------- evaluation

def decide(keep_prob, best, cond):
    """Cell content: the conditioning cell where keep wins, else the per-pixel best."""
    return np.where(keep_prob[:, None] >= 0.5, cond, best)


@torch.no_grad()
def forward_np(model, ids, pos, ipos, cells, cond, mask, past):
    logits, keep, best, conf, present = model(torch.tensor([ids]), torch.tensor([pos]), torch.tensor([ipos]), torch.from_numpy(cells[None]),
                                              torch.from_numpy(cond[None]), torch.from_numpy(mask[None]).float(), past)
    return logits[0], torch.sigmoid(keep[0]).numpy(), best[0].numpy().astype(np.uint8), conf[0].numpy(), present


@torch.no_grad()
def dida_decode(model, layout, row, start, passes):
    prefix = layout.keyframe_prefix(row)
    n = len(prefix)
    T = n + CELLS
    ids = prefix + [CELL_TOKEN] * CELLS
    ipos = [0] * n + list(range(1, CELLS + 1))
    cells = np.full((T, PIX), NONE_VALUE, np.uint8)
    cells[n:] = MASK_VALUE
    cond = np.full((T, PIX), NONE_VALUE, np.uint8)
    cond[n:] = start
    mask = np.tril(np.ones((T, T), np.float32))
    mask[n:, n:] = 1
    open_ = np.ones(CELLS, bool)
    out = np.zeros((CELLS, PIX), np.uint8)
    for p in range(passes):
        _, keep, best, pconf, _ = forward_np(model, ids, list(range(T)), ipos, cells, cond, mask, model.empty_past(1))
        keep, best, pconf = keep[n:], best[n:], pconf[n:]
        content = decide(keep, best, start)
        conf = np.where(keep >= 0.5, keep, (1 - keep) * pconf)
        if p == passes - 1:
            target = CELLS
        else:
            target = max(1, int(round(CELLS * (1 - math.cos(math.pi / 2 * (p + 1) / passes)))))
        k = target - int((~open_).sum())
        cand = np.nonzero(open_)[0]
        chosen = cand[np.argsort(-conf[cand], kind='stable')[:max(0, k)]]
        out[chosen] = content[chosen]
        cells[n + chosen] = content[chosen]
        open_[chosen] = False
    return out


@torch.no_grad()
def ar_decode(model, layout, row, start):
    prefix = layout.keyframe_prefix(row)
    n = len(prefix)
    cells = np.full((n, PIX), NONE_VALUE, np.uint8)
    cond = np.full((n, PIX), NONE_VALUE, np.uint8)
    cond[n - 1] = start[0]
    _, keep, best, _, past = forward_np(model, prefix, list(range(n)), [0] * n, cells, cond, np.tril(np.ones((n, n), np.float32)), model.empty_past(1))
    out = np.zeros((CELLS, PIX), np.uint8)
    for j in range(CELLS):
        out[j] = decide(keep[-1:], best[-1:], start[j:j + 1])[0]
        if j == CELLS - 1:
            break
        P = n + j
        _, keep, best, _, past = forward_np(model, [CELL_TOKEN], [P], [1 + j], out[j:j + 1], start[j + 1:j + 2], np.ones((1, P + 1), np.float32), past)
    return out


@torch.no_grad()
def greedy_text(model, layout, row, cells, limit=160, allowed=None):
    """Greedy step text after the plan prompt; `allowed` (a row of 0 / -inf added to the logits)
    restricts the ids as the runtime does (words, SEP and EOS)."""
    ids, ipos, (at, pic), start = layout.plan(row, cells)
    ids, ipos = ids[:start + 1], ipos[:start + 1]
    T = len(ids)
    inp = np.full((T, PIX), NONE_VALUE, np.uint8)
    inp[at:at + CELLS] = pic
    none = np.full((T, PIX), NONE_VALUE, np.uint8)
    logits, _, _, _, past = forward_np(model, ids, list(range(T)), ipos, inp, none, np.tril(np.ones((T, T), np.float32)), model.empty_past(1))
    out = []
    pos = T
    one = np.full((1, PIX), NONE_VALUE, np.uint8)
    for _ in range(limit):
        tok = int((logits[-1] if allowed is None else logits[-1] + allowed).argmax())
        out.append(tok)
        if tok == EOS:
            break
        logits, _, _, _, past = forward_np(model, [tok], [pos], [0], one, one, np.ones((1, pos + 1), np.float32), past)
        pos += 1
    return out


def step_kind(t, kinds):
    return next((name for name, prefix in kinds if t['step'].startswith(prefix)), 'other')


def evaluate(model, index, cells, a):
    layout = Layout(index['words'])
    rng = random.Random(a.seed + 1)
    trans = [t for t in index['transitions'] if t['split'] == 'heldout']
    uniq = {}
    for t in trans:
        uniq.setdefault((t['robot'], t['task'], t['frame'], t['step'], t['next']), t)
    trans = sorted(uniq.values(), key=lambda t: (t['scene'], t['robot'], t['seed'], t['frame'], t['step'], t['next']))
    trans = rng.sample(trans, min(a.eval_n, len(trans)))
    samplers = {'ar': None, 'dida2': 2, 'dida4': 4, 'dida8': 8}
    res = {k: {'cells': 0, 'exact': 0, 'changed': 0, 'changedRight': 0, 'keyframes': 0, 'keyframesExact': 0} for k in samplers}
    copy_exact = 0
    kinds = [('pick up', 'pick up'), ('stand', 'stand'), ('grasp one corner', 'grasp the bottom-'), ('grasp both corners', 'grasp the bottom corners'),
             ('tidy the collar', 'tidy'), ('fold', 'fold'), ('move', 'move'), ('put', 'put')]
    per_kind = {}
    t0 = time.time()
    for i, t in enumerate(trans):
        start, truth = cells[t['frame']], cells[t['next']]
        changed = ~(start == truth).all(1)
        copy_exact += int((~changed).sum())
        kind = ('after a miss: ' if t['afterMiss'] else '') + step_kind(t, kinds)
        for name, passes in samplers.items():
            got = ar_decode(model, layout, t, start) if passes is None else dida_decode(model, layout, t, start, passes)
            right = (got == truth).all(1)
            r = res[name]
            r['cells'] += CELLS
            r['exact'] += int(right.sum())
            r['changed'] += int(changed.sum())
            r['changedRight'] += int(right[changed].sum())
            r['keyframes'] += 1
            r['keyframesExact'] += int(right.all())
            if name in ('ar', 'dida4'):
                pk = per_kind.setdefault(kind, {}).setdefault(name, [0, 0, 0])
                pk[0] += 1
                pk[1] += int(changed.sum())
                pk[2] += int(right[changed].sum())
        if (i + 1) % 20 == 0:
            log(f'eval: {i + 1}/{len(trans)} transitions ({time.time() - t0:.0f} s)')
    out = {'heldoutTransitions': len(trans), 'copyExactCell': round(copy_exact / (CELLS * len(trans)), 4)}
    for name, r in res.items():
        out[name] = {'exactCell': round(r['exact'] / r['cells'], 4), 'changedCell': round(r['changedRight'] / max(1, r['changed']), 4),
                     'exactKeyframe': round(r['keyframesExact'] / r['keyframes'], 4)}
    out['changedCellByKind'] = {k: {s: {'keyframes': v[0], 'changedCells': v[1], 'changedCell': round(v[2] / max(1, v[1]), 4)} for s, v in d.items()}
                                for k, d in sorted(per_kind.items())}
    plans = [p for p in index['plans'] if p['split'] == 'heldout']
    plans = rng.sample(plans, min(a.eval_plans, len(plans)))
    exact = first = 0
    for p in plans:
        ids, _, _, start = layout.plan(p, cells)
        gen = greedy_text(model, layout, p, cells)
        truth = ids[start + 1:]
        exact += gen == truth
        cut = truth.index(SEP) if SEP in truth else len(truth) - 1
        first += gen[:cut] == truth[:cut]
    out['planExactMatch'] = round(exact / max(1, len(plans)), 4)
    out['firstStepExactMatch'] = round(first / max(1, len(plans)), 4)
    out['heldoutPlans'] = len(plans)
    out['seconds'] = round(time.time() - t0)
    return out


# ---------------------------------------------------------------- ONNX

GRAPHS = (TRUNK_GRAPH, PIXEL_GRAPH, KEYFRAME_GRAPH)


def export_onnx(model, out):
    """OUT/palette_transformer.onnx, OUT/palette_pixels.onnx and OUT/palette_keyframe.onnx (models/PALETTE.md)."""
    model.eval()
    B, T, P = 1, 3, 2
    args = (torch.zeros(B, T, dtype=torch.long), torch.arange(T)[None] + P, torch.zeros(B, T, dtype=torch.long),
            torch.full((B, T, PIX), NONE_VALUE, dtype=torch.uint8), torch.full((B, T, PIX), NONE_VALUE, dtype=torch.uint8),
            torch.ones(B, T, P + T), torch.zeros(model.layers, 2, B, model.heads, P, model.d // model.heads))
    names = ['input_ids', 'position_ids', 'image_pos_ids', 'cells', 'cond_cells', 'attention_mask', 'past']
    outs = ['logits', 'present', 'keep_prob', 'cell_state']
    bt = {0: 'batch', 1: 'seq'}
    axes = {'input_ids': bt, 'position_ids': bt, 'image_pos_ids': bt, 'cells': bt, 'cond_cells': bt,
            'attention_mask': {0: 'batch', 1: 'seq', 2: 'total'}, 'past': {2: 'batch', 4: 'past_seq'},
            'logits': bt, 'present': {2: 'batch', 4: 'total'}, 'keep_prob': bt, 'cell_state': bt}
    export_atomic(ExportedPaletteTrunk(model), args, os.path.join(out, TRUNK_GRAPH), names, outs, axes)
    rows = {0: 'rows'}
    export_atomic(ExportedPalettePixels(model), (torch.zeros(2, model.d), torch.zeros(2, PIX, dtype=torch.uint8)), os.path.join(out, PIXEL_GRAPH),
                  ['cell_state', 'cond_cells'], ['pixel_best', 'pixel_confidence'],
                  {'cell_state': rows, 'cond_cells': rows, 'pixel_best': rows, 'pixel_confidence': rows})
    T = 5
    patterns = lambda u: torch.full((u, PIX), NONE_VALUE, dtype=torch.uint8)  # noqa: E731
    args = (torch.zeros(B, T, dtype=torch.long), torch.arange(T)[None], torch.zeros(B, T, dtype=torch.long),
            patterns(3), torch.zeros(B, T, dtype=torch.long), patterns(2), torch.zeros(B, T, dtype=torch.long), torch.ones(B, T, T))
    names = ['input_ids', 'position_ids', 'image_pos_ids', 'cell_patterns', 'cell_index', 'cond_patterns', 'cond_index', 'attention_mask']
    axes = {'input_ids': bt, 'position_ids': bt, 'image_pos_ids': bt, 'cell_index': bt, 'cond_index': bt,
            'cell_patterns': {0: 'patterns'}, 'cond_patterns': {0: 'cond_patterns'},
            'attention_mask': {0: 'batch', 1: 'seq', 2: 'seq_total'}, 'keep_prob': bt, 'cell_state': bt}
    export_atomic(ExportedPaletteKeyframe(model), args, os.path.join(out, KEYFRAME_GRAPH), names, ['keep_prob', 'cell_state'], axes)


def export_atomic(module, args, path, names, outs, axes):
    torch.onnx.export(module, args, path + '.tmp', input_names=names, output_names=outs, opset_version=14, dynamic_axes=axes)
    os.replace(path + '.tmp', path)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default='models', help='where the two graphs, spec.json and metrics.json go')
    ap.add_argument('--cache', default=None, help='data, cells and checkpoints (default OUT/.cache/palette)')
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--threads', type=int, default=2)
    # data (scripts/export-dataset.ts)
    ap.add_argument('--data-seed', type=int, default=7)
    ap.add_argument('--train-seeds', type=int, default=150)
    ap.add_argument('--heldout-seeds', type=int, default=12)
    ap.add_argument('--miss-rate', type=float, default=0.2)
    ap.add_argument('--extra-seeds', type=int, default=240, help='training episodes at --extra-miss-rate after the first --train-seeds: more recoveries after a miss')
    ap.add_argument('--extra-miss-rate', type=float, default=0.5)
    ap.add_argument('--tipped-starts', type=float, default=0.0, help='share of the extra table episodes that start with some cups, bowls and bottles on their side')
    ap.add_argument('--slipped-folds', type=float, default=0.0, help='share of the extra T-shirt episodes whose bottom fold stops short and then loses one corner')
    # model
    ap.add_argument('--d', type=int, default=128)
    ap.add_argument('--layers', type=int, default=4)
    ap.add_argument('--heads', type=int, default=4)
    ap.add_argument('--pixel-hidden', type=int, default=512, help='hidden width of the per-cell pixel head (0: linear)')
    ap.add_argument('--pixel-layers', type=int, default=1, help='hidden layers of the pixel head, each --pixel-hidden wide')
    ap.add_argument('--pixel-mixture', type=int, default=1, help='whole-cell hypotheses of the pixel head; a cell is drawn from the likeliest (1: per-pixel argmax)')
    # training
    ap.add_argument('--steps', type=int, default=16000)
    ap.add_argument('--batch', default='1,6,6', help='plan, AR keyframe and DiDA keyframe sequences per step')
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--ema', type=float, default=0.0, help='evaluate and export the running average of the weights with this decay (0: the last weights)')
    ap.add_argument('--precision', choices=['fp32', 'bf16'], default='bf16',
                    help='training arithmetic: bf16 runs the matrix products in bfloat16 (float32 weights)')
    ap.add_argument('--noise', type=float, default=0.3, help='share of keyframe items whose starting picture has model-like errors')
    ap.add_argument('--noise-cells', type=int, default=8)
    ap.add_argument('--changed-weight', type=float, default=3.0, help='keep-loss weight of cells that change')
    ap.add_argument('--changed-pixel-weight', type=float, default=4.0, help='extra pixel-loss weight of changed pixels in changed cells')
    ap.add_argument('--kept-pixel-weight', type=float, default=0.1, help='pixel-loss weight of cells that keep the starting picture')
    ap.add_argument('--kept-pixel-share', type=float, default=0.125, help='share of kept cells whose pixels enter the loss (weighted up to match)')
    ap.add_argument('--pixel-loss-weight', type=float, default=1.0)
    ap.add_argument('--focus', default='pick up=2;pick up the plate=4;pick up the fork=3;stand=5;'
                                        'grasp the bottom-left=3;grasp the bottom-right=3;tidy the collar=2;'
                                        'fold the bottom up=4;move the folded shirt aside=4;fold the shirt in half=3;'
                                        'grasp the bottom corners=2;fold the left sleeve in=2;fold the right sleeve in=2',
                    help='draw transitions whose step starts with PREFIX FACTOR times as often: "PREFIX=FACTOR;..."')
    ap.add_argument('--after-miss', type=float, default=2.0, help='and transitions right after a miss this many times as often')
    ap.add_argument('--late-steps', type=int, default=0, help='the last this many of --steps draw keyframes with --late-focus and --late-after-miss')
    ap.add_argument('--late-focus', default='', help='--focus of the late steps (empty: --focus)')
    ap.add_argument('--late-after-miss', type=float, default=0.0, help='--after-miss of the late steps (0: --after-miss)')
    ap.add_argument('--plan-focus', default='stand=4',
                    help='draw plans with a step that starts with PREFIX FACTOR times as often: "PREFIX=FACTOR;..." (a tipped object is stood up first)')
    ap.add_argument('--save-every', type=int, default=200)
    ap.add_argument('--save-seconds', type=float, default=240, help='also checkpoint when this long has passed since the last one')
    ap.add_argument('--eval-n', type=int, default=120)
    ap.add_argument('--eval-plans', type=int, default=60)
    ap.add_argument('--dida-passes', type=int, default=1, help="DiDA passes the runtime draws a keyframe with unless told otherwise (spec.json decoding.passes)")
    ap.add_argument('--int8', action=argparse.BooleanOptionalAction, default=True,
                    help='write the graphs with int8 weight products (models/quantize.py; needs python3-onnx)')
    ap.add_argument('--stop-after', choices=['export', 'encode', 'train', 'eval'], default=None)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.int8:
        # Checked now rather than after training.
        require_onnx('recipe.py: --int8 (or pass --no-int8)')
    if not keep_freed_memory():
        log('malloc is not glibc\'s: freed memory goes back to the kernel (steps may be slower)')
    if a.precision == 'bf16' and not cpu_has_bf16():
        log('bf16 on a CPU without amx_bf16 or avx512_bf16 (/proc/cpuinfo): oneDNN emulates it, expect it slower than --precision fp32')
    cache = a.cache or os.path.join(a.out, '.cache', 'palette')
    data = os.path.join(cache, 'data')
    os.makedirs(cache, exist_ok=True)
    os.makedirs(a.out, exist_ok=True)
    wall_path = os.path.join(cache, 'wall.json')
    wall = json.load(open(wall_path)) if os.path.exists(wall_path) else {'runs': []}
    wall['runs'].append({'started': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())})
    json_atomic(wall, wall_path)

    def mark(stage):
        wall['runs'][-1][stage] = round(time.time() - T0)
        json_atomic(wall, wall_path)

    export_data(a, data)
    mark('export')
    if a.stop_after == 'export':
        return
    cells, digest = encode_cells(data, cache)
    mark('encode')
    if a.stop_after == 'encode':
        return
    index = json.load(open(os.path.join(data, 'index.json')))
    model, ck = train(a, index, cells, cache)
    mark('train')
    if a.stop_after == 'train':
        return
    metrics_path = os.path.join(cache, 'eval.json')
    cached = json.load(open(metrics_path)) if os.path.exists(metrics_path) else {}
    if cached.get('step') == ck['step']:
        ev = cached['eval']
        log('eval: cached')
    else:
        # Greedy decoding is single-position forwards: one thread is faster for them than two.
        torch.set_num_threads(1)
        ev = evaluate(model, index, cells, a)
        torch.set_num_threads(a.threads)
        json_atomic({'step': ck['step'], 'eval': ev}, metrics_path)
    mark('eval')
    log('eval:', json.dumps(ev))
    if a.stop_after == 'eval':
        return
    export_onnx(model, a.out)
    if a.int8:
        for graph in GRAPHS:
            path = os.path.join(a.out, graph)
            log(f'int8: {path}: {quantize_graph(path, path)} MatMuls')
    mark('onnx')
    command = '/usr/bin/python3 models/recipe.py ' + ' '.join(sys.argv[1:])
    spec = spec_json(index['words'], model)
    spec['decoding'] = {'passes': a.dida_passes}
    spec['recipe'] = {'command': command, 'seed': a.seed, 'dataHash': 'sha256:' + digest, 'steps': a.steps,
                      'graph': TRUNK_GRAPH, 'pixelGraph': PIXEL_GRAPH,
                      'keyframeGraph': KEYFRAME_GRAPH, 'int8': a.int8}
    json_atomic(spec, os.path.join(a.out, 'spec.json'))
    metrics = {'data': {'frames': int(len(cells)), 'plans': len(index['plans']), 'transitions': len(index['transitions']),
                        'export': export_args(a), 'hash': 'sha256:' + digest},
               'model': {'params': sum(p.numel() for p in model.parameters()), 'd': a.d, 'layers': a.layers, 'heads': a.heads, 'pixelHidden': a.pixel_hidden,
                         **({'pixelLayers': a.pixel_layers} if a.pixel_layers > 1 else {}), 'pixelMixture': a.pixel_mixture},
               'training': {k: getattr(a, k) for k in ('steps', 'batch', 'lr', 'noise', 'noise_cells', 'changed_weight', 'changed_pixel_weight',
                                                        'kept_pixel_weight', 'kept_pixel_share', 'pixel_loss_weight', 'focus', 'after_miss', 'plan_focus', 'ema',
                                                        'late_steps', 'late_focus', 'late_after_miss', 'seed', 'threads')},
               'trainSeconds': round(ck['seconds']),
               'eval': ev,
               'recipe': {'command': command, 'runs': wall['runs'], 'wallSecondsThisRun': round(time.time() - T0)}}
    json_atomic(metrics, os.path.join(a.out, 'metrics.json'))
    log(f'done: {a.out}/{", ".join(GRAPHS)}, spec.json, metrics.json; this run {time.time() - T0:.0f} s wall')


if __name__ == '__main__':
    main()
