import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { loadProfile } from '../../src/profile/load.js';
import { issue } from '../../src/schema/plan-issue.js';
import { sceneSvg, viewOf } from '../../src/scenes/view.js';
import { sceneById } from '../../src/scenes/registry.js';
import { WorkerPlanner } from '../../src/service/worker-planner.js';
import { WORKER_PROTOCOL, WorkerPlanRequest } from '../../src/service/worker-protocol.js';
import { Rng } from '../../src/util/rng.js';
import { svgToPng } from '../../sim/render.js';

/*
 * What the service sends a model worker with a plan request: the request's seed, and on a retry the
 * draft keystep's validator refused with its issues. A scripted worker on loopback (the edge of this
 * test) records the frames; the planner, the socket and the schemas are the real ones.
 */
describe('plan requests to a model worker', () => {
  let server: WebSocketServer | undefined;
  afterEach(async () => {
    for (const c of server?.clients ?? []) c.terminate();
    await new Promise((r) => server?.close(r));
  });

  it('carry the seed, and the refused draft with its issues on a retry', async () => {
    const frames: unknown[] = [];
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    server.on('connection', (socket) => {
      socket.send(JSON.stringify({ type: 'metadata', protocol: WORKER_PROTOCOL, model: { name: 'scripted', grid: 16, picture: { width: 128, height: 128 } } }));
      socket.on('message', (data) => {
        const frame = JSON.parse(String(data)) as { id: string };
        frames.push(frame);
        socket.send(JSON.stringify({ type: 'done', id: frame.id, steps: 0 }));
      });
    });
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const worker = new WorkerPlanner(`ws://127.0.0.1:${port}`);
    const profile = loadProfile('aloha-agilex');
    const shirt = sceneById('tshirt');
    const camera = profile.cameras.find((c) => c.name === profile.keyframeCamera)!;
    const observation = new Uint8Array(await svgToPng(sceneSvg(shirt, shirt.initial(profile, new Rng(5).fork('layout')), viewOf(camera), camera.resolution)));
    const base = { robot: profile, task: 'fold the t-shirt', observation, history: [] };
    try {
      await worker.withSeed(7).plan({ ...base, version: 1 });
      const previous = { id: 'd', version: 1, backend: 'worker', createdAt: new Date().toISOString(), steps: [{ index: 0, instruction: 'tidy the collar', keyframe: observation }, { index: 1, instruction: 'fold the left sleeve with the left arm', keyframe: observation }] };
      const rejected = [issue('wrong_target', 1, 'step 1: the keyframe shows the wrong sleeve')];
      await worker.withSeed(8).plan({ ...base, version: 1, previous, rejected });
    } finally {
      await worker.close();
    }
    const [first, retry] = frames.map((f) => WorkerPlanRequest.parse(f));
    expect(first!.seed).toBe(7);
    expect(first!.refused).toBeUndefined();
    expect(retry!.seed).toBe(8);
    expect(retry!.refused).toEqual({ steps: ['tidy the collar', 'fold the left sleeve with the left arm'], issues: [{ code: 'wrong_target', step: 1, message: 'step 1: the keyframe shows the wrong sleeve', severity: 'error' }] });
  });
});
