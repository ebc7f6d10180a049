import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunLog } from '../../src/executor/index.js';
import { loadProfile } from '../../src/profile/load.js';
import { runTask } from '../../src/run/session.js';
import { Rng } from '../../src/util/rng.js';
import { SimRobot } from '../../sim/robot-node.js';
import { CuttableProxy } from '../helpers/proxy.js';
import { until } from '../helpers/ros.js';

const robots: SimRobot[] = [];
const proxies: CuttableProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await Promise.all(robots.splice(0).map((r) => r.close()));
});

/** Steps the robot really executed (first time per step id, duplicates excluded). */
function executed(robot: SimRobot) {
  return robot.world.history.filter((h) => h.status !== 'cancelled');
}

describe('executor faults, end to end over rosbridge', () => {
  it('loses no step and runs none twice when the socket drops mid-step 100+ times', async () => {
    const profile = loadProfile('agibot-g1');
    const robot = await SimRobot.start({ profile, scene: 'table', task: 'clear the table', seed: 0, missRate: 0, port: 0, stepMs: 30, cameraHz: 2 });
    robots.push(robot);
    const proxy = await CuttableProxy.start(Number(new URL(robot.url).port));
    proxies.push(proxy);
    const rng = new Rng(7);
    const runsDir = mkdtempSync(join(tmpdir(), 'keystep-drops-'));
    let episode = 0;
    while (proxy.cuts < 100) {
      robot.reset(episode);
      const before = robot.world.history.length;
      const { report, reconnects } = await runTask({
        url: proxy.url,
        profile,
        task: 'clear the table',
        scene: 'table',
        backend: 'oracle',
        runId: `drop-${episode}`,
        runsDir,
        backoff: { initialMs: 10, maxMs: 50, factor: 2, jitter: 0.2, seed: episode },
        onRecord: (r) => {
          // Cut while the step is in flight: somewhere between the send and the robot's answer.
          if (r.event.type === 'step_dispatched') setTimeout(() => proxy.cut(), rng.int(40));
        },
      });
      expect(report.outcome, report.reason).toBe('succeeded');
      expect(robot.world.isGoal()).toBe(true);
      // Nothing executed twice: exactly the 12 steps of the clearing, each once.
      const ran = robot.world.history.slice(before).filter((h) => h.status === 'done');
      expect(ran).toHaveLength(12);
      expect(new Set(ran.map((h) => h.instruction)).size).toBe(12);
      expect(reconnects).toBeGreaterThan(0);
      episode++;
    }
    expect(proxy.cuts).toBeGreaterThanOrEqual(100);
    expect(executed(robot).filter((h) => h.status !== 'done')).toEqual([]);
  });

  it('resumes a run killed with SIGKILL: no event lost, no step redone', async () => {
    const cli = join(process.cwd(), 'bin', 'keystep.js');
    expect(existsSync(join(process.cwd(), 'dist', 'src', 'cli', 'main.js')), 'npm test builds dist/ first').toBe(true);
    const profile = loadProfile('aloha-agilex');
    const robot = await SimRobot.start({ profile, scene: 'tshirt', task: 'fold the t-shirt', seed: 3, missRate: 0, port: 0, stepMs: 120, cameraHz: 2 });
    robots.push(robot);
    const runsDir = mkdtempSync(join(tmpdir(), 'keystep-kill-'));
    const runId = 'killed-run';
    const args = ['run', '--robot', 'aloha-agilex', '--task', 'fold the t-shirt', '--scene', 'tshirt', '--backend', 'oracle', '--rosbridge', robot.url, '--run-id', runId, '--runs', runsDir];
    const child = spawn(process.execPath, [cli, ...args], { stdio: 'ignore' });
    const eventsFile = join(runsDir, runId, 'events.jsonl');
    const feedbackCount = () => (existsSync(eventsFile) ? readFileSync(eventsFile, 'utf8').split('\n').filter((l) => l.includes('"step_feedback"')).length : 0);
    await until(() => feedbackCount() >= 3, 20_000, 'three steps to finish');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    const beforeKill = readFileSync(eventsFile, 'utf8');
    const doneBefore = robot.world.history.filter((h) => h.status === 'done').length;
    expect(doneBefore).toBeGreaterThanOrEqual(3);
    expect(robot.world.isGoal()).toBe(false);

    const resumed = spawn(process.execPath, [cli, 'run', '--resume', runId, '--rosbridge', robot.url, '--runs', runsDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    resumed.stdout.on('data', (d) => (output += d));
    resumed.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => resumed.on('exit', resolve));
    expect(code, output).toBe(0);
    expect(robot.world.isGoal()).toBe(true);
    // Each of the seven steps ran once: the resumed run did not redo any finished one.
    const done = robot.world.history.filter((h) => h.status === 'done');
    expect(done).toHaveLength(7);
    expect(new Set(done.map((h) => h.instruction)).size).toBe(7);
    // No event lost: everything logged before the kill is still there, in order, and seq has no gap.
    const after = readFileSync(eventsFile, 'utf8');
    const complete = beforeKill.slice(0, beforeKill.lastIndexOf('\n') + 1);
    expect(after.startsWith(complete)).toBe(true);
    const { events } = RunLog.open(runsDir, runId).readEvents();
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    expect(events.some((e) => e.type === 'run_resumed')).toBe(true);
    expect(events.at(-1)?.type).toBe('finished');
  });
});
