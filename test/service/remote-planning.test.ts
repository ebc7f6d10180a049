import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { RunLog } from '../../src/executor/index.js';
import { loadProfile } from '../../src/profile/load.js';
import { OnnxPlanner } from '../../src/model/onnx-planner.js';
import { WorldModel } from '../../src/model/world-model.js';
import type { PlanDraft } from '../../src/planner/planner.js';
import { RemotePlanner } from '../../src/planner/remote-planner.js';
import type { PlanIssue } from '../../src/schema/index.js';
import { keyframeGate, stepSubject, textGate } from '../../src/validate/index.js';
import { SimRobot } from '../../sim/robot-node.js';
import { SimWorld } from '../../sim/world.js';
import { cli } from '../helpers/cli.js';
import { MODEL_DIR } from '../model/fixtures.js';
import { startService, type TestService } from './service-client.js';

const robots: SimRobot[] = [];
const services: TestService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
  await Promise.all(robots.splice(0).map((r) => r.close()));
});

async function simRobot(seed: number, missRate: number): Promise<SimRobot> {
  const robot = await SimRobot.start({ profile: loadProfile('aloha-agilex'), scene: 'tshirt', task: 'fold the t-shirt', seed, missRate, port: 0, stepMs: 20 });
  robots.push(robot);
  return robot;
}

async function service(token?: string): Promise<TestService> {
  const s = await startService({ runsDir: mkdtempSync(join(tmpdir(), 'keystep-serve-remote-')), model: { dir: MODEL_DIR }, ...(token ? { token } : {}) });
  services.push(s);
  return s;
}

const eventsOf = (runs: string, id: string) => RunLog.open(runs, id).readEvents().events;

describe('keystep run --planner: the executor here, the planning in keystep serve', () => {
  it('folds the T-shirt against keystep sim with the service planning on the embedded model, its token from --planner-token-file', async () => {
    const robot = await simRobot(100_001, 0);
    const api = await service('s3cret-token');
    const runs = mkdtempSync(join(tmpdir(), 'keystep-remote-runs-'));
    const tokenFile = join(runs, 'token');
    writeFileSync(tokenFile, 's3cret-token\n');
    const r = await cli('run', '--robot', 'aloha-agilex', '--task', 'fold the t-shirt', '--rosbridge', robot.url, '--planner', api.base, '--planner-token-file', tokenFile, '--runs', runs, '--run-id', 'remote-fold');
    expect(r.code, `${r.out}\n${r.err}`).toBe(0);
    expect(robot.world.isGoal()).toBe(true);
    const events = eventsOf(runs, 'remote-fold');
    const plans = events.filter((e) => e.type === 'plan_created');
    expect(plans.length).toBeGreaterThan(0);
    for (const p of plans) expect(p.type === 'plan_created' && p.plan.backend).toBe('remote:onnx');
    // Validated here before anything was sent: every dispatch follows an accepted plan_validated.
    expect(events.findIndex((e) => e.type === 'plan_validated' && e.ok)).toBeLessThan(events.findIndex((e) => e.type === 'step_dispatched'));
    const ready = await api.request('GET', '/readyz');
    expect(ready.json.devices[0].served).toBe(plans.length);
    // No token: the service refuses, and the run says what to give.
    const robot2 = await simRobot(100_001, 0);
    const refused = await cli('run', '--robot', 'aloha-agilex', '--task', 'fold the t-shirt', '--rosbridge', robot2.url, '--planner', api.base, '--runs', runs, '--run-id', 'no-token');
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('answered 401');
    expect(refused.out).toContain('--planner-token-file');
  }, 300_000);

  it('a redraw sends the refused draft and its issues: the service repairs it exactly as the planner does in-process', async () => {
    const api = await service();
    const profile = loadProfile('aloha-agilex');
    const observation = new Uint8Array(await new SimWorld({ profile, scene: 'tshirt', task: 'fold the t-shirt', seed: 100_005, missRate: 0 }).observe());
    const remote = new RemotePlanner({ url: api.base, seed: 9 });
    const base = { robot: profile, task: 'fold the t-shirt', scene: 'tshirt' as const, observation, history: [] };
    const first = await remote.plan({ ...base, version: 1 });
    expect(first.steps.length).toBeGreaterThan(3);
    // The robot's validator refused the draft's last keyframe: the next draft keeps the steps before it.
    const last = first.steps.length - 1;
    const rejected: PlanIssue[] = [{ code: 'keyframe_unchanged', severity: 'error', step: last, message: 'the keyframe shows no change' }];
    const redraw = { ...base, version: 2, rejected, previous: first };
    const t0 = performance.now();
    const repaired = await remote.plan(redraw);
    console.log(`repair through the service: ${Math.round(performance.now() - t0)} ms`);

    const model = await WorldModel.open({ dir: MODEL_DIR, threads: 1 });
    let local: PlanDraft;
    try {
      local = await new OnnxPlanner(model, { seed: 9, check: keyframeGate(), textCheck: textGate(), stepSubject }).plan(redraw);
    } finally {
      await model.close();
    }
    // Pixels as digests: toEqual on 900 KB buffers takes a minute.
    const pixels = async (png: Uint8Array) => createHash('sha256').update(await sharp(png).raw().toBuffer()).digest('hex');
    const picturesOf = (draft: PlanDraft) => Promise.all(draft.steps.map((s) => pixels(s.keyframe)));
    expect(repaired.steps.map((s) => s.instruction)).toEqual(local.steps.map((s) => s.instruction));
    expect(await picturesOf(repaired)).toEqual(await picturesOf(local));
    // The kept steps are the refused draft's own, keyframes included.
    expect(repaired.steps.slice(0, last).map((s) => s.instruction)).toEqual(first.steps.slice(0, last).map((s) => s.instruction));
    expect((await picturesOf(repaired)).slice(0, last)).toEqual((await picturesOf(first)).slice(0, last));

    // A refused draft whose keyframe is no picture is refused, naming it.
    const bad = await api.request('POST', '/v1/plans', {
      json: { robot: 'aloha-agilex', task: 'fold the t-shirt', observation: Buffer.from(observation).toString('base64'), version: 2, refused: { issues: rejected, steps: [{ index: 0, instruction: 'tidy the collar', keyframe: 'aGVsbG8=' }] } },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.issues).toEqual([{ path: 'body.refused.steps[0].keyframe', message: 'not a PNG or JPEG picture' }]);
    const empty = await api.request('POST', '/v1/plans', {
      json: { robot: 'aloha-agilex', task: 'fold the t-shirt', observation: Buffer.from(observation).toString('base64'), refused: { issues: [], steps: [] } },
    });
    expect(empty.status).toBe(400);
    expect(empty.json.issues.map((i: { path: string }) => i.path).sort()).toEqual(['body.refused.issues', 'body.refused.steps']);
  }, 120_000);

  it('keystep rollout --planner plans its episodes through the service: the same episodes as planned in-process', async () => {
    const api = await service();
    const args = ['rollout', '--robot', 'aloha-agilex', '--scene', 'tshirt', '--episodes', '2', '--seed', '100000', '--json'];
    const remoteRuns = mkdtempSync(join(tmpdir(), 'keystep-remote-rollout-'));
    const remote = await cli(...args, '--planner', api.base, '--runs', remoteRuns);
    expect(remote.code, remote.err).toBe(0);
    const local = await cli(...args, '--model', MODEL_DIR, '--runs', mkdtempSync(join(tmpdir(), 'keystep-local-rollout-')));
    expect(local.code, local.err).toBe(0);
    const figures = (out: string) => {
      const { episodes, successes, steps, misses, replans } = JSON.parse(out) as Record<string, number>;
      return { episodes, successes, steps, misses, replans };
    };
    expect(figures(remote.out)).toEqual(figures(local.out));
    expect(figures(remote.out).episodes).toBe(2);
    // Every plan of both episodes came from the service.
    const [rolloutDir] = readdirSync(remoteRuns);
    const plans = ['ep0000', 'ep0001'].flatMap((ep) => eventsOf(join(remoteRuns, rolloutDir!), ep).filter((e) => e.type === 'plan_created'));
    expect(plans.length).toBeGreaterThanOrEqual(2);
    for (const p of plans) expect(p.type === 'plan_created' && p.plan.backend).toBe('remote:onnx');
    // The record says who planned, not decoding options this process never used.
    const { options } = JSON.parse(readFileSync(join(remoteRuns, rolloutDir!, 'summary.json'), 'utf8')) as { options: Record<string, unknown> };
    expect(options.plannedBy).toBe(`keystep serve at ${api.base}`);
    expect(options).not.toHaveProperty('sampler');
    expect((await api.request('GET', '/readyz')).json.devices[0].served).toBe(plans.length);

    // Flags for planning here do not go with --planner.
    for (const flag of [['--backend', 'oracle'], ['--queue', 'redis://127.0.0.1:6379'], ['--missed-draws', '4']]) {
      const refused = await cli(...args, '--planner', api.base, ...flag);
      expect(refused.code, flag[0]).toBe(2);
      expect(refused.err).toContain(`${flag[0]} is for planning in this process`);
    }
  }, 300_000);

  it('keystep demo --planner plans the demo fold through the service', async () => {
    const api = await service();
    const runs = mkdtempSync(join(tmpdir(), 'keystep-remote-demo-'));
    const demo = await cli('demo', '--planner', api.base, '--miss-rate', '0', '--seed', '3', '--runs', runs);
    // 0 = folded, 1 = not: the model's success rate is the rollouts' to measure; the plans came from the service.
    expect([0, 1], demo.err).toContain(demo.code);
    expect(demo.out).toContain(`planner backend: keystep serve at ${api.base}`);
    expect((await api.request('GET', '/readyz')).json.devices[0].served).toBeGreaterThan(0);
  }, 300_000);

  it('a service stopped mid-run is a planner error in the report: the run fails cleanly, nothing crashes', async () => {
    // Every step misses, so the run must plan again after its first step: by then the service is gone.
    const robot = await simRobot(100_002, 1);
    const api = await service();
    const runs = mkdtempSync(join(tmpdir(), 'keystep-remote-lost-'));
    const running = cli('run', '--robot', 'aloha-agilex', '--task', 'fold the t-shirt', '--rosbridge', robot.url, '--planner', api.base, '--runs', runs, '--run-id', 'lost');
    const log = join(runs, 'lost', 'events.jsonl');
    while (!(existsSync(log) && readFileSync(log, 'utf8').includes('"step_dispatched"'))) await new Promise((r) => setTimeout(r, 20));
    await api.close();
    services.splice(services.indexOf(api), 1);
    const r = await running;
    expect(r.code).toBe(1);
    const finished = eventsOf(runs, 'lost').at(-1);
    expect(finished).toMatchObject({ type: 'finished', report: { outcome: 'failed' } });
    expect(finished?.type === 'finished' && finished.report.reason).toMatch(/^planner failed: cannot reach the planner service at http:\/\/127\.0\.0\.1:\d+/);
  }, 300_000);
});
