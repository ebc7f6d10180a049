import { describe, expect, it } from 'vitest';
import { SimulatedClock, waitFor } from 'xstate';
import type { DispatchInput } from '../../src/executor/machine.js';
import type { StepFeedback } from '../../src/schema/step-feedback.js';
import { aborted, deferred, draft, feedback, flush, harness, issue, robot, type Deferred } from './fakes.js';

describe('executor machine', () => {
  it('runs a 3-step plan to success and logs every stage in order', async () => {
    const h = harness({ plans: [['pick up the shirt', 'fold the left sleeve', 'fold the right sleeve']] });
    h.actor.start();
    const snap = await h.done();
    expect(snap.value).toBe('succeeded');
    const report = snap.output!;
    expect(report.outcome).toBe('succeeded');
    expect(report.steps.map((s) => [s.stepIndex, s.attempt, s.instruction, s.status])).toEqual([
      [0, 0, 'pick up the shirt', 'done'],
      [1, 0, 'fold the left sleeve', 'done'],
      [2, 0, 'fold the right sleeve', 'done'],
    ]);
    expect(report.replans).toBe(0);
    expect(report.planVersions).toBe(1);
    expect(h.events.map((e) => e.type)).toEqual([
      'run_started',
      'observed',
      'plan_created',
      'plan_validated',
      'step_dispatched',
      'step_feedback',
      'step_dispatched',
      'step_feedback',
      'step_dispatched',
      'step_feedback',
      'finished',
    ]);
    expect(h.dispatches.map((d) => d.stepId)).toEqual(['run-1/0/0', 'run-1/1/0', 'run-1/2/0']);
    const fin = h.events.at(-1)!;
    expect(fin.type === 'finished' && fin.report).toEqual(report);
    // Images go to files next to the log, named in the events, never inside them.
    const created = h.records.find((r) => r.event.type === 'plan_created')!;
    expect(created.files?.map((f) => f.name)).toEqual(['plan-v1-step-00.png', 'plan-v1-step-01.png', 'plan-v1-step-02.png']);
    expect(JSON.stringify(h.events)).not.toContain('"keyframe":{');
  });

  it('treats an empty plan as "the task is done" once the validator agrees, without dispatching', async () => {
    const h = harness({ plans: [[]], validator: () => ({ ok: true, issues: [] }) });
    h.actor.start();
    const snap = await h.done();
    expect(snap.value).toBe('succeeded');
    expect(h.dispatches).toHaveLength(0);
    expect(h.validatorCalls.map((c) => c.plan.steps.length)).toEqual([0]);
  });

  it('does not take the planner\'s word for "nothing left to do" when the validator knows the task is not done', async () => {
    const h = harness({
      plans: [[], ['pick bowl', 'put bowl']],
      validator: (input) =>
        input.plan.steps.length === 0 ? { ok: false, issues: [issue('the plan is empty, but the bowl is on the table', 'error', null)] } : { ok: true, issues: [] },
    });
    h.actor.start();
    const snap = await h.done();
    expect(snap.value).toBe('succeeded');
    expect(h.dispatches.map((d) => d.step.instruction)).toEqual(['pick bowl', 'put bowl']);
    // The refusal went back to the planner with the empty draft, as any refusal does.
    expect(h.plannerCalls[1]!.rejected?.map((i) => i.message)).toEqual(['the plan is empty, but the bowl is on the table']);
  });

  it('replans after a miss with the miss in the history, then finishes the new plan', async () => {
    const h = harness({
      plans: [['pick', 'fold left', 'fold right'], ['regrasp', 'fold right']],
      dispatcher: (input) =>
        input.step.instruction === 'fold left'
          ? feedback(input, 'miss', { reason: 'slip', holding: { left: null, right: 'shirt.bottom_right' } })
          : feedback(input, 'done'),
    });
    h.actor.start();
    const snap = await h.done();
    expect(snap.value).toBe('succeeded');
    expect(h.plannerCalls).toHaveLength(2);
    expect(h.plannerCalls[0]!.history).toEqual([]);
    expect(h.plannerCalls[1]!.version).toBe(2);
    expect(h.plannerCalls[1]!.history).toEqual([
      { stepIndex: 0, attempt: 0, instruction: 'pick', status: 'done' },
      // What the robot said its grippers hold goes to the planner (and its validator) with the miss.
      { stepIndex: 1, attempt: 0, instruction: 'fold left', status: 'miss', reason: 'slip', holding: { left: null, right: 'shirt.bottom_right' } },
    ]);
    // The new plan's steps get fresh global indexes; the first try after the miss is attempt 1.
    expect(h.dispatches.map((d) => d.stepId)).toEqual(['run-1/0/0', 'run-1/1/0', 'run-1/2/1', 'run-1/3/0']);
    expect(h.dispatches.map((d) => d.step.instruction)).toEqual(['pick', 'fold left', 'regrasp', 'fold right']);
    const types = h.events.map((e) => e.type);
    expect(types.slice(types.indexOf('replan'))).toEqual([
      'replan', 'observed', 'plan_created', 'plan_validated',
      'step_dispatched', 'step_feedback', 'step_dispatched', 'step_feedback', 'finished',
    ]);
    const validated = h.events.filter((e) => e.type === 'plan_validated');
    expect(validated.map((e) => e.type === 'plan_validated' && [e.version, e.ok, e.stepBase])).toEqual([[1, true, 0], [2, true, 2]]);
    expect(snap.output!.replans).toBe(1);
    expect(snap.output!.planVersions).toBe(2);
  });

  it('treats a step that outlives stepTimeoutMs as a miss with reason "timeout" and cancels it', async () => {
    const clock = new SimulatedClock();
    const signals: AbortSignal[] = [];
    const h = harness({
      clock,
      input: { robot: robot({ stepTimeoutMs: 5_000 }) },
      plans: [['pick', 'fold'], ['fold']],
      validator: () => ({ ok: true, issues: [] }),
      dispatcher: (input, signal) => {
        if (input.stepIndex === 0) return feedback(input, 'done');
        signals.push(signal);
        return input.stepIndex === 1 ? aborted(signal) : feedback(input, 'done');
      },
    });
    h.actor.start();
    await waitFor(h.actor, (s) => s.matches({ executing: 'dispatching' }) && h.dispatches.length === 2);
    clock.increment(4_999);
    await flush();
    expect(h.actor.getSnapshot().matches({ executing: 'dispatching' })).toBe(true);
    expect(h.plannerCalls).toHaveLength(1);
    clock.increment(1);
    const snap = await h.done();
    expect(snap.value).toBe('succeeded');
    expect(signals[0]!.aborted).toBe(true);
    expect(h.cancels).toEqual([{ runId: 'run-1', stepIndex: 1, attempt: 0, stepId: 'run-1/1/0', reason: 'timeout' }]);
    expect(h.plannerCalls[1]!.history.at(-1)).toEqual({ stepIndex: 1, attempt: 0, instruction: 'fold', status: 'timeout', reason: 'timeout' });
    // The validator checks the replan against the same run so far as the planner saw.
    expect(h.validatorCalls.map((c) => c.history)).toEqual(h.plannerCalls.map((c) => c.history));
    expect(h.validatorCalls[1]!.history!.map((e) => e.status)).toEqual(['done', 'timeout']);
    const replan = h.events.find((e) => e.type === 'replan');
    expect(replan?.type === 'replan' && replan.after.status).toBe('timeout');
  });

  it('fails with a reason naming the replan limit when misses keep coming', async () => {
    const h = harness({
      input: { robot: robot({ maxReplans: 3 }) },
      plans: [['pick', 'fold'], ['fold']],
      dispatcher: (input) => feedback(input, input.step.instruction === 'fold' ? 'miss' : 'done', { reason: 'slip' }),
    });
    h.actor.start();
    const snap = await h.done();
    expect(snap.value).toBe('failed');
    expect(snap.output!.outcome).toBe('failed');
    expect(snap.output!.reason).toBe('step 4 missed (slip), 4 failed attempts since the last done step; replan limit 3 reached');
    expect(snap.output!.replans).toBe(3);
    expect(h.plannerCalls).toHaveLength(4);
    expect(h.dispatches.map((d) => d.stepId)).toEqual(['run-1/0/0', 'run-1/1/0', 'run-1/2/1', 'run-1/3/2', 'run-1/4/3']);
  });

  it('sends rejected drafts back to the planner with their issues, and runs the third draft', async () => {
    const h = harness({
      plans: [['bad'], ['still bad'], ['good']],
      validator: (input, n) =>
        n < 2 ? { ok: false, issues: [issue(`draft ${n} is wrong`), issue('odd', 'warning')] } : { ok: true, issues: [issue('slow', 'warning', null)] },
    });
    h.actor.start();
    const snap = await h.done();
    expect(snap.value).toBe('succeeded');
    expect(h.plannerCalls.map((c) => c.rejected?.map((i) => i.message))).toEqual([undefined, ['draft 0 is wrong'], ['draft 1 is wrong']]);
    expect(h.plannerCalls.map((c) => c.version)).toEqual([1, 2, 3]);
    // Each retry carries the draft its issues are about, so a backend can repair it.
    expect(h.plannerCalls.map((c) => c.previous?.steps.map((s) => s.instruction))).toEqual([undefined, ['bad'], ['still bad']]);
    expect(h.plannerCalls.map((c) => c.previous?.version)).toEqual([undefined, 1, 2]);
    // One observation serves the whole round.
    expect(h.events.filter((e) => e.type === 'observed')).toHaveLength(1);
    expect(h.dispatches.map((d) => d.step.instruction)).toEqual(['good']);
    expect(snap.output!.issues.filter((i) => i.severity === 'warning').map((i) => [i.version, i.message])).toEqual([
      [1, 'odd'], [2, 'odd'], [3, 'slow'],
    ]);
  });

  it('fails with the issues when no draft is ever valid, and dispatches nothing', async () => {
    const h = harness({
      input: { maxValidationRetries: 2 },
      validator: () => ({ ok: false, issues: [issue('keyframe shows the wrong arm')] }),
    });
    h.actor.start();
    const snap = await h.done();
    expect(snap.value).toBe('failed');
    expect(h.validatorCalls).toHaveLength(3);
    expect(h.dispatches).toHaveLength(0);
    expect(snap.output!.reason).toBe('no valid plan after 3 drafts: step 0: keyframe shows the wrong arm');
    expect(snap.output!.issues).toHaveLength(3);
  });

  describe('partial plans (receding horizon)', () => {
    // Refuses every step from `from` on: drafts longer than that fail there, prefixes pass.
    const refuseFrom = (from: number) => (input: { plan: { steps: readonly unknown[] } }) =>
      input.plan.steps.length > from ? { ok: false, issues: [issue(`step ${from} keyframe moves the bowl`, 'error', from)] } : { ok: true, issues: [] };

    it('runs the longest refused draft\'s steps before its first error, validated alone, then plans again', async () => {
      const h = harness({
        plans: [['pick cup', 'put cup', 'pick bowl'], ['pick cup', 'put bowl'], ['wrong'], ['pick bowl', 'put bowl']],
        // Round 1: drafts fail at steps 2, 1 and 0, then the first draft's two steps pass alone. Round 2 passes.
        validator: (input, n) =>
          n === 0 ? refuseFrom(2)(input) : n === 1 ? refuseFrom(1)(input) : n === 2 ? refuseFrom(0)(input) : { ok: true, issues: [] },
      });
      h.actor.start();
      const snap = await h.done();
      expect(snap.value).toBe('succeeded');
      // What was validated: three drafts, the prefix of v1 (the longest run before an error), then v4.
      expect(h.validatorCalls.map((c) => [c.plan.version, c.plan.steps.map((s) => s.instruction)])).toEqual([
        [1, ['pick cup', 'put cup', 'pick bowl']],
        [2, ['pick cup', 'put bowl']],
        [3, ['wrong']],
        [1, ['pick cup', 'put cup']],
        [4, ['pick bowl', 'put bowl']],
      ]);
      expect(h.dispatches.map((d) => [d.stepId, d.step.instruction])).toEqual([
        ['run-1/0/0', 'pick cup'], ['run-1/1/0', 'put cup'], ['run-1/2/0', 'pick bowl'], ['run-1/3/0', 'put bowl'],
      ]);
      // The next round sees a new observation and the done steps, with no refusal carried over.
      expect(h.events.filter((e) => e.type === 'observed')).toHaveLength(2);
      expect(h.plannerCalls[3]!.history.map((e) => [e.instruction, e.status])).toEqual([['pick cup', 'done'], ['put cup', 'done']]);
      expect(h.plannerCalls[3]!.rejected).toBeUndefined();
      const validated = h.events.filter((e) => e.type === 'plan_validated');
      expect(validated.map((e) => e.type === 'plan_validated' && [e.version, e.ok, e.stepBase, e.prefix])).toEqual([
        [1, false, undefined, undefined], [2, false, undefined, undefined], [3, false, undefined, undefined], [1, true, 0, 2], [4, true, 2, undefined],
      ]);
      const continued = h.events.find((e) => e.type === 'plan_continued');
      expect(continued).toMatchObject({ continuations: 1, limit: 6, afterStep: 1 });
      // Keyframes are dispatched under the files the prefix's draft logged them as.
      expect(h.events.filter((e) => e.type === 'step_dispatched').map((e) => e.type === 'step_dispatched' && e.keyframe).slice(0, 2)).toEqual([
        'plan-v1-step-00.png', 'plan-v1-step-01.png',
      ]);
      expect(snap.output!.continuations).toBe(1);
      expect(snap.output!.replans).toBe(0);
    });

    it('never sends a step of a prefix the validator refuses on its own', async () => {
      const h = harness({
        plans: [['pick cup', 'put cup', 'pick bowl']],
        validator: (input) => ({ ok: false, issues: [issue(input.plan.steps.length > 2 ? 'bowl moved' : 'too short', 'error', input.plan.steps.length > 2 ? 2 : null)] }),
      });
      h.actor.start();
      const snap = await h.done();
      expect(snap.value).toBe('failed');
      expect(h.dispatches).toHaveLength(0);
      expect(h.validatorCalls.map((c) => c.plan.steps.length)).toEqual([3, 3, 3, 2]);
      expect(snap.output!.reason).toBe('no valid plan after 3 drafts, and the first 2 steps of plan v1 alone were refused too: too short');
    });

    it('does not cut a plan refused as a whole or at its first step, nor with partialPlans off', async () => {
      for (const [validator, input] of [
        [() => ({ ok: false, issues: [issue('plan too long', 'error', null), issue('bowl moved', 'error', 2)] }), {}],
        [refuseFrom(0), {}],
        [refuseFrom(2), { partialPlans: false }],
      ] as const) {
        const h = harness({ plans: [['pick cup', 'put cup', 'pick bowl']], validator, input });
        h.actor.start();
        const snap = await h.done();
        expect(snap.value).toBe('failed');
        expect(h.dispatches).toHaveLength(0);
        expect(h.validatorCalls).toHaveLength(3);
        expect(snap.output!.reason).toMatch(/^no valid plan after 3 drafts: /);
      }
    });

    it('fails once partial plans were continued limits.maxReplans times', async () => {
      const h = harness({ input: { robot: robot({ maxReplans: 2 }) }, plans: [['step', 'too far']], validator: refuseFrom(1) });
      h.actor.start();
      const snap = await h.done();
      expect(snap.value).toBe('failed');
      expect(h.dispatches.map((d) => d.step.instruction)).toEqual(['step', 'step', 'step']);
      expect(snap.output!.continuations).toBe(2);
      expect(snap.output!.reason).toBe('planned again after 2 partial plans and the last one is done too; limit 2 (limits.maxReplans) reached');
    });

    it('a plan the validator accepts as short of the task runs whole, then the run plans again instead of finishing', async () => {
      const h = harness({
        plans: [['pick cup', 'put cup'], ['pick bowl', 'put bowl']],
        // The first plan leaves the bowl out: valid, with a warning, and incomplete.
        validator: (input) =>
          input.plan.steps[0]!.instruction === 'pick cup'
            ? { ok: true, issues: [issue('the bowl is still on the table', 'warning', null)], incomplete: true }
            : { ok: true, issues: [] },
      });
      h.actor.start();
      const snap = await h.done();
      expect(snap.value).toBe('succeeded');
      expect(h.dispatches.map((d) => [d.stepId, d.step.instruction])).toEqual([
        ['run-1/0/0', 'pick cup'], ['run-1/1/0', 'put cup'], ['run-1/2/0', 'pick bowl'], ['run-1/3/0', 'put bowl'],
      ]);
      // The validator is told the task, and the second round plans from a new observation.
      expect(h.validatorCalls.map((c) => c.task)).toEqual(['fold the t-shirt', 'fold the t-shirt']);
      expect(h.events.filter((e) => e.type === 'observed')).toHaveLength(2);
      const validated = h.events.filter((e) => e.type === 'plan_validated');
      expect(validated.map((e) => e.type === 'plan_validated' && [e.version, e.ok, e.prefix, e.incomplete])).toEqual([
        [1, true, undefined, true], [2, true, undefined, undefined],
      ]);
      expect(h.events.find((e) => e.type === 'plan_continued')).toMatchObject({ continuations: 1, afterStep: 1 });
      expect(snap.output!.continuations).toBe(1);
      expect(snap.output!.issues.map((i) => [i.message, i.version])).toEqual([['the bowl is still on the table', 1]]);
    });

    it('a run whose plans all stop short of the task fails at the limit, never succeeded', async () => {
      const h = harness({
        input: { robot: robot({ maxReplans: 1 }) },
        plans: [['pick cup']],
        validator: () => ({ ok: true, issues: [issue('the bowl is still on the table', 'warning', null)], incomplete: true }),
      });
      h.actor.start();
      const snap = await h.done();
      expect(snap.value).toBe('failed');
      expect(h.dispatches).toHaveLength(2);
      expect(snap.output!.reason).toMatch(/limit 1 \(limits.maxReplans\) reached/);
    });

    it('a miss inside a partial plan replans as usual', async () => {
      const h = harness({
        plans: [['pick cup', 'put cup', 'far'], ['pick cup', 'put cup', 'far'], ['pick cup', 'put cup', 'far'], ['put cup']],
        validator: refuseFrom(2),
        dispatcher: (input) => feedback(input, input.step.instruction === 'put cup' && input.attempt === 0 ? 'miss' : 'done'),
      });
      h.actor.start();
      const snap = await h.done();
      expect(snap.value).toBe('succeeded');
      expect(h.dispatches.map((d) => d.stepId)).toEqual(['run-1/0/0', 'run-1/1/0', 'run-1/2/1']);
      expect(snap.output!.replans).toBe(1);
      expect(snap.output!.continuations).toBe(0);
    });
  });

  it('the shipped validator rejects a keyframe that is not a PNG', async () => {
    const h = harness({
      input: { maxValidationRetries: 0 },
      planner: (input) => {
        const d = draft(input.version, ['pick']);
        d.steps[0]!.keyframe = new Uint8Array([1, 2, 3]);
        return d;
      },
    });
    h.actor.start();
    const snap = await h.done();
    expect(snap.value).toBe('failed');
    expect(snap.output!.issues.map((i) => i.code)).toEqual(['keyframe_not_png']);
  });

  it('dispatches nothing new while paused; the step in flight still completes', async () => {
    const pending: Deferred<StepFeedback>[] = [];
    const h = harness({
      dispatcher: () => {
        const d = deferred<StepFeedback>();
        pending.push(d);
        return d.promise;
      },
    });
    h.actor.start();
    await waitFor(h.actor, () => pending.length === 1);
    h.actor.send({ type: 'PAUSE' });
    pending[0]!.resolve(feedback(h.dispatches[0]!, 'done'));
    await waitFor(h.actor, (s) => s.matches({ executing: 'held' }));
    for (let i = 0; i < 5; i++) await flush();
    expect(h.dispatches).toHaveLength(1);
    expect(h.actor.getSnapshot().context.steps.map((s) => s.status)).toEqual(['done']);
    h.actor.send({ type: 'RESUME' });
    await waitFor(h.actor, () => pending.length === 2);
    pending[1]!.resolve(feedback(h.dispatches[1]!, 'done'));
    await waitFor(h.actor, () => pending.length === 3);
    pending[2]!.resolve(feedback(h.dispatches[2]!, 'done'));
    const snap = await h.done();
    expect(snap.value).toBe('succeeded');
    const types = h.events.map((e) => e.type);
    expect(types.indexOf('paused')).toBeLessThan(types.indexOf('resumed'));
    expect(types.filter((t) => t === 'step_dispatched')).toHaveLength(3);
  });

  it('a PAUSE during planning holds the first dispatch until RESUME', async () => {
    const plan = deferred<void>();
    const h = harness({ planner: async (input) => (await plan.promise, draft(input.version, ['pick'])) });
    h.actor.start();
    h.actor.send({ type: 'PAUSE' });
    plan.resolve();
    await waitFor(h.actor, (s) => s.matches({ executing: 'held' }));
    expect(h.dispatches).toHaveLength(0);
    h.actor.send({ type: 'RESUME' });
    expect((await h.done()).value).toBe('succeeded');
    expect(h.dispatches).toHaveLength(1);
  });

  it('ABORT mid-step stops the dispatcher (its signal aborts), cancels the step and ends aborted', async () => {
    let signal: AbortSignal | undefined;
    const h = harness({
      dispatcher: (_input, s) => {
        signal = s;
        return aborted(s);
      },
    });
    h.actor.start();
    await waitFor(h.actor, () => signal !== undefined);
    expect(signal!.aborted).toBe(false);
    h.actor.send({ type: 'ABORT', reason: 'operator pressed stop' });
    const snap = await h.done();
    expect(snap.value).toBe('aborted');
    expect(signal!.aborted).toBe(true);
    expect(h.cancels.map((c) => [c.stepId, c.reason])).toEqual([['run-1/0/0', 'operator pressed stop']]);
    expect(snap.output!.outcome).toBe('aborted');
    expect(snap.output!.steps.map((s) => s.status)).toEqual(['cancelled']);
    expect(h.events.at(-1)!.type).toBe('finished');
  });

  it('re-sends the same step id after CONNECTION_RESTORED, and sends no cancel on a lost connection', async () => {
    const signals: AbortSignal[] = [];
    const h = harness({
      dispatcher: (input, s) => {
        signals.push(s);
        return h.dispatches.length === 2 ? aborted(s) : feedback(input, 'done');
      },
    });
    h.actor.start();
    await waitFor(h.actor, () => h.dispatches.length === 2);
    h.actor.send({ type: 'CONNECTION_LOST' });
    expect(signals[1]!.aborted).toBe(true);
    await flush();
    expect(h.dispatches).toHaveLength(2);
    expect(h.actor.getSnapshot().matches({ executing: 'held' })).toBe(true);
    h.actor.send({ type: 'CONNECTION_RESTORED' });
    const snap = await h.done();
    expect(snap.value).toBe('succeeded');
    const ids = h.dispatches.map((d: DispatchInput) => [d.stepId, d.redispatch]);
    expect(ids).toEqual([['run-1/0/0', false], ['run-1/1/0', false], ['run-1/1/0', true], ['run-1/2/0', false]]);
    expect(h.cancels).toEqual([]);
    expect(snap.output!.steps).toHaveLength(3);
  });

  it('ABORT while a cut-off step waits for the connection cancels that step; ABORT between steps cancels nothing', async () => {
    const h = harness({ dispatcher: (input, s) => (input.stepIndex === 1 ? aborted(s) : feedback(input, 'done')) });
    h.actor.start();
    await waitFor(h.actor, () => h.dispatches.length === 2);
    h.actor.send({ type: 'CONNECTION_LOST' });
    h.actor.send({ type: 'ABORT' });
    const snap = await h.done();
    expect(snap.value).toBe('aborted');
    expect(h.cancels.map((c) => [c.stepId, c.reason])).toEqual([['run-1/1/0', 'aborted by the operator']]);
    expect(snap.output!.steps.map((s) => s.status)).toEqual(['done', 'cancelled']);

    const paused = harness();
    paused.actor.start();
    paused.actor.send({ type: 'PAUSE' });
    await waitFor(paused.actor, (s) => s.matches({ executing: 'held' }));
    paused.actor.send({ type: 'ABORT' });
    expect((await paused.done()).value).toBe('aborted');
    expect(paused.cancels).toEqual([]);
    expect(paused.dispatches).toEqual([]);
  });

  it('fails with a protocol error when the dispatcher answers for another step', async () => {
    const h = harness({ dispatcher: (input) => feedback({ ...input, stepIndex: input.stepIndex + 7 }, 'done') });
    h.actor.start();
    const snap = await h.done();
    expect(snap.value).toBe('failed');
    expect(snap.output!.reason).toBe('robot protocol error: feedback for run-1/7/0 while waiting for run-1/0/0');
  });

  it('fails naming the planner when it throws', async () => {
    const h = harness({ planner: () => { throw new Error('model server unreachable'); } });
    h.actor.start();
    const snap = await h.done();
    expect(snap.value).toBe('failed');
    expect(snap.output!.reason).toBe('planner failed: model server unreachable');
  });
});

describe('executorFor', () => {
  it('wires a Planner, passing the abort signal through, and the default validator', async () => {
    const { createActor } = await import('xstate');
    const { executorFor } = await import('../../src/executor/index.js');
    const seen: (AbortSignal | undefined)[] = [];
    const records: string[] = [];
    const machine = executorFor({
      observe: async () => new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1]),
      planner: { name: 'fake', plan: async (req) => (seen.push(req.signal), draft(req.version, req.history.length ? [] : ['pick'])) },
      dispatch: async (input) => feedback(input, 'done'),
      onRecord: (r) => records.push(r.event.type),
    });
    const actor = createActor(machine, { input: { runId: 'wired', robot: robot(), task: 'tidy' } }).start();
    const snap = await waitFor(actor, (s) => s.status === 'done');
    expect(snap.output!.outcome).toBe('succeeded');
    expect(seen[0]).toBeInstanceOf(AbortSignal);
    expect(records.at(-1)).toBe('finished');
  });
});
