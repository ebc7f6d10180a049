import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunEvent } from '../../src/executor/run-event.js';
import type { PlanRequest, Planner } from '../../src/planner/planner.js';
import { loadProfile } from '../../src/profile/load.js';
import { runTask } from '../../src/run/session.js';
import { SimRobot } from '../../sim/robot-node.js';
import { startService, type TestService } from './service-client.js';

const profile = loadProfile('aloha-agilex');
const robots: SimRobot[] = [];
const services: TestService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
  await Promise.all(robots.splice(0).map((r) => r.close()));
});

/** A sim robot, and what arrived on its step and keyframe topics (execute commands and cancels alike). */
async function simRobot(seed: number, missRate = 0): Promise<{ robot: SimRobot; received: { commands: number; keyframes: number } }> {
  const robot = await SimRobot.start({ profile, scene: 'tshirt', task: 'fold the t-shirt', seed, missRate, port: 0, stepMs: 20 });
  robots.push(robot);
  const received = { commands: 0, keyframes: 0 };
  robot.server.subscribe(profile.ros.stepCommand.name, profile.ros.stepCommand.type, () => received.commands++);
  robot.server.subscribe(profile.ros.keyframe.name, profile.ros.keyframe.type, () => received.keyframes++);
  return { robot, received };
}

/** The service, its runs planning through a spy that keeps every plan request (the history included). */
async function service(requests: PlanRequest[] = []): Promise<TestService> {
  const spy = (planner: Planner): Planner => ({ name: planner.name, plan: (r) => (requests.push(r), planner.plan(r)) });
  const s = await startService({ runsDir: mkdtempSync(join(tmpdir(), 'keystep-serve-approve-')), model: null, launch: (o) => runTask({ ...o, wrapPlanner: spy }) });
  services.push(s);
  return s;
}

/**
 * Watches a run's events as an operator would: `decide` is called for every approval request, after
 * the frames before it arrived; the promise ends with every event once the run finished.
 */
function operate(api: TestService, runId: string, decide: (request: Extract<RunEvent, { type: 'approval_requested' }>, seen: RunEvent[]) => Promise<void>): Promise<RunEvent[]> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${api.ws}/v1/runs/${runId}/events`);
    const seen: RunEvent[] = [];
    let chain = Promise.resolve();
    socket.on('message', (data) => {
      const e = JSON.parse(String(data)) as RunEvent;
      seen.push(e);
      if (e.type === 'approval_requested') chain = chain.then(() => decide(e, [...seen])).catch(reject);
    });
    socket.on('close', () => void chain.then(() => resolve(seen)));
    socket.on('error', reject);
  });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const count = (events: RunEvent[], type: RunEvent['type']) => events.filter((e) => e.type === type).length;

describe('autonomy through the service, against keystep sim', () => {
  it('approve-plan: nothing reaches the robot before the plan is approved; approved, the fold runs to the end', async () => {
    const { robot, received } = await simRobot(7);
    const api = await service();
    const started = await api.request('POST', '/v1/runs', { json: { robot: 'aloha-agilex', task: 'fold the t-shirt', rosbridge: robot.url, backend: 'oracle', runId: 'gate-plan', autonomy: 'approve-plan' } });
    expect(started.status).toBe(201);
    const events = await operate(api, 'gate-plan', async (request, seen) => {
      // Give a wrongly sent step time to arrive before counting.
      await pause(300);
      expect(received.commands).toBe(count(seen, 'step_dispatched'));
      expect(received.keyframes).toBe(count(seen, 'step_dispatched'));
      const detail = await api.request('GET', '/v1/runs/gate-plan');
      expect(detail.json.run).toMatchObject({ state: 'running', waiting: 'approval' });
      expect(detail.json.approval).toMatchObject({ scope: 'plan', planVersion: request.planVersion, steps: request.steps });
      expect((await api.request('POST', '/v1/runs/gate-plan/approve')).status).toBe(202);
    });
    const first = events.findIndex((e) => e.type === 'approval_requested');
    expect(first).toBeGreaterThan(0);
    expect(events.findIndex((e) => e.type === 'step_dispatched')).toBeGreaterThan(first);
    expect(events.at(-1)).toMatchObject({ type: 'finished', report: { outcome: 'succeeded', approvals: { autonomy: 'approve-plan' } } });
    expect(robot.world.isGoal()).toBe(true);
    // Approve when nothing waits: 409.
    expect((await api.request('POST', '/v1/runs/gate-plan/approve')).status).toBe(409);
  });

  it('approve-step: every step waits for its approval; the robot receives one step per approval', async () => {
    const { robot, received } = await simRobot(8);
    const api = await service();
    await api.request('POST', '/v1/runs', { json: { robot: 'aloha-agilex', task: 'fold the t-shirt', rosbridge: robot.url, backend: 'oracle', runId: 'gate-step', autonomy: 'approve-step' } });
    let approvals = 0;
    const events = await operate(api, 'gate-step', async (request, seen) => {
      await pause(100);
      expect(received.commands).toBe(approvals);
      expect(count(seen, 'step_dispatched')).toBe(approvals);
      expect(request.steps).toHaveLength(1);
      approvals++;
      expect((await api.request('POST', '/v1/runs/gate-step/approve')).status).toBe(202);
    });
    expect(events.at(-1)).toMatchObject({ type: 'finished', report: { outcome: 'succeeded' } });
    expect(approvals).toBe(count(events, 'step_dispatched'));
    expect(approvals).toBeGreaterThanOrEqual(7);
    expect(robot.world.isGoal()).toBe(true);
  });

  it('reject replans with the note in the next plan request\'s history; reject with abort ends the run with nothing sent', async () => {
    const { robot, received } = await simRobot(9);
    const requests: PlanRequest[] = [];
    const api = await service(requests);
    await api.request('POST', '/v1/runs', { json: { robot: 'aloha-agilex', task: 'fold the t-shirt', rosbridge: robot.url, backend: 'oracle', runId: 'say-no', autonomy: 'approve-plan' } });
    let answered = 0;
    const events = await operate(api, 'say-no', async () => {
      const body = answered++ === 0 ? { note: 'flatten the shirt before folding' } : { note: 'not today', abort: true };
      expect((await api.request('POST', '/v1/runs/say-no/reject', { json: body })).status).toBe(202);
    });
    expect(received.commands).toBe(0);
    expect(requests).toHaveLength(2);
    expect(requests[1]!.history).toEqual([
      expect.objectContaining({ stepIndex: 0, attempt: 0, status: 'rejected', reason: 'plan v1 rejected by the operator: flatten the shirt before folding' }),
    ]);
    expect(events.filter((e) => e.type === 'approval_refused')).toMatchObject([{ note: 'flatten the shirt before folding', abort: false }, { note: 'not today', abort: true }]);
    expect(events.at(-1)).toMatchObject({ type: 'finished', report: { outcome: 'aborted', reason: 'plan v2 rejected by the operator: not today', replans: 1 } });
    const bad = await api.request('POST', '/v1/runs/say-no/reject', { json: { note: 7 } });
    expect(bad.status).toBe(400);
    expect(bad.json.issues[0].path).toBe('body.note');
  });

  it('pause holds the run before its next dispatch and resume lets it go on; resume without rosbridge of a run not running is a 400', async () => {
    const { robot, received } = await simRobot(10);
    const api = await service();
    await api.request('POST', '/v1/runs', { json: { robot: 'aloha-agilex', task: 'fold the t-shirt', rosbridge: robot.url, backend: 'oracle', runId: 'hold-on' } });
    const paused = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(`${api.ws}/v1/runs/hold-on/events`);
      socket.on('message', (data) => {
        if (String(data).includes('"step_dispatched"')) {
          socket.close();
          void api.request('POST', '/v1/runs/hold-on/pause').then((r) => resolve(r.status), reject);
        }
      });
    });
    expect(paused).toBe(202);
    await pause(500);
    const held = await api.request('GET', '/v1/runs/hold-on');
    expect(held.json.run).toMatchObject({ state: 'running', waiting: 'paused' });
    const sent = received.commands;
    await pause(300);
    expect(received.commands).toBe(sent);
    expect((await api.request('POST', '/v1/runs/hold-on/pause')).status).toBe(409);
    expect((await api.request('POST', '/v1/runs/hold-on/resume', { json: {} })).status).toBe(202);
    const events = await operate(api, 'hold-on', async () => undefined);
    expect(events.at(-1)).toMatchObject({ type: 'finished', report: { outcome: 'succeeded' } });
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['paused', 'resumed']));
    expect((await api.request('POST', '/v1/runs/hold-on/resume', { json: {} })).status).toBe(400);
    expect((await api.request('POST', '/v1/runs/hold-on/pause')).status).toBe(409);
  });
});
