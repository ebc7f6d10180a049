import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyframeSizeOf } from '../../src/model/image-io.js';
import { OnnxPlanner } from '../../src/model/onnx-planner.js';
import { openWorldModel } from '../../src/model/open-model.js';
import { PaletteWorldModel } from '../../src/model/palette-world-model.js';
import type { PlanningModel } from '../../src/model/planning-model.js';
import { VQ_MODEL_DIR } from '../../src/model/spec.js';
import { WorldModel } from '../../src/model/world-model.js';
import { loadProfile } from '../../src/profile/load.js';
import { SimWorld } from '../../sim/world.js';

/*
 * A palette-patch model folder (spec.json version 2, palette_transformer.onnx and palette_pixels.onnx; the tiny untrained
 * graph of models/make_palette_test_model.py) behind the same planner path as the VQ model: the
 * model it opens, the cells it draws and the texts it writes are what torch computes on the same
 * prompts (expected-model.json), and OnnxPlanner makes a draft with it.
 */
const DIR = join(import.meta.dirname, 'palette-model');
const expected = JSON.parse(readFileSync(join(DIR, 'expected-model.json'), 'utf8')) as { robot: string; task: string; step: string; prefix: number[]; ar: number[]; dida2: number[]; text: number[] };
const start = Int32Array.from((JSON.parse(readFileSync(join(DIR, 'expected-keyframes.json'), 'utf8')) as { start: number[] }).start);

describe('palette-patch world model behind the planner', () => {
  let model: PlanningModel;
  beforeAll(async () => {
    model = await openWorldModel({ dir: DIR, threads: 1 });
  });
  afterAll(async () => {
    await model.close();
  });

  it('a version-2 folder opens as a palette model, as the shipped default does; models/vq opens as a VQ model', async () => {
    expect(model).toBeInstanceOf(PaletteWorldModel);
    expect((model as PaletteWorldModel).layout.keyframePrefix(expected.robot, expected.task, expected.step)).toEqual(expected.prefix);
    const shipped = await openWorldModel({ threads: 1 });
    const vq = await openWorldModel({ dir: VQ_MODEL_DIR, threads: 1 });
    try {
      expect(shipped).toBeInstanceOf(PaletteWorldModel);
      expect(vq).toBeInstanceOf(WorldModel);
    } finally {
      await Promise.all([shipped.close(), vq.close()]);
    }
  });

  it('draws the keyframe cells torch draws for a step, AR and DiDA', async () => {
    const ar = await model.keyframe(expected.robot, expected.task, start, expected.step, { sampler: 'ar', seed: 0 });
    expect(Array.from(ar)).toEqual(expected.ar);
    const passes: { pass: number; filled: number; codes: Int32Array }[] = [];
    const dida = await model.keyframe(expected.robot, expected.task, start, expected.step, { sampler: 'dida', seed: 0, passes: 2, onPass: (p) => passes.push(p) });
    expect(Array.from(dida)).toEqual(expected.dida2);
    // Each pass as it resolves (cosine schedule: 75 cells, then all): open cells show the start, the last pass is the keyframe.
    expect(passes.map((p) => [p.pass, p.filled])).toEqual([[0, Math.round(256 * (1 - Math.cos(Math.PI / 4)))], [1, 256]]);
    expect(Array.from(passes[1]!.codes)).toEqual(expected.dida2);
    expect(Array.from(passes[0]!.codes).filter((v, i) => v !== expected.dida2[i] && v !== start[i])).toEqual([]);
    // The fixture keeps some cells and draws others, so both paths of a cell are compared.
    expect(expected.ar.filter((v, i) => v !== start[i]).length).toBeGreaterThan(0);
    expect(expected.ar.filter((v, i) => v === start[i]).length).toBeGreaterThan(0);
  });

  it("draws DiDA keyframes with the passes its spec.json names when the caller names none", async () => {
    expect(model.didaPasses).toBe(2);
    const dir = mkdtempSync(join(tmpdir(), 'keystep-palette-passes-'));
    for (const f of ['palette_transformer.onnx', 'palette_pixels.onnx']) copyFileSync(join(DIR, f), join(dir, f));
    const spec = JSON.parse(readFileSync(join(DIR, 'spec.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'spec.json'), JSON.stringify({ ...spec, decoding: { passes: 1 } }));
    const onePass = await openWorldModel({ dir, threads: 1 });
    try {
      expect(onePass.didaPasses).toBe(1);
      const seen: number[] = [];
      const drawn = await onePass.keyframe(expected.robot, expected.task, start, expected.step, { sampler: 'dida', seed: 0, onPass: (p) => seen.push(p.passes) });
      expect(seen).toEqual([1]);
      const named = await model.keyframe(expected.robot, expected.task, start, expected.step, { sampler: 'dida', seed: 0, passes: 1 });
      expect(Array.from(drawn)).toEqual(Array.from(named));
    } finally {
      await onePass.close();
    }
  });

  it('varies which cells change: a keep prior moves every decision, a seeded temperature draws them', async () => {
    const draw = (o: { seed: number; keepBias?: number; temperature?: number }) => model.keyframe(expected.robot, expected.task, start, expected.step, { sampler: 'dida', passes: 1, ...o });
    const cellOf = (codes: ArrayLike<number>, c: number) => Array.from(codes).slice(c * 64, c * 64 + 64).join(',');
    const kept = await draw({ seed: 0, keepBias: 100 });
    expect(Array.from(kept)).toEqual(Array.from(start));
    const changed = await draw({ seed: 0, keepBias: -100 });
    const greedy = await draw({ seed: 0 });
    const sampled = [await draw({ seed: 1, temperature: 1 }), await draw({ seed: 2, temperature: 1 })];
    // One DiDA pass answers every cell at once, so each cell is either the start's or the drawn one.
    for (const codes of [greedy, ...sampled]) {
      for (let c = 0; c < 256; c++) expect([cellOf(start, c), cellOf(changed, c)]).toContain(cellOf(codes, c));
    }
    expect(Array.from(await draw({ seed: 1, temperature: 1 }))).toEqual(Array.from(sampled[0]!));
    expect(Array.from(sampled[0]!)).not.toEqual(Array.from(sampled[1]!));
    expect(Array.from(sampled[0]!)).not.toEqual(Array.from(greedy));
  });

  it('writes the step texts torch writes from the plan prompt, greedy over words, SEP and EOS', async () => {
    const texts = await model.stepTexts(expected.robot, expected.task, start, { seed: 0, maxTokens: expected.text.length });
    const layout = (model as PaletteWorldModel).layout;
    expect(texts).toEqual(layout.splitSteps(expected.text));
    expect(texts.length).toBeGreaterThan(0);
  });

  it('holds a camera frame as its palette cells and paints them back exactly', async () => {
    const profile = loadProfile('aloha-agilex');
    const world = new SimWorld({ profile, scene: 'tshirt', task: 'fold the t-shirt', seed: 100_003, missRate: 0 });
    const picture = await model.encodePicture(new Uint8Array(await world.observe()));
    expect(picture.codes).toHaveLength(256 * 64);
    expect(Math.max(...picture.codes)).toBeLessThan(34);
    const painted = await model.decodePicture(picture.codes);
    expect(Buffer.from(painted.rgb).equals(Buffer.from(picture.rgb))).toBe(true);
  });

  it('OnnxPlanner plans with it: step texts, one keyframe per step at the keyframe camera size', async () => {
    const profile = loadProfile('aloha-agilex');
    const world = new SimWorld({ profile, scene: 'tshirt', task: 'fold the t-shirt', seed: 100_004, missRate: 0 });
    const planner = new OnnxPlanner(model, { seed: 3, maxSteps: 3 });
    const draft = await planner.plan({ robot: profile, task: 'fold the t-shirt', observation: new Uint8Array(await world.observe()), history: [], version: 1 });
    expect(draft.steps.length).toBeGreaterThan(0);
    const size = keyframeSizeOf(profile);
    for (const step of draft.steps) {
      const meta = await sharp(step.keyframe).metadata();
      expect([meta.width, meta.height]).toEqual([size.width, size.height]);
    }
  });
});
