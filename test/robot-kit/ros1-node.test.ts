import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LeaseState, StepFeedback } from '../../src/schema/index.js';

/**
 * The reference robot node on a real ROS 1 master, with Debian's ROS 1 packages (python3-rospy,
 * python3-roslaunch, rosout, python3-std-msgs, python3-sensor-msgs: Noetic's rospy 1.15). Skipped
 * where they are not installed. rosbridge_suite is not packaged in Debian, so keystep itself is not on
 * the other end: a rospy driver publishes what keystep would.
 */
const PYTHON = '/usr/bin/python3';
const ros1 = existsSync('/usr/bin/roscore') && spawnSync(PYTHON, ['-c', 'import rospy, sensor_msgs.msg, std_msgs.msg']).status === 0;

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0).reverse()) {
    child.kill('SIGINT');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
  }
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.skipIf(!ros1)('reference robot node on ROS 1 (rospy)', () => {
  it('pairs a command with its later keyframe, answers accepted and the result, dedupes the re-send, keeps the lease', async () => {
    const port = await freePort();
    const env = { ...process.env, ROS_MASTER_URI: `http://127.0.0.1:${port}`, ROS_HOSTNAME: '127.0.0.1', ROS_HOME: join(process.env.TMPDIR ?? '/tmp', `keystep-ros-${port}`), PYTHONDONTWRITEBYTECODE: '1' };
    const master = spawn('roscore', ['-p', String(port)], { env, stdio: 'ignore' });
    children.push(master);
    const node = spawn(PYTHON, ['robot-kit/keystep_robot.py'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(node);
    let nodeLog = '';
    node.stdout!.on('data', (d) => (nodeLog += d));
    node.stderr!.on('data', (d) => (nodeLog += d));
    const driver = spawnSync(PYTHON, [join(import.meta.dirname, 'ros1_driver.py')], { env, encoding: 'utf8', timeout: 60_000 });
    expect(driver.status, `${driver.stderr}\n${nodeLog}`).toBe(0);
    // rospy writes its own lines (waiting for the master...) to stdout too.
    const lines = driver.stdout
      .split('\n')
      .filter((l) => l.startsWith('KEYSTEP '))
      .map((l) => JSON.parse(l.slice('KEYSTEP '.length)) as { feedback?: unknown; lease?: unknown });
    const feedback = lines.filter((l) => l.feedback).map((l) => StepFeedback.parse(l.feedback));
    const lease = lines.filter((l) => l.lease).map((l) => LeaseState.parse(l.lease));
    // The reference execute() has no robot behind it and says so; the contract around it is what is tested.
    expect(feedback.map((f) => [f.status, f.duplicate ?? false])).toEqual([
      ['accepted', false],
      ['rejected', false],
      ['rejected', true],
    ]);
    expect(feedback[1]!.reason).toContain('no robot behind it');
    expect(lease.map((s) => [s.answer?.runId, s.answer?.granted, s.holder])).toEqual([
      ['run-a', true, 'run-a'],
      ['run-b', false, 'run-a'],
    ]);
  }, 90_000);
});
