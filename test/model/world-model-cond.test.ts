import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/model/model-error.js';
import { WorldModel } from '../../src/model/world-model.js';
import { heldOutShirt, MODEL_DIR } from './fixtures.js';

const ROBOT = 'aloha-agilex';
const TASK = 'fold the t-shirt';
const COND_MODEL = join(import.meta.dirname, 'cond-model');

/**
 * A model directory: the committed tokenizer and spec.json, with `transformer` (a directory holding a
 * transformer.onnx and its transformer.json shape) and `condInput` as given.
 */
function modelDir(transformer: string, condInput: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'keystep-cond-'));
  for (const f of ['vq_encoder.onnx', 'vq_decoder.onnx']) copyFileSync(join(MODEL_DIR, f), join(dir, f));
  copyFileSync(join(transformer, 'transformer.onnx'), join(dir, 'transformer.onnx'));
  const spec = JSON.parse(readFileSync(join(MODEL_DIR, 'spec.json'), 'utf8'));
  const shape = transformer === MODEL_DIR ? spec.transformer : JSON.parse(readFileSync(join(transformer, 'transformer.json'), 'utf8'));
  writeFileSync(join(dir, 'spec.json'), JSON.stringify({ ...spec, transformer: { ...shape, condInput } }));
  return dir;
}

// The fixture (models/make_cond_test_model.py) answers every position with the conditioning token it
// is fed, so a keyframe equals its starting picture exactly when cond_ids reach the cell each
// position predicts: AR's one-token shift wrong, or the input not fed, and the keyframe differs.
describe('transformer with the conditioning input (cond_ids)', () => {
  const shirt = heldOutShirt();
  const dirs: string[] = [];
  let model: WorldModel;
  let start: Int32Array;

  beforeAll(async () => {
    dirs.push(modelDir(COND_MODEL, true));
    model = await WorldModel.open({ dir: dirs[0]!, threads: 1 });
    start = await model.encodeImage(shirt.observationSvg);
  });
  afterAll(async () => {
    await model.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('DiDA: every position gets the starting picture token of its own cell', async () => {
    for (const passes of [1, 2]) {
      const codes = await model.keyframe(ROBOT, TASK, start, shirt.steps[0]!.instruction, { sampler: 'dida', seed: 0, passes });
      expect(Array.from(codes)).toEqual(Array.from(start));
    }
  });

  it('AR: each position gets the token of the next cell, <|image start|> the first', async () => {
    const codes = await model.keyframe(ROBOT, TASK, start, shirt.steps[0]!.instruction, { sampler: 'ar', seed: 0 });
    expect(Array.from(codes)).toEqual(Array.from(start));
  });

  it('follows the starting picture it is given (a previous keyframe, not the observation)', async () => {
    const other = Int32Array.from(start, (c, i) => (i % 3 === 0 ? (c + 17) % model.layout.spec.codes : c));
    for (const sampler of ['dida', 'ar'] as const) {
      const codes = await model.keyframe(ROBOT, TASK, other, shirt.steps[1]!.instruction, { sampler, seed: 0 });
      expect(Array.from(codes)).toEqual(Array.from(other));
    }
  });

  it('refuses a spec.json that disagrees with the graph, naming the file and the fix', async () => {
    // Each graph paired with the other answer: the fixture takes cond_ids, and the committed export's
    // spec.json is flipped, whichever way this export was trained.
    const committed = JSON.parse(readFileSync(join(MODEL_DIR, 'spec.json'), 'utf8')).transformer.condInput === true;
    dirs.push(modelDir(COND_MODEL, false), modelDir(MODEL_DIR, !committed));
    for (const dir of dirs.slice(1)) {
      const error = await WorldModel.open({ dir, threads: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelError);
      expect((error as Error).message).toMatch(/transformer\.onnx .*cond_ids but spec\.json transformer\.condInput is .*one models\/train\.py run/);
    }
  });
});
