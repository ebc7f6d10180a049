import { describe, expect, it } from 'vitest';
import { drawTemperature, nextAttempt, putOffIssue, robotRefusalIssue, TextRefusals, type PlanAttempt, type PutOffRule } from '../../src/model/plan-attempts.js';
import type { HistoryEntry, PlanDraft, PlanIssue, PlanRequest } from '../../src/planner/planner.js';

const draft = (steps: number): PlanDraft => ({
  id: 'r-onnx',
  version: 1,
  backend: 'onnx',
  createdAt: '',
  steps: Array.from({ length: steps }, (_, index) => ({ index, instruction: `step ${index}`, keyframe: new Uint8Array() })),
});
const request = (version: number, more: Partial<PlanRequest> = {}): PlanRequest => ({ robot: {} as never, task: 't', observation: new Uint8Array(), history: [], version, ...more });
const refusedAt = (step: number | null): PlanIssue[] => [{ code: 'keyframe_blank', severity: 'error', step, message: 'm' }];
const never: PutOffRule = { after: 0, subjectOf: (t) => t };

/** The attempts a planner goes through for `requests`, in order. */
function attempts(requests: PlanRequest[], rule = never): PlanAttempt[] {
  const out: PlanAttempt[] = [];
  for (const r of requests) out.push(nextAttempt(out.at(-1) ?? null, r, rule));
  return out;
}

describe('plan attempts', () => {
  it('counts the drafts of one plan version, and only the very first draft of a run is no retry', () => {
    const got = attempts([request(1), request(1), request(1), request(2), request(2)]);
    expect(got.map((a) => [a.version, a.draft, a.retry])).toEqual([
      [1, 0, false],
      [1, 1, true],
      [1, 2, true],
      [2, 0, true],
      [2, 1, true],
    ]);
  });

  it('repairs from the first refused step, one step earlier for each repair in a row, never before step 1', () => {
    const repair = (step: number | null, version = 1) => request(version, { rejected: refusedAt(step), previous: draft(5) });
    const got = attempts([request(1), repair(3), repair(3), repair(3), repair(3), repair(3, 2), request(2), repair(3, 2), repair(null, 2)]);
    expect(got.map((a) => [a.repairs, a.keep])).toEqual([
      [0, 0],
      [1, 3],
      [2, 2],
      [3, 1],
      [4, 1],
      // The streak goes on across versions: only a draft that is no repair ends it.
      [5, 1],
      [0, 0],
      [1, 3],
      // An error of the whole plan leaves nothing to keep.
      [0, 0],
    ]);
  });

  it('names the step to put off by its subject, and the step just missed by its text', () => {
    const h = (instruction: string, status: HistoryEntry['status'] = 'miss'): HistoryEntry => ({ stepIndex: 0, attempt: 0, instruction, status });
    const rule: PutOffRule = { after: 2, subjectOf: (t) => t.replace(/ with the \w+ arm$/, '') };
    const history = [h('pick up the cup with the left arm'), h('pick up the cup with the right arm')];
    const [attempt] = attempts([request(2, { history })], rule);
    expect(attempt!.putOff).toEqual({ subject: 'pick up the cup', after: 2 });
    expect(attempt!.missed).toBe('pick up the cup with the right arm');
    const issue = putOffIssue(attempt!, ['put the cup down', 'pick up the cup with the left arm'], 1, rule.subjectOf);
    expect(issue).toMatchObject({ code: 'put_off', severity: 'error', step: 1 });
    expect(putOffIssue(attempt!, ['pick up the cup with the left arm'], 1, rule.subjectOf)).toBeNull();
    expect(attempts([request(2, { history })])[0]!.putOff).toBeNull();
    expect(attempts([request(2, { history: [...history, h('put the cup down', 'done')] })], rule)[0]!.missed).toBeNull();
  });

  it('lists the steps the robot refused since it last moved, and refuses a plan that starts with one', () => {
    const h = (instruction: string, status: HistoryEntry['status'], reason?: string): HistoryEntry => ({ stepIndex: 0, attempt: 0, instruction, status, ...(reason ? { reason } : {}) });
    const history = [h('put the cup down', 'done'), h('pick up the fork with the left arm', 'rejected', 'out of reach'), h('pick up the fork', 'rejected')];
    const [attempt] = attempts([request(2, { history })]);
    expect(attempt!.refusedByRobot).toEqual([{ instruction: 'pick up the fork with the left arm', reason: 'out of reach' }, { instruction: 'pick up the fork' }]);
    const issue = robotRefusalIssue(attempt!, ['pick up the fork with the left arm', 'put the fork in the bin']);
    expect(issue).toMatchObject({ code: 'robot_refused', severity: 'error', step: 0 });
    expect(issue!.message).toContain('(out of reach)');
    // Only the first step: the ones after it run once the robot has moved.
    expect(robotRefusalIssue(attempt!, ['pick up the cup', 'pick up the fork'])).toBeNull();
    // A miss moved the robot: nothing refused since.
    expect(attempts([request(2, { history: [...history, h('pick up the cup', 'miss')] })])[0]!.refusedByRobot).toEqual([]);
  });

  it('samples a retry and every redraw at retryTemperature; 0 keeps them at the default', () => {
    const [first, retry] = attempts([request(1), request(1)]);
    expect([0, 1].map((draw) => drawTemperature(first!, draw, 0.7))).toEqual([undefined, 0.7]);
    expect([0, 1].map((draw) => drawTemperature(retry!, draw, 0.7))).toEqual([0.7, 0.7]);
    expect(drawTemperature(retry!, 1, 0)).toBeUndefined();
  });

  it('remembers the latest refused step and every text refused after a prefix', () => {
    const refusals = new TextRefusals();
    refusals.note(['a', 'b', 'c'], [...refusedAt(2), ...refusedAt(1)]);
    expect(refusals.latest).toEqual({ texts: ['a', 'b', 'c'], step: 1 });
    expect(refusals.refuse(['a'], 'b')).toEqual(['b']);
    expect(refusals.refuse(['a'], 'x')).toEqual(['b', 'x']);
    expect(refusals.refuse(['z'], 'b')).toEqual(['b']);
    refusals.note(['a', 'b'], refusedAt(null));
    expect(refusals.latest).toBeNull();
  });
});
