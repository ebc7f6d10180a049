import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ApprovalPrompt } from '../../src/cli/approval-prompt.js';
import type { RunEvent } from '../../src/executor/index.js';
import type { PlanRequest } from '../../src/planner/planner.js';
import { loadProfile } from '../../src/profile/load.js';
import { RunControl } from '../../src/run/run-control.js';
import { runTask } from '../../src/run/session.js';
import { SimRobot } from '../../sim/robot-node.js';
import { cli } from '../helpers/cli.js';

const robots: SimRobot[] = [];
afterEach(async () => {
  await Promise.all(robots.splice(0).map((r) => r.close()));
});

describe('keystep run --approve', () => {
  it('refuses without a terminal on stdin, saying how else to approve', async () => {
    const r = await cli('run', '--robot', 'aloha-agilex', '--task', 'fold the t-shirt', '--approve', 'step');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--approve asks in the terminal, and stdin is not one');
    expect(r.err).toContain('/approve');
    expect((await cli('run', '--robot', 'aloha-agilex', '--task', 'fold the t-shirt', '--approve', 'maybe')).code).toBe(2);
  });

  it('the terminal prompt against keystep sim: y sends the step, "n <note>" replans with the note, a line after "n" is the note', async () => {
    const profile = loadProfile('aloha-agilex');
    const robot = await SimRobot.start({ profile, scene: 'tshirt', task: 'fold the t-shirt', seed: 4, missRate: 0, port: 0, stepMs: 20 });
    robots.push(robot);
    const stdin = new PassThrough();
    const shown: string[] = [];
    const control = new RunControl();
    const prompt = new ApprovalPrompt(stdin, (t) => shown.push(t), control);
    const requests: PlanRequest[] = [];
    const answers = ['n flatten it first', 'n', 'not that one either', 'x'];
    const events: RunEvent[] = [];
    try {
      const result = await runTask({
        url: robot.url,
        profile,
        task: 'fold the t-shirt',
        backend: 'oracle',
        runId: 'prompted',
        runsDir: mkdtempSync(join(tmpdir(), 'keystep-approve-')),
        autonomy: 'approve-step',
        control,
        wrapPlanner: (p) => ({ name: p.name, plan: (r) => (requests.push(r), p.plan(r)) }),
        onRecord: (r) => {
          events.push(r.event);
          prompt.onRecord(r);
          // Answer as a person would, after the prompt is shown.
          if (r.event.type === 'approval_requested') {
            setImmediate(() => {
              let line = answers.shift() ?? 'y';
              while (line === 'x') {
                stdin.write('x\n');
                line = answers.shift() ?? 'y';
              }
              stdin.write(`${line}\n`);
              if (line === 'n') stdin.write(`${answers.shift()}\n`);
            });
          }
        },
      });
      expect(result.report.outcome).toBe('succeeded');
      expect(result.report.approvals).toMatchObject({ autonomy: 'approve-step', refused: 2 });
    } finally {
      prompt.close();
    }
    expect(robot.world.isGoal()).toBe(true);
    expect(requests[1]!.history.at(-1)).toMatchObject({ status: 'rejected', reason: 'rejected by the operator: flatten it first' });
    expect(requests[2]!.history.at(-1)).toMatchObject({ status: 'rejected', reason: 'rejected by the operator: not that one either' });
    expect(shown.some((l) => l.includes('waits for your approval'))).toBe(true);
    expect(shown).toContain('  answer y, n [note] or a');
    expect(events.filter((e) => e.type === 'step_dispatched').length).toBe(events.filter((e) => e.type === 'approval_given').length);
  });
});
