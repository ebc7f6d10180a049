import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunLog } from '../../src/executor/index.js';
import { loadProfile } from '../../src/profile/load.js';
import { SimRobot } from '../../sim/robot-node.js';
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
