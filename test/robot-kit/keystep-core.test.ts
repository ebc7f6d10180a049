import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LeaseRequest, LeaseState, StepCommand, StepFeedback, stepId, type LeaseRequest as LeaseRequestT } from '../../src/schema/index.js';
import { schemaDocuments } from '../../src/schema/json-schema.js';

/**
 * The reference robot node's core (robot-kit/keystep_core.py) against the contract, with plain
 * python3: no ROS needed, the rospy wiring is a thin shell around it. Every message it publishes
 * must parse with keystep's own schemas.
 */
const HARNESS = join(import.meta.dirname, 'core_harness.py');

type Out = { feedback?: unknown; lease?: unknown; executed?: { id: string; instruction: string; keyframe: string } };

function drive(events: object[]): { feedback: StepFeedback[]; lease: LeaseState[]; executed: NonNullable<Out['executed']>[] } {
  const r = spawnSync('python3', [HARNESS], {
    input: events.map((e) => JSON.stringify(e)).join('\n'),
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Out);
  return {
    // The robot's answers must be what keystep accepts.
    feedback: lines.filter((l) => l.feedback).map((l) => StepFeedback.parse(l.feedback)),
    lease: lines.filter((l) => l.lease).map((l) => LeaseState.parse(l.lease)),
    executed: lines.filter((l) => l.executed).map((l) => l.executed!),
  };
}

const execute = (stepIndex: number, instruction = `step ${stepIndex}`, attempt = 0) => ({
  on: 'command',
  data: JSON.stringify(StepCommand.parse({ kind: 'execute', runId: 'run-a', stepIndex, attempt, instruction, sentAt: 1 })),
});
const cancel = (stepIndex: number, attempt = 0) => ({ on: 'command', data: JSON.stringify(StepCommand.parse({ kind: 'cancel', runId: 'run-a', stepIndex, attempt, reason: 'timeout' })) });
const keyframe = (stepIndex: number, bytes = `png-${stepIndex}`, attempt = 0) => ({
  on: 'keyframe',
  frameId: `keystep:${stepId('run-a', stepIndex, attempt)}`,
  format: 'png',
  data: Buffer.from(bytes).toString('base64'),
});
const lease = (request: Omit<LeaseRequestT, 'seq'> & { seq?: number }) => ({ on: 'lease', data: JSON.stringify(LeaseRequest.parse({ seq: 0, ...request })) });

describe('robot kit core (python3, no ROS)', () => {
  it('pairs a command with its keyframe in either order and runs it with that keyframe', () => {
    const { feedback, executed } = drive([execute(0), keyframe(0, 'first'), keyframe(1, 'second'), execute(1)]);
    expect(executed.map((e) => [e.id, Buffer.from(e.keyframe, 'base64').toString()])).toEqual([
      ['run-a/0/0', 'first'],
      ['run-a/1/0', 'second'],
    ]);
    expect(feedback.map((f) => `${f.stepIndex}:${f.status}`)).toEqual(['0:accepted', '0:done', '1:accepted', '1:done']);
  });

  it('runs a re-sent step id once and answers the repeat with its result, marked duplicate', () => {
    const { feedback, executed } = drive([execute(0, 'grasp and slip'), keyframe(0), execute(0, 'grasp and slip'), keyframe(0), execute(0, 'grasp and slip')]);
    expect(executed).toHaveLength(1);
    const terminal = feedback.filter((f) => f.status !== 'accepted');
    expect(terminal).toHaveLength(3);
    expect(terminal.map((f) => [f.status, f.reason, f.duplicate ?? false])).toEqual([
      ['miss', 'slip', false],
      ['miss', 'slip', true],
      ['miss', 'slip', true],
    ]);
    expect(terminal[0]!.holding).toEqual({ left: null });
  });

  it('rejects a command whose keyframe never comes, and drops a waiting step on cancel', () => {
    const { feedback, executed } = drive([execute(0), { on: 'clock', t: 1767607204 }, { on: 'tick' }, execute(1), cancel(1), keyframe(1)]);
    expect(executed).toEqual([]);
    expect(feedback.map((f) => [f.stepIndex, f.status])).toEqual([
      [0, 'rejected'],
      [1, 'cancelled'],
    ]);
    expect(feedback[0]!.reason).toContain('keystep:run-a/0/0');
  });

  it('keeps the lease for one run at a time, renewable by its holder, free after release or expiry', () => {
    const { lease: states } = drive([
      lease({ kind: 'acquire', runId: 'run-a', ttlMs: 5000 }),
      lease({ kind: 'acquire', runId: 'run-b', ttlMs: 5000 }),
      lease({ kind: 'acquire', runId: 'run-a', ttlMs: 5000, seq: 1 }),
      lease({ kind: 'query', runId: 'doctor' }),
      { on: 'clock', t: 1767607206 },
      lease({ kind: 'acquire', runId: 'run-b', ttlMs: 5000, seq: 1 }),
      lease({ kind: 'release', runId: 'run-b', seq: 2 }),
      lease({ kind: 'query', runId: 'doctor', seq: 1 }),
    ]);
    expect(states.map((s) => [s.answer!.runId, s.answer!.kind, s.answer!.granted, s.holder])).toEqual([
      ['run-a', 'acquire', true, 'run-a'],
      ['run-b', 'acquire', false, 'run-a'],
      ['run-a', 'acquire', true, 'run-a'],
      ['doctor', 'query', false, 'run-a'],
      ['run-b', 'acquire', true, 'run-b'],
      ['run-b', 'release', true, null],
      ['doctor', 'query', true, null],
    ]);
    expect(states[1]!.expiresInMs).toBe(5000);
  });

  it('ships the JSON Schemas a robot written in another language checks its messages with', () => {
    const files = schemaDocuments().map((d) => d.file);
    expect(files).toEqual(expect.arrayContaining(['robot-kit/schemas/step-command.schema.json', 'robot-kit/schemas/step-feedback.schema.json', 'robot-kit/schemas/lease-request.schema.json', 'robot-kit/schemas/lease-state.schema.json']));
    const feedback = JSON.parse(readFileSync('robot-kit/schemas/step-feedback.schema.json', 'utf8')) as { required: string[]; properties: { status: { enum: string[] } } };
    expect(feedback.required).toEqual(expect.arrayContaining(['runId', 'stepIndex', 'attempt', 'status', 'stamp']));
    expect(feedback.properties.status.enum).toEqual(['accepted', 'done', 'miss', 'rejected', 'cancelled']);
  });

  it('the rospy node is valid python3 (it needs rospy only when it runs)', () => {
    const r = spawnSync('python3', ['-c', 'import ast,sys; [ast.parse(open(f).read(), f) for f in sys.argv[1:]]', 'robot-kit/keystep_robot.py', 'robot-kit/keystep_core.py'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });
});
