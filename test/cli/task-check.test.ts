import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { RunLog } from '../../src/executor/index.js';
import { loadProfile } from '../../src/profile/load.js';
import { SimRobot } from '../../sim/robot-node.js';
import { canListen, cli, freePort } from '../helpers/cli.js';

const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), `keystep-${prefix}-`));
const robots: SimRobot[] = [];
afterEach(async () => {
  await Promise.all(robots.splice(0).map((r) => r.close()));
});

/** A rosbridge URL whose server counts who connects, to prove that a refused task connects to nothing. */
async function listeningServer(): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', r));
  let connections = 0;
  wss.on('connection', (ws) => {
    connections++;
    ws.close();
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}`,
    connections: () => connections,
    close: () => new Promise<void>((r) => wss.close(() => r())),
  };
}

describe('the task is checked against the scene and the robot before anything connects', () => {
  it('run: an unknown task, a task of another scene, or one the robot cannot do exits 3, names it, and connects to nothing', async () => {
    const server = await listeningServer();
    const runs = tmp('task');
    try {
      const moon = await cli('run', '--robot', 'aloha-agilex', '--task', 'fly to the moon', '--rosbridge', server.url, '--runs', runs);
      expect(moon.code).toBe(3);
      expect(moon.err).toContain('"fly to the moon" is not a task keystep knows');
      expect(moon.err).toContain('"fold the t-shirt"');
      expect(moon.err).toContain('"clear the table"');

      const otherScene = await cli('run', '--robot', 'aloha-agilex', '--scene', 'tshirt', '--task', 'clear the table', '--rosbridge', server.url, '--runs', runs);
      expect(otherScene.code).toBe(3);
      expect(otherScene.err).toContain('"clear the table" is not a task of the tshirt scene');
      expect(otherScene.err).toContain('the tshirt scene knows "fold the t-shirt"');

      const oneArm = await cli('run', '--robot', 'franka-fr3', '--task', 'fold the t-shirt', '--rosbridge', server.url, '--runs', runs);
      expect(oneArm.code).toBe(3);
      expect(oneArm.err).toContain('franka-fr3 cannot do "fold the t-shirt"');

      // A profile without the pick primitive cannot clear a table.
      const raw = JSON.parse(readFileSync('robots/agibot-g1.json', 'utf8'));
      raw.id = 'no-pick';
      raw.primitives = raw.primitives.filter((p: string) => p !== 'pick');
      const noPick = join(tmp('profile'), 'no-pick.json');
      writeFileSync(noPick, JSON.stringify(raw));
      const cannotPick = await cli('run', '--robot', noPick, '--task', 'clear the table', '--rosbridge', server.url, '--runs', runs);
      expect(cannotPick.code, cannotPick.err).toBe(3);
      expect(cannotPick.err).toContain('no "pick" primitive');

      expect(server.connections()).toBe(0);
      expect(readdirSync(runs)).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('run: a task of the other scene than the camera shows exits 3 before the lease or a plan, --dry-run too', async () => {
    const profile = loadProfile('aloha-agilex');
    const robot = await SimRobot.start({ profile, scene: 'tshirt', task: 'fold the t-shirt', seed: 5, missRate: 0, port: 0, stepMs: 0 });
    robots.push(robot);
    const runs = tmp('scene-shown');
    for (const extra of [[], ['--dry-run']]) {
      const r = await cli('run', '--robot', 'aloha-agilex', '--task', 'clear the table', '--backend', 'oracle', '--rosbridge', robot.url, '--runs', runs, ...extra);
      expect(r.code, r.out + r.err).toBe(3);
      expect(r.err).toContain('"clear the table" is a table task, but the robot\'s camera shows the tshirt scene');
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    expect(robot.world.history).toEqual([]);
    expect(readdirSync(runs)).toEqual([]);
  }, 60_000);

  it('run --backend oracle plans the task it is given, not the task the sim was started with', async () => {
    const profile = loadProfile('aloha-agilex');
    const robot = await SimRobot.start({ profile, scene: 'tshirt', task: 'fold the t-shirt', seed: 6, missRate: 0, port: 0, stepMs: 0 });
    robots.push(robot);
    const runs = tmp('oracle-task');
    const r = await cli('run', '--robot', 'aloha-agilex', '--task', 'fold the sleeves in', '--backend', 'oracle', '--rosbridge', robot.url, '--runs', runs, '--run-id', 'sleeves');
    expect(r.code, r.out + r.err).toBe(0);
    const sent = robot.world.history.map((h) => h.instruction);
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(sent.every((i) => /sleeve/.test(i)), sent.join('\n')).toBe(true);
    const { events } = RunLog.open(runs, 'sleeves').readEvents();
    expect(events.filter((e) => e.type === 'step_dispatched').length).toBe(sent.length);
  }, 60_000);

  it('demo refuses a robot that cannot fold before the sim starts (exit 3)', async () => {
    const runs = tmp('demo');
    const r = await cli('demo', '--robot', 'franka-fr3', '--runs', runs);
    expect(r.code).toBe(3);
    expect(r.err).toContain('franka-fr3 cannot do "fold the t-shirt"');
    expect(r.out).not.toContain('sim robot');
    expect(readdirSync(runs)).toEqual([]);
  });

  it('sim exits 3 on a task it cannot parse before the port opens, and leaves the port free', async () => {
    const port = await freePort();
    const r = await cli('sim', '--robot', 'aloha-agilex', '--scene', 'tshirt', '--task', 'clear the table', '--port', String(port));
    expect(r.code).toBe(3);
    expect(r.err).toContain('"clear the table" is not a task of the tshirt scene');
    expect(await canListen(port)).toBe(true);
  });

  it('rollout exits 3 on a task it cannot parse and leaves no run folder', async () => {
    const runs = tmp('rollout');
    const r = await cli('rollout', '--robot', 'aloha-agilex', '--scene', 'tshirt', '--task', 'fly to the moon', '--episodes', '2', '--backend', 'oracle', '--runs', runs);
    expect(r.code).toBe(3);
    expect(r.err).toContain('"fly to the moon" is not a task of the tshirt scene');
    expect(readdirSync(runs)).toEqual([]);
  });

  it('a task already done in the camera picture is "nothing to do" (exit 5), never SUCCEEDED with 0 steps', async () => {
    const profile = loadProfile('aloha-agilex');
    const robot = await SimRobot.start({ profile, scene: 'tshirt', task: 'fold the t-shirt', seed: 3, missRate: 0, port: 0, stepMs: 0 });
    robots.push(robot);
    const runs = tmp('done');
    const run = (id: string) => cli('run', '--robot', 'aloha-agilex', '--task', 'fold the t-shirt', '--backend', 'oracle', '--rosbridge', robot.url, '--runs', runs, '--run-id', id);
    const fold = await run('fold');
    expect(fold.code, fold.err).toBe(0);
    expect(fold.out).toContain('SUCCEEDED');

    const again = await run('again');
    expect(again.code, again.out + again.err).toBe(5);
    expect(again.out).toContain('NOTHING TO DO: the task is already done in the camera picture');
    expect(again.out).not.toContain('SUCCEEDED');
    const { events } = RunLog.open(runs, 'again').readEvents();
    expect(events.filter((e) => e.type === 'step_dispatched')).toEqual([]);
    const finished = events.at(-1);
    expect(finished?.type).toBe('finished');
    // The log states the verdict itself, so every reader of events.jsonl (runs, report, the web view)
    // sees "nothing to do", not a bare `succeeded`.
    expect(finished?.type === 'finished' && finished.report.verdict).toBe('nothing_to_do');
    const firstRun = RunLog.open(runs, 'fold').readEvents().events.at(-1);
    expect(firstRun?.type === 'finished' && firstRun.report.verdict).toBe('succeeded');
  }, 60_000);
});
