import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxPlanner } from '../../src/model/onnx-planner.js';
import { WorldModel } from '../../src/model/world-model.js';
import type { PlanRequest } from '../../src/planner/planner.js';
import { heldOutShirt, MODEL_DIR } from './fixtures.js';

describe('onnx planner on the committed model', () => {
  let model: WorldModel;
  const shirt = heldOutShirt();
  const request = (version: number): PlanRequest => ({
    robot: shirt.profile,
    task: 'fold the t-shirt',
    scene: 'tshirt',
    observation: new TextEncoder().encode(shirt.observationSvg),
    history: [],
    version,
  });
  const summary = (steps: { instruction: string; keyframe: Uint8Array }[]) => steps.map((s) => `${s.instruction}:${Buffer.from(s.keyframe).toString('base64')}`);

  beforeAll(async () => {
    model = await WorldModel.open({ dir: MODEL_DIR, threads: 1 });
  });
  afterAll(async () => {
    await model.close();
  });

  it('writes the same first draft for the same request and seed, with a PNG keyframe per step', async () => {
    const a = await new OnnxPlanner(model, { seed: 4, maxSteps: 3 }).plan(request(1));
    const b = await new OnnxPlanner(model, { seed: 4, maxSteps: 3 }).plan(request(1));
    expect(a.steps.length).toBeGreaterThan(0);
    expect(summary(a.steps)).toEqual(summary(b.steps));
    for (const s of a.steps) expect(Buffer.from(s.keyframe.subarray(1, 4)).toString()).toBe('PNG');
  });

  it('draws a retry differently from the refused draft, reproducibly', async () => {
    const planner = new OnnxPlanner(model, { seed: 4, maxSteps: 3 });
    const first = await planner.plan(request(1));
    const retry = await planner.plan({ ...request(1), rejected: [{ code: 'x', severity: 'error', step: 0, message: 'refused' }] as never });
    expect(summary(retry.steps)).not.toEqual(summary(first.steps));
    // The same sequence of drafts from a fresh planner gives the same retry.
    const again = new OnnxPlanner(model, { seed: 4, maxSteps: 3 });
    await again.plan(request(1));
    const retryAgain = await again.plan(request(1));
    expect(summary(retryAgain.steps)).toEqual(summary(retry.steps));
    // retryTemperature 0 keeps every draft greedy.
    const greedy = new OnnxPlanner(model, { seed: 4, maxSteps: 3, retryTemperature: 0 });
    const g1 = await greedy.plan(request(1));
    const g2 = await greedy.plan(request(1));
    expect(summary(g2.steps)).toEqual(summary(g1.steps));
  });
});
