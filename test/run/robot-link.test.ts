import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topic } from 'roslib';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/command.js';
import { main } from '../../src/cli/main.js';
import { RunLog, type RunEvent } from '../../src/executor/index.js';
import { loadProfile } from '../../src/profile/load.js';
import { SimRobot, type SimRobotOptions } from '../../sim/robot-node.js';
import { CuttableProxy } from '../helpers/proxy.js';
import { connectRos, until } from '../helpers/ros.js';

/**
 * The link between keystep and a robot, through the real CLI against `keystep sim` on real sockets:
 * every wait is bounded and says what it waited for, connection failures say which failure it was,
 * one executor holds a robot at a time, and resumes say what they re-send.
 */

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function sim(options: Partial<SimRobotOptions> = {}): Promise<SimRobot> {
  const robot = await SimRobot.start({ profile: loadProfile('aloha-agilex'), scene: 'tshirt', task: 'fold the t-shirt', seed: 3, missRate: 0, port: 0, stepMs: 50, cameraHz: 5, ...options });
  closers.push(() => robot.close());
  return robot;
}

/** One CLI invocation in this process, its output collected. */
async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), tty: false };
  const started = Date.now();
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n'), ms: Date.now() - started };
}

/** A copy of aloha-agilex with some fields changed, as a profile file in a folder of its own. */
function profileWith(change: (raw: Record<string, any>) => void): string {
  const raw = JSON.parse(readFileSync('robots/aloha-agilex.json', 'utf8'));
  delete raw.$schema;
  change(raw);
  const dir = mkdtempSync(join(tmpdir(), 'keystep-profile-'));
  const file = join(dir, 'aloha-agilex.json');
  writeFileSync(file, JSON.stringify(raw));
  return file;
}

const runsDir = () => mkdtempSync(join(tmpdir(), 'keystep-link-'));
const events = (runs: string, runId: string): RunEvent[] => RunLog.open(runs, runId).readEvents().events;
const oracleRun = (url: string, runs: string, runId: string, ...extra: string[]) =>
  cli('run', '--robot', 'aloha-agilex', '--task', 'fold the t-shirt', '--backend', 'oracle', '--rosbridge', url, '--runs', runs, '--run-id', runId, ...extra);

describe('every wait is bounded and named', () => {
  it('a camera that never sends: exit 4 within --camera-timeout, naming the topic, its type and what to check; no run folder', async () => {
    const robot = await sim();
    const runs = runsDir();
    const wrongTopic = profileWith((p) => (p.cameras[0].topic = '/camera_f/colour/image_raw'));
    const r = await cli('run', '--robot', wrongTopic, '--task', 'fold the t-shirt', '--backend', 'oracle', '--rosbridge', robot.url, '--runs', runs, '--camera-timeout', '1500');
    expect(r.code, r.err).toBe(4);
    expect(r.err).toContain('no camera frame on /camera_f/colour/image_raw (sensor_msgs/Image) within 1500 ms');
    expect(r.err).toContain('is the topic name in the profile right?');
    expect(r.err).not.toContain('    at ');
    expect(r.ms).toBeLessThan(1500 + 5000);
    expect(readdirSync(runs)).toEqual([]);
    expect(robot.world.history).toEqual([]);
  }, 20_000);

  it('ROS 2 type spellings against a ROS 1 server: the camera error says so', async () => {
    const robot = await sim();
    const ros2 = profileWith((p) => {
      p.ros.rosVersion = 2;
      const to2 = (t: { type: string }) => (t.type = t.type.replace('/', '/msg/'));
      [...p.cameras, ...p.arms.map((a: { jointStates: unknown }) => a.jointStates), p.ros.stepCommand, p.ros.keyframe, p.ros.feedback].forEach(to2);
    });
    const r = await cli('run', '--robot', ros2, '--task', 'fold the t-shirt', '--backend', 'oracle', '--rosbridge', robot.url, '--runs', runsDir(), '--camera-timeout', '1000');
    expect(r.code, r.err).toBe(4);
    expect(r.err).toContain('no camera frame on /camera_f/color/image_raw (sensor_msgs/msg/Image)');
    expect(r.err).toContain('"sensor_msgs/msg/Image" is the ROS 2 spelling: a ROS 1 rosbridge refuses it without an error');
  }, 20_000);

  it('a step whose feedback never comes: the timeout names the step, the command topic and the feedback topic', async () => {
    const robot = await sim();
    const runs = runsDir();
    const deaf = profileWith((p) => {
      p.ros.feedback.name = '/keystep/feedback_elsewhere';
      p.limits.stepTimeoutMs = 1000;
      p.limits.maxReplans = 0;
    });
    const r = await cli('run', '--robot', deaf, '--task', 'fold the t-shirt', '--backend', 'oracle', '--rosbridge', robot.url, '--runs', runs, '--run-id', 'deaf');
    expect(r.code, r.err).toBe(1);
    const line = r.out.split('\n').find((l) => l.includes('-> TIMEOUT'))!;
    expect(line).toContain('no feedback for step deaf/0/0 within the step timeout (1000 ms)');
    expect(line).toContain('not one message on /keystep/feedback_elsewhere (std_msgs/String)');
    expect(line).toContain('subscribed to /keystep/step (std_msgs/String)');
    const timeout = events(runs, 'deaf').find((e) => e.type === 'step_feedback');
    expect(timeout?.type === 'step_feedback' && timeout.reason).toContain('/keystep/feedback_elsewhere');

    // --resume of a finished run says how it ended and exits with its code; it does not connect.
    const again = await cli('run', '--resume', 'deaf', '--runs', runs, '--rosbridge', 'ws://127.0.0.1:1');
    expect(again.code).toBe(1);
    expect(again.out).toContain('run deaf already finished: FAILED (');
    expect(again.out).toContain('nothing to resume');
  }, 30_000);

  it('a connection that does not come back: a running count on each attempt, then exit 4 at --reconnect-limit, the log ending as aborted', async () => {
    const robot = await sim({ stepMs: 400 });
    const proxy = await CuttableProxy.start(Number(new URL(robot.url).port));
    let proxyOpen = true;
    closers.push(() => (proxyOpen ? proxy.close() : undefined));
    const runs = runsDir();
    const run = oracleRun(proxy.url, runs, 'unplugged', '--reconnect-limit', '3');
    const eventsFile = join(runs, 'unplugged', 'events.jsonl');
    await until(() => existsSync(eventsFile) && readFileSync(eventsFile, 'utf8').includes('"step_dispatched"'), 20_000, 'the first step');
    // The robot's network goes away for good: every reconnect is refused.
    proxyOpen = false;
    await proxy.close();
    const r = await run;
    expect(r.code, r.err).toBe(4);
    expect(r.err).toMatch(/attempt 1 of 3 in [\d.]+ s/);
    expect(r.err).toMatch(/attempt 3 of 3 in [\d.]+ s \(last: refused/);
    expect(r.err).toContain('gave up after 3 reconnect attempts');
    const log = events(runs, 'unplugged');
    const finished = log.at(-1);
    expect(finished?.type === 'finished' && finished.report).toMatchObject({ outcome: 'aborted', reason: expect.stringContaining('gave up after 3 reconnect attempts') });
  }, 40_000);
});

describe('connection errors say which failure it was', () => {
  let http: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve())));

  it('refused (at once, not after --connect-timeout), unknown host, a web server, TLS; no run folder', async () => {
    http = createServer((_, res) => res.end('hello'));
    await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve));
    const web = (http.address() as AddressInfo).port;
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const closed = (free.address() as AddressInfo).port;
    await new Promise((resolve) => free.close(resolve));
    const runs = runsDir();
    const attempt = (url: string) => cli('run', '--robot', 'aloha-agilex', '--task', 'fold the t-shirt', '--rosbridge', url, '--runs', runs, '--connect-timeout', '20000');

    const refused = await attempt(`ws://127.0.0.1:${closed}`);
    expect(refused.code).toBe(4);
    expect(refused.err).toContain(`could not connect to rosbridge at ws://127.0.0.1:${closed}: connection refused: nothing listens on port ${closed} of 127.0.0.1`);
    expect(refused.ms).toBeLessThan(10_000);

    const unknown = await attempt('ws://no-such-robot.invalid:9090');
    expect(unknown.code).toBe(4);
    expect(unknown.err).toContain('unknown host "no-such-robot.invalid"');

    const webServer = await attempt(`ws://127.0.0.1:${web}`);
    expect(webServer.code).toBe(4);
    expect(webServer.err).toContain('answered with HTTP 200 instead of opening a WebSocket: it is a web server, not rosbridge');

    const tls = await attempt(`wss://127.0.0.1:${web}`);
    expect(tls.code).toBe(4);
    expect(tls.err).toContain('the TLS handshake failed');
    expect(tls.err).toContain('connect with ws:// instead of wss://');

    for (const r of [refused, unknown, webServer, tls]) expect(r.err).not.toContain('    at ');
    expect(readdirSync(runs)).toEqual([]);
  }, 60_000);

  it('a port no socket can use or a URL that is not ws:// is a usage error (exit 2) naming the input', async () => {
    const port = await cli('run', '--robot', 'aloha-agilex', '--task', 'fold the t-shirt', '--rosbridge', 'ws://127.0.0.1:99999');
    expect(port.code).toBe(2);
    expect(port.err).toContain('has port "99999", which no socket can use: a port is 1 to 65535');
    const http = await cli('doctor', '--robot', 'aloha-agilex', '--rosbridge', 'http://robot:9090');
    expect(http.code).toBe(2);
    expect(http.err).toContain('--rosbridge must be a ws:// or wss:// URL (rosbridge speaks WebSocket), got "http://robot:9090"; e.g. ws://robot:9090');
  });
});

describe('one executor per robot: the lease', () => {
  it('refuses a second executor with the holder\'s run id while the first completes', async () => {
    const robot = await sim({ stepMs: 250 });
    const runs = runsDir();
    const first = oracleRun(robot.url, runs, 'first');
    await until(() => existsSync(join(runs, 'first', 'events.jsonl')) && readFileSync(join(runs, 'first', 'events.jsonl'), 'utf8').includes('"step_dispatched"'), 20_000, 'the first run to move');
    const second = await oracleRun(robot.url, runs, 'second');
    expect(second.code, second.err).toBe(4);
    expect(second.err).toContain('the robot is held by run "first"');
    expect(existsSync(join(runs, 'second'))).toBe(false);
    const done = await first;
    expect(done.code, done.err).toBe(0);
    expect(robot.world.isGoal()).toBe(true);
    // Handed back at the end: the robot is free for the next run.
    expect(robot.lease.current(Date.now())).toBeNull();
  }, 40_000);
});

describe('recovery messages', () => {
  it('--resume says which step it resumes at, and re-sends exactly that one', async () => {
    const robot = await sim();
    const runs = runsDir();
    const whole = await oracleRun(robot.url, runs, 'cut');
    expect(whole.code, whole.err).toBe(0);
    // What a kill right after the fourth dispatch leaves: the log up to it, its feedback never logged.
    const file = join(runs, 'cut', 'events.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const dispatched = lines.map((l, i) => [JSON.parse(l) as RunEvent, i] as const).filter(([e]) => e.type === 'step_dispatched');
    const [cutAt, index] = dispatched[3]!;
    writeFileSync(file, `${lines.slice(0, index + 1).join('\n')}\n`);
    const sentIndex = cutAt.type === 'step_dispatched' ? cutAt.stepIndex : -1;

    const resumed = await cli('run', '--resume', 'cut', '--runs', runs, '--rosbridge', robot.url);
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.out).toContain(`resumed at step ${sentIndex} (attempt 0, 0 replans so far): re-sending it with its step id`);
    const after = events(runs, 'cut');
    const resumedAt = after.findIndex((e) => e.type === 'run_resumed');
    const next = after.slice(resumedAt).find((e) => e.type === 'step_dispatched');
    expect(next).toMatchObject({ stepIndex: sentIndex, redispatch: true });
    expect(after[resumedAt]).toMatchObject({ next: { action: 'resend', stepIndex: sentIndex } });

    const finished = await cli('run', '--resume', 'cut', '--runs', runs, '--rosbridge', robot.url);
    expect(finished.code).toBe(0);
    expect(finished.out).toContain('run cut already finished: SUCCEEDED');
  }, 40_000);

  it('bad feedback from the robot is recorded in events.jsonl, counted, before the finished record', async () => {
    const robot = await sim({ stepMs: 100 });
    const rogue = await connectRos(robot.url);
    closers.push(() => rogue.close());
    const topic = new Topic<{ data: string }>({ ros: rogue, name: '/keystep/feedback', messageType: 'std_msgs/String' });
    topic.advertise();
    const timer = setInterval(() => topic.publish({ data: 'not json' }), 25);
    closers.push(() => clearInterval(timer));
    const runs = runsDir();
    const r = await oracleRun(robot.url, runs, 'noisy');
    expect(r.code, r.err).toBe(0);
    const log = events(runs, 'noisy');
    const bad = log.filter((e) => e.type === 'bad_message');
    expect(bad[0]).toMatchObject({ topic: '/keystep/feedback', reason: 'data is not JSON', count: 1, sample: '{"data":"not json"}' });
    expect(bad.reduce((n, e) => n + (e.type === 'bad_message' ? e.count : 0), 0)).toBeGreaterThan(3);
    expect(log.at(-1)?.type).toBe('finished');
    expect(log[0]?.type).toBe('run_started');
    expect(r.out).toContain('ignored a bad message on /keystep/feedback: data is not JSON');
  }, 40_000);
});

describe('before anything moves', () => {
  it('keystep doctor against keystep sim: all green with the right profile, the camera topic named with a wrong one', async () => {
    const robot = await sim();
    const green = await cli('doctor', '--robot', 'aloha-agilex', '--rosbridge', robot.url, '--camera-timeout', '3000');
    expect(green.code, green.out).toBe(0);
    expect(green.out).toContain('all green');
    expect(green.out).not.toMatch(/FAIL|WARN/);
    for (const check of ['connection', 'step commands /keystep/step', 'feedback /keystep/feedback', 'lease', 'frames camera_f (keyframe camera)', 'clock']) {
      expect(green.out).toContain(check);
    }

    const wrong = profileWith((p) => (p.cameras[0].topic = '/camera_f/colour/image_raw'));
    const red = await cli('doctor', '--robot', wrong, '--rosbridge', robot.url, '--camera-timeout', '1000');
    expect(red.code).toBe(1);
    expect(red.out).toMatch(/FAIL +camera camera_f \/camera_f\/colour\/image_raw +not in the ROS graph; similar topics: \/camera_f\/color\/image_raw/);
    expect(red.out).toMatch(/FAIL +frames camera_f \(keyframe camera\) +no frame on \/camera_f\/colour\/image_raw/);
    expect(red.out).toContain('a run would not work');

    const json = JSON.parse((await cli('doctor', '--robot', wrong, '--rosbridge', robot.url, '--camera-timeout', '500', '--json')).out) as { ok: boolean; rows: { check: string; status: string }[] };
    expect(json.ok).toBe(false);
    expect(json.rows.filter((row) => row.status === 'fail').map((row) => row.check)).toEqual(['camera camera_f /camera_f/colour/image_raw', 'frames camera_f (keyframe camera)']);
  }, 40_000);

  it('keystep doctor names a robot whose lease is taken, and a robot it cannot reach (exit 4)', async () => {
    const robot = await sim();
    robot.lease.handle({ kind: 'acquire', runId: 'someone-else', seq: 0, ttlMs: 60_000 }, Date.now());
    const held = await cli('doctor', '--robot', 'aloha-agilex', '--rosbridge', robot.url, '--camera-timeout', '3000');
    expect(held.code).toBe(1);
    expect(held.out).toMatch(/FAIL +lease +held by run "someone-else"/);
    const gone = await cli('doctor', '--robot', 'aloha-agilex', '--rosbridge', 'ws://127.0.0.1:1');
    expect(gone.code).toBe(4);
    expect(gone.out).toMatch(/FAIL +connection +no connection to ws:\/\/127\.0\.0\.1:1/);
  }, 30_000);

  it('run --dry-run plans and validates against the live camera and sends nothing', async () => {
    const robot = await sim();
    const runs = runsDir();
    const steps: string[] = [];
    const listener = await connectRos(robot.url);
    closers.push(() => listener.close());
    new Topic<{ data: string }>({ ros: listener, name: '/keystep/step', messageType: 'std_msgs/String' }).subscribe((m) => steps.push(m.data));
    const r = await cli('run', '--robot', 'aloha-agilex', '--task', 'fold the t-shirt', '--backend', 'oracle', '--rosbridge', robot.url, '--runs', runs, '--dry-run');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('nothing was sent to the robot');
    expect(r.out).toContain('plan valid: 7 steps');
    expect(r.out).toMatch(/step {2}0 tidy the collar/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(steps).toEqual([]);
    expect(robot.world.history).toEqual([]);
    expect(robot.lease.current(Date.now())).toBeNull();
    expect(readdirSync(runs)).toEqual([]);
  }, 30_000);
});
