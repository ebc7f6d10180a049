import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load.js';
import { runTask } from '../../src/run/session.js';
import { SimRobot } from '../../sim/robot-node.js';
import { collectEvents, startService, type TestService } from './service-client.js';

const robots: SimRobot[] = [];
const services: TestService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
  await Promise.all(robots.splice(0).map((r) => r.close()));
});

async function simRobot(seed: number, stepMs: number): Promise<SimRobot> {
  const robot = await SimRobot.start({ profile: loadProfile('aloha-agilex'), scene: 'tshirt', task: 'fold the t-shirt', seed, missRate: 0.15, port: 0, stepMs });
  robots.push(robot);
  return robot;
}

async function service(runsDir: string): Promise<TestService> {
  const s = await startService({ runsDir, model: null });
  services.push(s);
  return s;
}

const seqs = (frames: string[]) => frames.map((f) => (JSON.parse(f) as { seq: number }).seq);

describe('runs through the service, against keystep sim', () => {
  it('runs a T-shirt fold with the oracle; the WebSocket streams exactly the records of events.jsonl, resumable with since', async () => {
    const robot = await simRobot(3, 60);
    const runsDir = mkdtempSync(join(tmpdir(), 'keystep-serve-runs-'));
    const api = await service(runsDir);
    const started = await api.request('POST', '/v1/runs', { json: { robot: 'aloha-agilex', task: 'fold the t-shirt', rosbridge: robot.url, backend: 'oracle', runId: 'fold-1' } });
    expect(started.status).toBe(201);
    expect(started.json).toMatchObject({ runId: 'fold-1', state: 'running', robot: 'aloha-agilex', backend: 'oracle' });

    // Watch a few records live, drop the connection, and go on from the next sequence number.
    const first = await collectEvents(`${api.ws}/v1/runs/fold-1/events`, { stopAfter: 4 });
    const next = seqs(first.frames).at(-1)! + 1;
    const rest = await collectEvents(`${api.ws}/v1/runs/fold-1/events?since=${next}`);
    expect(rest).toMatchObject({ code: 1000, reason: 'finished' });

    const log = await api.request('GET', '/v1/runs/fold-1/events.jsonl');
    expect(log.text).toBe(readFileSync(join(runsDir, 'fold-1', 'events.jsonl'), 'utf8'));
    const lines = log.text.trimEnd().split('\n');
    const streamed = [...first.frames, ...rest.frames];
    expect(streamed).toEqual(lines);
    expect(seqs(streamed)).toEqual(lines.map((_, i) => i));
    expect(JSON.parse(streamed.at(-1)!)).toMatchObject({ type: 'finished', report: { outcome: 'succeeded' } });

    const detail = await api.request('GET', '/v1/runs/fold-1');
    expect(detail.json).toMatchObject({ run: { runId: 'fold-1', state: 'finished', outcome: 'succeeded' }, report: { runId: 'fold-1', outcome: 'succeeded' } });
    expect(detail.json.progress.steps.filter((s: { status: string }) => s.status === 'done')).toHaveLength(7);
    expect(robot.world.isGoal()).toBe(true);

    // After the end: a stream from any point sends what is left and closes.
    const tail = await collectEvents(`${api.ws}/v1/runs/fold-1/events?since=${lines.length - 2}`);
    expect(tail).toMatchObject({ frames: lines.slice(-2), code: 1000 });
    expect(await collectEvents(`${api.ws}/v1/runs/fold-1/events?since=100000`)).toMatchObject({ frames: [], code: 1000 });

    // The files the log names are served from the run directory.
    const keyframe = JSON.parse(lines.find((l) => l.includes('"step_dispatched"'))!) as { keyframe: string };
    const png = await fetch(`${api.base}/v1/runs/fold-1/files/${keyframe.keyframe}`);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await png.arrayBuffer()).equals(readFileSync(join(runsDir, 'fold-1', keyframe.keyframe)))).toBe(true);
  });

  it('lists the runs it finds after a restart, and resumes an interrupted one to the end without doing a step twice', async () => {
    const robot = await simRobot(5, 20);
    const runsDir = mkdtempSync(join(tmpdir(), 'keystep-serve-restart-'));
    // A run whose process died after its third step: the log stops there, with no `finished`.
    let done = 0;
    await expect(
      runTask({
        url: robot.url,
        profile: loadProfile('aloha-agilex'),
        task: 'fold the t-shirt',
        backend: 'oracle',
        runId: 'cut-short',
        runsDir,
        onRecord: (r) => {
          if (r.event.type === 'step_feedback' && r.event.status === 'done' && ++done === 3) throw new Error('killed');
        },
      }),
    ).rejects.toThrow();
    const api = await service(runsDir);
    const listed = await api.request('GET', '/v1/runs');
    expect(listed.json.runs).toEqual([expect.objectContaining({ runId: 'cut-short', state: 'interrupted', robot: 'aloha-agilex', backend: 'oracle' })]);

    const resumed = await api.request('POST', '/v1/runs/cut-short/resume', { json: { rosbridge: robot.url } });
    expect(resumed.status).toBe(202);
    const stream = await collectEvents(`${api.ws}/v1/runs/cut-short/events`);
    const events = stream.frames.map((f) => JSON.parse(f) as { type: string; report?: { outcome: string } });
    expect(events.map((e) => e.type)).toContain('run_resumed');
    expect(events.at(-1)).toMatchObject({ type: 'finished', report: { outcome: 'succeeded' } });
    // The robot acted on each step id once (a re-sent id is answered as a duplicate, not redone).
    const executed = robot.world.history.map((h) => h.stepId);
    expect(new Set(executed).size).toBe(executed.length);
    expect(robot.world.isGoal()).toBe(true);

    // A second service on the same directory sees the finished run, and refuses to start it again.
    await api.close();
    services.splice(services.indexOf(api), 1);
    const again = await service(runsDir);
    expect((await again.request('GET', '/v1/runs/cut-short')).json.run).toMatchObject({ state: 'finished', outcome: 'succeeded' });
    const twice = await again.request('POST', '/v1/runs', { json: { robot: 'aloha-agilex', task: 'fold the t-shirt', rosbridge: robot.url, backend: 'oracle', runId: 'cut-short' } });
    expect(twice.status).toBe(409);
    expect(twice.json.issues).toEqual([{ path: 'body.runId', message: 'already exists' }]);
  });

  it('runs oracle-pal without an embedded model, as the oracle', async () => {
    const robot = await simRobot(4, 20);
    const api = await service(mkdtempSync(join(tmpdir(), 'keystep-serve-pal-')));
    const started = await api.request('POST', '/v1/runs', { json: { robot: 'aloha-agilex', task: 'fold the t-shirt', rosbridge: robot.url, backend: 'oracle-pal', runId: 'pal-1' } });
    expect(started.status, started.text).toBe(201);
    const stream = await collectEvents(`${api.ws}/v1/runs/pal-1/events`, { timeoutMs: 60_000 });
    expect(JSON.parse(stream.frames.at(-1)!)).toMatchObject({ type: 'finished', report: { outcome: 'succeeded' } });
  });

  it('aborts a run: the step in flight is cancelled on the robot and the run ends as aborted', async () => {
    const robot = await simRobot(2, 600);
    const api = await service(mkdtempSync(join(tmpdir(), 'keystep-serve-abort-')));
    expect((await api.request('POST', '/v1/runs', { json: { robot: 'aloha-agilex', task: 'fold the t-shirt', rosbridge: robot.url, backend: 'oracle', runId: 'stop-me' } })).status).toBe(201);
    await collectEvents(`${api.ws}/v1/runs/stop-me/events`, { stopWhen: (f) => f.includes('"step_dispatched"') });
    const aborted = await api.request('POST', '/v1/runs/stop-me/abort');
    expect(aborted.status).toBe(202);
    const stream = await collectEvents(`${api.ws}/v1/runs/stop-me/events`);
    expect(JSON.parse(stream.frames.at(-1)!)).toMatchObject({ type: 'finished', report: { outcome: 'aborted' } });
    expect((await api.request('POST', '/v1/runs/stop-me/abort')).status).toBe(409);
  });

  it('answers 502 naming body.rosbridge when the robot cannot be reached, and leaves no run behind', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const runsDir = mkdtempSync(join(tmpdir(), 'keystep-serve-norobot-'));
    const api = await service(runsDir);
    const response = await api.request('POST', '/v1/runs', {
      json: { robot: 'aloha-agilex', task: 'fold the t-shirt', rosbridge: `ws://127.0.0.1:${port}`, backend: 'oracle', runId: 'nobody', limits: { connectTimeoutMs: 300 } },
    });
    expect(response.status).toBe(502);
    expect(response.json.issues[0].path).toBe('body.rosbridge');
    expect(existsSync(join(runsDir, 'nobody'))).toBe(false);
    expect((await api.request('GET', '/v1/runs')).json.runs).toEqual([]);
  });
});
