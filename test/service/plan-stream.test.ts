import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load.js';
import { PlanStreamFrame } from '../../src/service/plan-stream-frames.js';
import { SimWorld } from '../../sim/world.js';
import { MODEL_DIR } from '../model/fixtures.js';
import { collectEvents, startService, type TestService } from './service-client.js';

/** /v1/plans/stream over a real socket: the plan as it is written, ending with what POST /v1/plans answers. */
describe('WebSocket /v1/plans/stream with the embedded model', () => {
  let api: TestService;
  let observation: string;
  beforeAll(async () => {
    api = await startService({ runsDir: mkdtempSync(join(tmpdir(), 'keystep-serve-stream-')), model: { dir: MODEL_DIR } });
    const png = await new SimWorld({ profile: loadProfile('aloha-agilex'), scene: 'tshirt', task: 'fold the t-shirt', seed: 100_003, missRate: 0 }).observe();
    observation = Buffer.from(png).toString('base64');
  });
  afterAll(async () => {
    await api.close();
  });

  const stream = (first: string) =>
    new Promise<{ frames: PlanStreamFrame[]; code: number }>((resolve, reject) => {
      void collectEvents(`${api.ws}/v1/plans/stream`, { timeoutMs: 120_000, onOpen: (socket) => socket.send(first) }).then(
        ({ frames, code }) => resolve({ frames: frames.map((f) => PlanStreamFrame.parse(JSON.parse(f))), code }),
        reject,
      );
    });

  it('sends the step texts, every DiDA pass of each keyframe in order, each kept keyframe, then the plan POST /v1/plans answers', async () => {
    const request = { robot: 'aloha-agilex', task: 'fold the t-shirt', scene: 'tshirt', observation, sampling: { seed: 4 } };
    const { frames, code } = await stream(JSON.stringify(request));
    expect(code).toBe(1000);
    const last = frames.at(-1)!;
    if (last.type !== 'plan') throw new Error(`the stream ended with ${JSON.stringify(last).slice(0, 300)}`);
    const steps = last.plan.steps;
    expect(steps.length).toBeGreaterThan(0);

    // The texts come first, one frame per step, and are the plan's.
    const texts = frames.filter((f) => f.type === 'step');
    expect(frames.slice(0, texts.length)).toEqual(texts);
    expect(texts.map((f) => f.instruction)).toEqual(steps.map((s) => s.instruction));

    for (const step of steps) {
      const passes = frames.filter((f) => f.type === 'pass' && f.step === step.index);
      expect(passes.length).toBeGreaterThan(0);
      // Each draw's passes arrive in order, the cells filled growing to all of them.
      const draws = new Map<number, typeof passes>();
      for (const p of passes) if (p.type === 'pass') draws.set(p.draw, [...(draws.get(p.draw) ?? []), p]);
      for (const drawn of draws.values()) {
        expect(drawn.map((p) => (p.type === 'pass' ? p.pass : -1))).toEqual(drawn.map((_, i) => i));
        const filled = drawn.map((p) => (p.type === 'pass' ? p.filled : -1));
        expect(filled).toEqual([...filled].sort((a, b) => a - b));
        const end = drawn.at(-1)!;
        if (end.type === 'pass') expect(end.filled).toBe(end.cells);
      }
      // The kept keyframe follows its passes and is the last pass of one of its draws.
      const kept = frames.findIndex((f) => f.type === 'keyframe' && f.step === step.index);
      expect(kept).toBeGreaterThan(frames.lastIndexOf(passes.at(-1)!));
      const keyframe = frames[kept]!;
      if (keyframe.type !== 'keyframe') throw new Error('not a keyframe');
      expect(keyframe.keyframe).toBe(step.keyframe);
      const lastPasses = [...draws.values()].map((d) => d.at(-1)!).map((p) => (p.type === 'pass' ? p.picture : ''));
      expect(lastPasses).toContain(step.keyframe);
    }

    // The same plan as POST /v1/plans answers.
    const posted = await api.request('POST', '/v1/plans', { json: request });
    expect(posted.status).toBe(200);
    expect(posted.json.plan.steps).toEqual(steps);
    expect(posted.json.validation).toEqual(last.validation);
  });

  it('answers a bad first frame with an error frame naming the field, and a close', async () => {
    const notJson = await stream('{"robot":');
    expect(notJson.frames).toEqual([expect.objectContaining({ type: 'error', error: 'bad_request' })]);
    const badField = await stream(JSON.stringify({ robot: 'aloha-agilex', task: '', observation }));
    expect(badField.frames).toHaveLength(1);
    expect(badField.frames[0]).toMatchObject({ type: 'error', error: 'bad_request', issues: [{ path: 'body.task' }] });
    const unknownRobot = await stream(JSON.stringify({ robot: 'no-such-robot', task: 'fold the t-shirt', observation }));
    expect(unknownRobot.frames[0]).toMatchObject({ type: 'error', error: 'bad_request', issues: [{ path: 'body.robot' }] });
    expect((await api.request('GET', '/healthz')).status).toBe(200);
  });
});
