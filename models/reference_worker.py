"""Reference model worker: keystep's worker protocol (docs/worker-protocol.md) over the VQ
model's own weights, decoded with torch.

The weights are recovered from the committed ONNX graphs (import_onnx.py) and run by worldmodel.py's
GPT and VQ; decoding is what src/model/world-model.ts does with the defaults of a plain plan: greedy
step texts (words, SEP and EOS only) and greedy DiDA keyframes (2 passes, cosine schedule), each drawn
from the one before, cells that keep their code keeping the starting picture's pixels. So a plan from
this worker is the embedded model's greedy plan, up to float rounding between torch and onnxruntime.

    /usr/bin/python3 models/reference_worker.py --port 8765 [--model models/vq] [--host 127.0.0.1]

Needs Debian's python3-torch, python3-onnx, python3-websockets (10.x) and python3-pil.
"""
import argparse
import asyncio
import base64
import io
import json
import math
from http import HTTPStatus
import os
import sys

import numpy as np
import torch
import websockets
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from import_onnx import import_gpt, import_vq, initializers  # noqa: E402
from worldmodel import VQDecoder, VQEncoder  # noqa: E402

PROTOCOL = 1
WORD_RE = __import__('re').compile(r"[a-z0-9]+(?:-[a-z0-9]+)*|[^\sa-z0-9]")


class Model:
    def __init__(self, directory):
        self.spec = json.load(open(os.path.join(directory, 'spec.json')))
        graphs = {n: initializers(os.path.join(directory, f'{n}.onnx')) for n in ('vq_encoder', 'vq_decoder', 'transformer')}
        vq = import_vq(graphs['vq_encoder'], graphs['vq_decoder'])
        self.encoder, self.decoder = VQEncoder(vq).eval(), VQDecoder(vq).eval()
        self.gpt = import_gpt(graphs['transformer'])
        self.cond = self.gpt.cond is not None
        s = self.spec
        self.size, self.grid, self.codes = s['imageSize'], s['grid'], s['codes']
        self.roles, self.word_base, self.visual_base = s['roles'], s['wordBase'], s['visualBase']
        self.max_len = s['maxLen']
        self.word_id = {w: self.word_base + i for i, w in enumerate(s['words'])}
        self.name = f"keystep-embedded ({os.path.basename(os.path.abspath(directory))}, torch)"

    # ------------------------------------------------------------- tokens (src/model/spec.ts)
    def text(self, s):
        return [self.word_id.get(w, self.roles['unk']) for w in WORD_RE.findall(s.lower())]

    def decode_text(self, ids):
        out = ''
        for i in ids:
            if self.word_base <= i < self.visual_base and i - self.word_base < len(self.spec['words']):
                w = self.spec['words'][i - self.word_base]
                out = w if out == '' else (out + w if w in '.,;:!?' and len(w) == 1 else f'{out} {w}')
        return out

    def image_tokens(self, codes):
        g = self.grid
        ids, ipos = [], []
        for r in range(g):
            for c in range(g):
                ids.append(self.visual_base + int(codes[r * g + c]))
                ipos.append(1 + r * (g + 1) + c)
            if r < g - 1:
                ids.append(self.roles['endOfRow'])
                ipos.append(1 + r * (g + 1) + g)
        return ids, ipos

    def prefix(self, robot, task, codes):
        t = [self.roles['bos']] + self.text(f'{robot} {task}') + [self.roles['imageStart']]
        img, ip = self.image_tokens(codes)
        return t + img + [self.roles['imageEnd']], [0] * len(t) + ip + [0]

    # ------------------------------------------------------------- forwards
    def forward(self, ids, ipos, mask, cond=None):
        T = len(ids)
        args = [torch.tensor([ids]), torch.arange(T)[None], torch.tensor([ipos]), mask[None], self.gpt.empty_past(1)]
        if self.cond:
            args.append(torch.tensor([cond if cond is not None else [0] * T]))
        logits, _ = self.gpt(*args)
        return logits[0]

    @torch.no_grad()
    def step_texts(self, robot, task, codes):
        ids, ipos = self.prefix(robot, task, codes)
        ids, ipos = ids + [self.roles['steps']], ipos + [0]
        limit = min(200, self.max_len - len(ids))
        allowed = torch.full((self.visual_base,), float('-inf'))
        allowed[self.word_base:] = 0
        allowed[self.roles['sep']] = 0
        allowed[self.roles['eos']] = 0
        out = []
        for _ in range(limit):
            T = len(ids)
            logits = self.forward(ids, ipos, torch.tril(torch.ones(T, T)))[-1, :self.visual_base] + allowed
            tok = int(logits.argmax())
            if tok == self.roles['eos']:
                break
            out.append(tok)
            ids, ipos = ids + [tok], ipos + [0]
        steps, current = [], []
        for t in out + [self.roles['sep']]:
            if t == self.roles['sep']:
                text = self.decode_text(current)
                if text:
                    steps.append(text)
                current = []
            else:
                current.append(t)
        return steps

    @torch.no_grad()
    def keyframe(self, robot, task, codes, step, passes=2, on_pass=None):
        ids, ipos = self.prefix(robot, task, codes)
        span_len = self.grid * self.grid + self.grid - 1
        room = max(0, self.max_len - len(ids) - 2 - span_len - 1)
        text = [self.roles['next']] + self.text(step)[:room] + [self.roles['imageStart']]
        ids, ipos = ids + text, ipos + [0] * len(text)
        start = len(ids)
        cond_img, span_ipos = self.image_tokens(codes)
        span = [self.roles['endOfRow'] if t == self.roles['endOfRow'] else self.roles['mask'] for t in cond_img]
        T = start + span_len
        mask = torch.tril(torch.ones(T, T))
        mask[start:, start:] = 1
        cond = [0] * start + cond_img
        open_ = [k for k, t in enumerate(span) if t == self.roles['mask']]
        total = len(open_)
        for p in range(passes):
            if not open_:
                break
            logits = self.forward(ids + span, ipos + span_ipos, mask, cond)[start:]
            probs = logits[open_][:, self.visual_base:self.visual_base + self.codes].float().softmax(-1)
            conf, tok = probs.max(-1)
            want = total if p >= passes - 1 else min(total, max(1, round((1 - math.cos(math.pi / 2 * (p + 1) / passes)) * total)))
            n = max(1, want - (total - len(open_)))
            # Most confident first, ties by position (as dida.ts commits).
            order = sorted(range(len(open_)), key=lambda i: (-float(conf[i]), open_[i]))[:n]
            for i in order:
                span[open_[i]] = self.visual_base + int(tok[i])
            chosen = {open_[i] for i in order}
            open_ = [k for k in open_ if k not in chosen]
            if on_pass:
                on_pass(p, passes, self.span_codes(span, codes), total - len(open_), total)
        return self.span_codes(span, codes)

    def span_codes(self, span, start):
        """Visual codes of a span; a cell still open keeps the starting picture's code."""
        out = list(start)
        cell = 0
        for t in span:
            if t == self.roles['endOfRow']:
                continue
            if t >= self.visual_base:
                out[cell] = t - self.visual_base
            cell += 1
        return out

    # ------------------------------------------------------------- pictures (src/model/picture.ts)
    @torch.no_grad()
    def encode(self, rgb):
        return [int(c) for c in self.encoder(torch.from_numpy(rgb)[None]).reshape(-1)]

    @torch.no_grad()
    def decode(self, codes, reference=None):
        rgb = self.decoder(torch.tensor(codes, dtype=torch.long).reshape(1, self.grid, self.grid))[0].numpy().copy()
        if reference is not None:
            ref_codes, ref_rgb = reference
            cell = self.size // self.grid
            for t in range(self.grid * self.grid):
                if codes[t] == ref_codes[t]:
                    y, x = (t // self.grid) * cell, (t % self.grid) * cell
                    rgb[y:y + cell, x:x + cell] = ref_rgb[y:y + cell, x:x + cell]
        return rgb


def png_b64(rgb):
    out = io.BytesIO()
    Image.fromarray(rgb, 'RGB').save(out, format='PNG')
    return base64.b64encode(out.getvalue()).decode()


def rgb_of(b64, size):
    image = Image.open(io.BytesIO(base64.b64decode(b64, validate=True)))
    image.load()
    if image.size != (size, size):
        raise ValueError(f'the observation is {image.size[0]}x{image.size[1]}; this worker takes {size}x{size} pictures (metadata.picture)')
    return np.asarray(image.convert('RGB'), dtype=np.uint8).copy()


class BadRequest(Exception):
    pass


def parse_request(frame):
    try:
        req = json.loads(frame)
    except (TypeError, ValueError):
        raise BadRequest('a request frame is JSON text')
    if not isinstance(req, dict) or req.get('type') != 'plan':
        raise BadRequest('the only request is {"type": "plan", ...}')
    for key, kind in (('id', str), ('task', str), ('observation', str)):
        if not isinstance(req.get(key), kind):
            raise BadRequest(f'"{key}" must be a string')
    robot = req.get('robot')
    if not isinstance(robot, dict) or not isinstance(robot.get('id'), str):
        raise BadRequest('"robot" must be an object with an "id"')
    if not isinstance(req.get('history', []), list):
        raise BadRequest('"history" must be a list')
    return req


def serve(model, host, port):
    metadata = {
        'type': 'metadata', 'protocol': PROTOCOL,
        'model': {'name': model.name, 'grid': model.grid, 'codes': model.codes, 'picture': {'width': model.size, 'height': model.size}},
        'sampling': {'texts': 'greedy', 'keyframes': 'dida', 'passes': 2},
        'reads': {'history': False},
    }

    async def handler(ws, path=None):
        await ws.send(json.dumps(metadata))
        async for frame in ws:
            rid = None
            try:
                req = parse_request(frame)
                rid = req['id']
                rgb = rgb_of(req['observation'], model.size)
                codes = model.encode(rgb)
                robot, task = req['robot']['id'], req['task']
                steps = model.step_texts(robot, task, codes)
                for i, s in enumerate(steps):
                    await ws.send(json.dumps({'type': 'step', 'id': rid, 'index': i, 'instruction': s}))
                picture = (codes, rgb)
                for i, s in enumerate(steps):
                    passes = []
                    drawn = model.keyframe(robot, task, picture[0], s, on_pass=lambda p, n, c, f, t: passes.append((p, n, c, f, t)))
                    for p, n, c, f, t in passes:
                        await ws.send(json.dumps({'type': 'pass', 'id': rid, 'step': i, 'pass': p, 'passes': n, 'filled': f, 'cells': t,
                                                  'picture': png_b64(model.decode(c, picture))}))
                    rgb_next = model.decode(drawn, picture)
                    await ws.send(json.dumps({'type': 'keyframe', 'id': rid, 'step': i, 'instruction': s, 'keyframe': png_b64(rgb_next)}))
                    picture = (drawn, rgb_next)
                    await asyncio.sleep(0)
                await ws.send(json.dumps({'type': 'done', 'id': rid, 'steps': len(steps)}))
            except BadRequest as e:
                await ws.send(json.dumps({'type': 'error', 'id': rid, 'error': 'bad_request', 'message': str(e)}))
            except (ValueError, OSError) as e:
                await ws.send(json.dumps({'type': 'error', 'id': rid, 'error': 'bad_request', 'message': f'observation: {e}'}))
            except websockets.ConnectionClosed:
                return
            except Exception as e:  # the worker keeps serving; the client hears what failed
                print(f'reference_worker: request {rid} failed: {e!r}', file=sys.stderr, flush=True)
                await ws.send(json.dumps({'type': 'error', 'id': rid, 'error': 'internal', 'message': f'the worker failed: {e}'}))

    async def health(path, headers):
        if path == '/healthz':
            return HTTPStatus.OK, [('Content-Type', 'application/json')], json.dumps({'ok': True, 'model': model.name}).encode()
        return None

    async def main():
        async with websockets.serve(handler, host, port, process_request=health, max_size=16 * 1024 * 1024):
            print(f'reference_worker: serving {model.name} on ws://{host}:{port}', flush=True)
            await asyncio.Future()

    asyncio.run(main())


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int, default=8765)
    ap.add_argument('--model', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'vq'))
    args = ap.parse_args()
    torch.set_num_threads(1)
    serve(Model(args.model), args.host, args.port)
