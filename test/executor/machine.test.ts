import { describe, expect, it } from 'vitest';
import { waitFor } from 'xstate';
import { harness } from './fakes.js';

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
  });
});
