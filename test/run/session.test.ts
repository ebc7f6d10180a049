import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topic } from 'roslib';
import { afterEach, describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load.js';
import { runTask } from '../../src/run/session.js';
import type { BadMessage } from '../../src/ros/robot-channel.js';
import { SimRobot } from '../../sim/robot-node.js';
import { connectRos } from '../helpers/ros.js';

const robots: SimRobot[] = [];
afterEach(async () => {
  await Promise.all(robots.splice(0).map((r) => r.close()));
});

describe('a run over rosbridge', () => {
  it('counts, reports and ignores bad feedback messages, and still finishes', async () => {
    const profile = loadProfile('aloha-agilex');
    const robot = await SimRobot.start({ profile, scene: 'tshirt', task: 'fold the t-shirt', seed: 9, missRate: 0, port: 0, stepMs: 20 });
    robots.push(robot);
    // Another node on the same feedback topic publishing garbage, and a forged terminal feedback
    // for a step id that does not exist.
    const rogue = await connectRos(robot.url);
    const topic = new Topic<{ data: string }>({ ros: rogue, name: profile.ros.feedback.name, messageType: profile.ros.feedback.type });
    topic.advertise();
    const garbage = ['not json', JSON.stringify({ runId: 'x', status: 'exploded' }), JSON.stringify({ runId: 'x', stepIndex: -1, attempt: 0, status: 'done', stamp: 1 })];
    const timer = setInterval(() => garbage.forEach((data) => topic.publish({ data })), 20);
    const bad: BadMessage[] = [];
    try {
      const { report, badMessages } = await runTask({
        url: robot.url,
        profile,
        task: 'fold the t-shirt',
        backend: 'oracle',
        runId: 'bad-feedback',
        runsDir: mkdtempSync(join(tmpdir(), 'keystep-bad-')),
        onBadMessage: (m) => bad.push(m),
      });
      expect(report.outcome).toBe('succeeded');
      expect(robot.world.isGoal()).toBe(true);
      expect(badMessages).toBeGreaterThanOrEqual(3);
      expect(bad.map((b) => b.reason)).toEqual(expect.arrayContaining(['data is not JSON', expect.stringMatching(/^not a StepFeedback \(.*status/)]));
    } finally {
      clearInterval(timer);
      rogue.close();
    }
  });

  it('on abort, tells the robot to cancel the step in flight and ends as aborted', async () => {
    const profile = loadProfile('agibot-g1');
    const robot = await SimRobot.start({ profile, scene: 'table', task: 'clear the table', seed: 2, missRate: 0, port: 0, stepMs: 400 });
    robots.push(robot);
    const operator = new AbortController();
    const { report } = await runTask({
      url: robot.url,
      profile,
      task: 'clear the table',
      backend: 'oracle',
      runId: 'aborted',
      runsDir: mkdtempSync(join(tmpdir(), 'keystep-abort-')),
      signal: operator.signal,
      onRecord: (r) => {
        if (r.event.type === 'step_dispatched' && r.event.stepIndex === 1) setTimeout(() => operator.abort(), 50);
      },
    });
    expect(report.outcome).toBe('aborted');
    expect(report.steps.at(-1)).toMatchObject({ stepIndex: 1, status: 'cancelled' });
    // The robot got the cancel while the step was still moving, so it never finished it.
    await new Promise((r) => setTimeout(r, 500));
    expect(robot.world.history.map((h) => h.status)).toEqual(['done', 'cancelled']);
  });
});
