import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SimulatedClock, waitFor } from 'xstate';
import { RunLog } from '../../src/executor/run-log.js';
import { feedback, flush, harness, robot } from './fakes.js';

const root = mkdtempSync(join(tmpdir(), 'keystep-autonomy-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const waiting = { executing: 'awaiting' } as const;

describe('autonomy levels', () => {
  it('approve-plan: the accepted plan waits before its first step, nothing reaches the robot, then runs whole on APPROVE', async () => {
    const h = harness({ input: { autonomy: 'approve-plan' }, plans: [['pick', 'fold', 'place']] });
    h.actor.start();
    await waitFor(h.actor, (s) => s.matches(waiting));
    for (let i = 0; i < 5; i++) await flush();
    expect(h.dispatches).toHaveLength(0);
    expect(h.cancels).toHaveLength(0);
    expect(h.events.at(-1)).toMatchObject({ type: 'approval_requested', scope: 'plan', planVersion: 1, stepIndex: 0, steps: ['pick', 'fold', 'place'] });
    h.actor.send({ type: 'APPROVE' });
    const snap = await h.done();
    expect(snap.value).toBe('succeeded');
    expect(h.dispatches.map((d) => d.stepId)).toEqual(['run-1/0/0', 'run-1/1/0', 'run-1/2/0']);
    expect(h.events.filter((e) => e.type.startsWith('approval_')).map((e) => e.type)).toEqual(['approval_requested', 'approval_given']);
    expect(snap.output!.approvals).toEqual({ autonomy: 'approve-plan', requested: 1, given: 1, refused: 0 });
    expect(h.events[0]).toMatchObject({ type: 'run_started', autonomy: 'approve-plan' });
  });

  it('approve-step: every step waits for its own APPROVE', async () => {
    const h = harness({ input: { autonomy: 'approve-step' }, plans: [['pick', 'fold']] });
    h.actor.start();
    for (const k of [0, 1]) {
      await waitFor(h.actor, (s) => s.matches(waiting));
      await flush();
      expect(h.dispatches).toHaveLength(k);
      expect(h.events.at(-1)).toMatchObject({ type: 'approval_requested', scope: 'step', stepIndex: k, steps: [['pick', 'fold'][k]] });
      h.actor.send({ type: 'APPROVE' });
    }
    expect((await h.done()).output).toMatchObject({ outcome: 'succeeded', approvals: { requested: 2, given: 2, refused: 0 } });
  });

  it('the step timeout does not run while a step waits for approval', async () => {
    const clock = new SimulatedClock();
    const h = harness({ clock, input: { autonomy: 'approve-step', robot: robot({ stepTimeoutMs: 1000 }) }, plans: [['pick']] });
    h.actor.start();
    await waitFor(h.actor, (s) => s.matches(waiting));
    clock.increment(10_000);
    await flush();
    expect(h.actor.getSnapshot().matches(waiting)).toBe(true);
    expect(h.cancels).toEqual([]);
    h.actor.send({ type: 'APPROVE' });
    expect((await h.done()).value).toBe('succeeded');
  });

  it('REJECT with a note replans; the planner sees the step rejected with the note as its reason', async () => {
    const h = harness({ input: { autonomy: 'approve-plan' }, plans: [['pick', 'fold'], ['smooth', 'pick', 'fold']] });
    h.actor.start();
    await waitFor(h.actor, (s) => s.matches(waiting));
    h.actor.send({ type: 'REJECT', note: 'smooth the shirt first' });
    await waitFor(h.actor, (s) => s.matches(waiting) && s.context.planVersion === 2);
    expect(h.dispatches).toHaveLength(0);
    expect(h.plannerCalls[1]!.history).toEqual([
      { stepIndex: 0, attempt: 0, instruction: 'pick', status: 'rejected', reason: 'plan v1 rejected by the operator: smooth the shirt first' },
    ]);
    h.actor.send({ type: 'APPROVE' });
    const snap = await h.done();
    expect(snap.value).toBe('succeeded');
    // The refused attempt is step 0 attempt 0, never sent; the new plan starts at index 0, attempt 1.
    expect(h.dispatches.map((d) => d.stepId)).toEqual(['run-1/0/1', 'run-1/1/0', 'run-1/2/0']);
    expect(snap.output!.replans).toBe(1);
    expect(snap.output!.approvals).toMatchObject({ requested: 2, given: 1, refused: 1 });
    expect(h.events.filter((e) => e.type === 'approval_refused')).toMatchObject([{ note: 'smooth the shirt first', abort: false, planVersion: 1 }]);
  });

  it('REJECT with abort ends the run aborted with nothing sent and nothing cancelled', async () => {
    const h = harness({ input: { autonomy: 'approve-step' } });
    h.actor.start();
    await waitFor(h.actor, (s) => s.matches(waiting));
    h.actor.send({ type: 'REJECT', note: 'wrong shirt', abort: true });
    const snap = await h.done();
    expect(snap.output).toMatchObject({ outcome: 'aborted', reason: 'rejected by the operator: wrong shirt', steps: [] });
    expect(h.dispatches).toEqual([]);
    expect(h.cancels).toEqual([]);
  });

  it('ABORT while waiting cancels nothing; APPROVE and REJECT outside a wait are ignored', async () => {
    const h = harness({ input: { autonomy: 'approve-step' } });
    h.actor.start();
    h.actor.send({ type: 'APPROVE' });
    h.actor.send({ type: 'REJECT', abort: true });
    await waitFor(h.actor, (s) => s.matches(waiting));
    expect(h.actor.getSnapshot().context.approvals.given).toBe(0);
    h.actor.send({ type: 'ABORT' });
    expect((await h.done()).output).toMatchObject({ outcome: 'aborted', steps: [] });
    expect(h.cancels).toEqual([]);
  });

  it('a PAUSE while waiting holds the step after APPROVE until RESUME', async () => {
    const h = harness({ input: { autonomy: 'approve-step' }, plans: [['pick']] });
    h.actor.start();
    await waitFor(h.actor, (s) => s.matches(waiting));
    h.actor.send({ type: 'PAUSE' });
    h.actor.send({ type: 'APPROVE' });
    await waitFor(h.actor, (s) => s.matches({ executing: 'held' }));
    expect(h.dispatches).toHaveLength(0);
    h.actor.send({ type: 'RESUME' });
    expect((await h.done()).value).toBe('succeeded');
    expect(h.dispatches).toHaveLength(1);
  });

  it('auto logs and reports exactly as before: no approval events, no approvals in the report, no autonomy in run_started', async () => {
    const h = harness({ plans: [['pick']] });
    h.actor.start();
    const snap = await h.done();
    expect(snap.output!.approvals).toBeUndefined();
    expect(h.events[0]).not.toHaveProperty('autonomy');
    expect(h.events.some((e) => e.type.startsWith('approval_'))).toBe(false);
  });

  it('a run resumed while it waited waits again; one resumed after the approval sends without asking', async () => {
    const log = RunLog.create(root, 'wait-resume');
    const first = harness({ input: { runId: 'wait-resume', autonomy: 'approve-step' }, plans: [['pick', 'fold']], onRecord: (r) => log.record(r) });
    first.actor.start();
    await waitFor(first.actor, (s) => s.matches(waiting));
    first.actor.stop();
    const state = RunLog.open(root, 'wait-resume').resumeState();
    expect(state.started.autonomy).toBe('approve-step');
    expect(state.resume).toMatchObject({ start: 'dispatch', approvedStep: null, approvals: { requested: 1, given: 0, refused: 0 } });

    const second = harness({ input: { runId: 'wait-resume', autonomy: 'approve-step', resume: state.resume }, onRecord: (r) => log.record(r) });
    second.actor.start();
    await waitFor(second.actor, (s) => s.matches(waiting));
    await flush();
    expect(second.dispatches).toHaveLength(0);
    second.actor.send({ type: 'APPROVE' });
    // Stopped between the approval and the dispatch of step 0: the approval holds across the resume.
    second.actor.stop();
    log.close();
    const again = RunLog.open(root, 'wait-resume').resumeState();
    const third = harness({
      input: { runId: 'wait-resume', autonomy: 'approve-step', resume: again.resume },
      dispatcher: (req) => feedback(req, 'done'),
    });
    third.actor.start();
    await waitFor(third.actor, (s) => s.matches(waiting));
    expect(third.dispatches.map((d) => d.stepId)).toEqual(['wait-resume/0/0']);
    third.actor.send({ type: 'APPROVE' });
    expect((await third.done()).output).toMatchObject({ outcome: 'succeeded', approvals: { requested: 3, given: 2 } });
  });
});
