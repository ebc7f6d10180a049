import { describe, expect, it } from 'vitest';
import { ExecutorError } from '../../src/executor/errors.js';
import {
  afterRefusal,
  afterValidation,
  fallbackAfter,
  prefixDraft,
  validatedRecord,
  validationUpdate,
  type ValidatingContext,
} from '../../src/executor/validation-decisions.js';
import type { PlanIssue } from '../../src/planner/planner.js';
import type { ValidationResult } from '../../src/validate/contract.js';
import { draft } from './fakes.js';

const error = (message: string, step: number | null): PlanIssue => ({ code: 'object_moved', severity: 'error', step, message });
const warning = (message: string, step: number | null = null): PlanIssue => ({ code: 'left_holding', severity: 'warning', step, message });

/** The first draft of a round, three retries to go, partial plans on, two steps already sent. */
function round(patch: Partial<ValidatingContext> = {}): ValidatingContext {
  return {
    draft: draft(3, ['pick cup', 'put cup', 'pick bowl', 'put bowl']),
    trimming: false,
    validationRetries: 0,
    maxValidationRetries: 2,
    partialPlans: true,
    fallback: null,
    nextStepIndex: 2,
    issues: [{ ...warning('from plan v2'), version: 2 }],
    ...patch,
  };
}

describe('afterValidation', () => {
  it('accepts a draft with warnings only, and runs it whole', () => {
    const ctx = round();
    const result: ValidationResult = { ok: true, issues: [warning('the left arm ends holding the cup', 3)] };
    expect(afterValidation(ctx, result)).toEqual({ type: 'accept', partial: false });
    expect(validationUpdate(ctx, result)).toEqual({
      issues: [ctx.issues[0], { ...warning('the left arm ends holding the cup', 3), version: 3 }],
      plan: ctx.draft,
      planBase: 2,
      cursor: 0,
      partial: false,
      redispatch: false,
    });
    expect(validatedRecord(ctx, result)).toEqual({
      event: { type: 'plan_validated', version: 3, ok: true, issues: result.issues, stepBase: 2 },
    });
  });

  it('accepts a plan short of the task as partial, and logs that it is incomplete', () => {
    const ctx = round();
    const result: ValidationResult = { ok: true, issues: [], incomplete: true };
    expect(afterValidation(ctx, result)).toEqual({ type: 'accept', partial: true });
    expect(validatedRecord(ctx, result).event).toMatchObject({ ok: true, incomplete: true });
  });

  it('accepts a prefix as partial, and logs how many steps of its draft it keeps', () => {
    const ctx = round({ draft: prefixDraft({ draft: draft(3, ['a', 'b', 'c']), steps: 2 }), trimming: true });
    const result: ValidationResult = { ok: true, issues: [] };
    expect(afterValidation(ctx, result)).toEqual({ type: 'accept', partial: true });
    expect(validatedRecord(ctx, result)).toEqual({
      event: { type: 'plan_validated', version: 3, ok: true, issues: [], stepBase: 2, prefix: 2 },
    });
  });

  it('does not take ok: true for an answer with an error in it', () => {
    expect(afterValidation(round(), { ok: true, issues: [error('bowl moved', 2)] }).type).toBe('redraw');
  });
});

describe('afterRefusal', () => {
  it('asks for another draft while retries are left, with the errors only, and keeps the good start as the fallback', () => {
    const ctx = round();
    const result: ValidationResult = { ok: false, issues: [warning('w', 0), error('bowl moved', 2)] };
    const decision = afterRefusal(ctx, result);
    expect(decision).toEqual({ type: 'redraw', rejected: [error('bowl moved', 2)], fallback: { draft: ctx.draft, steps: 2 } });
    expect(validationUpdate(ctx, result, decision)).toEqual({
      issues: [ctx.issues[0], { ...warning('w', 0), version: 3 }, { ...error('bowl moved', 2), version: 3 }],
      validationRetries: 1,
      rejected: [error('bowl moved', 2)],
      fallback: { draft: ctx.draft, steps: 2 },
    });
    expect(validatedRecord(ctx, result, decision)).toEqual({ event: { type: 'plan_validated', version: 3, ok: false, issues: result.issues } });
  });

  it('with no retries left, runs the longest good start of the round, cut from its own draft', () => {
    const earlier = { draft: draft(1, ['a', 'b', 'c', 'd']), steps: 3 };
    const ctx = round({ validationRetries: 2, fallback: earlier });
    const result: ValidationResult = { ok: false, issues: [error('bowl moved', 1)] };
    expect(afterRefusal(ctx, result)).toEqual({ type: 'trim', fallback: earlier });
    const update = validationUpdate(ctx, result);
    expect(update.trimming).toBe(true);
    expect(update.draft).toEqual({ ...earlier.draft, steps: earlier.draft.steps.slice(0, 3) });
    expect(update.draft!.version).toBe(1);
    // The refused draft's issues are tagged with its own version, not the fallback's.
    expect(update.issues.at(-1)).toEqual({ ...error('bowl moved', 1), version: 3 });
  });

  it('fails with every error listed when partial plans are off', () => {
    const ctx = round({ validationRetries: 2, partialPlans: false });
    const decision = afterRefusal(ctx, { ok: false, issues: [error('bowl moved', 2), error('too long', null)] });
    expect(decision).toEqual({ type: 'fail', reason: 'no valid plan after 3 drafts: step 2: bowl moved; too long' });
  });

  it('fails when no draft of the round has a good start (an error about the whole plan)', () => {
    const decision = afterRefusal(round({ maxValidationRetries: 0 }), { ok: false, issues: [error('too long', null)] });
    expect(decision).toEqual({ type: 'fail', reason: 'no valid plan after 1 draft: too long' });
  });

  it('fails when the good start is refused on its own too, naming it', () => {
    const ctx = round({ validationRetries: 2, draft: prefixDraft({ draft: draft(1, ['a', 'b', 'c']), steps: 2 }), trimming: true, fallback: { draft: draft(1, ['a', 'b', 'c']), steps: 2 } });
    const result: ValidationResult = { ok: false, issues: [error('cup lost', 1)] };
    expect(afterRefusal(ctx, result)).toEqual({
      type: 'fail',
      reason: 'no valid plan after 3 drafts, and the first 2 steps of plan v1 alone were refused too: step 1: cup lost',
    });
    expect(validationUpdate(ctx, result)).toEqual({
      issues: [ctx.issues[0], { ...error('cup lost', 1), version: 1 }],
      reason: 'no valid plan after 3 drafts, and the first 2 steps of plan v1 alone were refused too: step 1: cup lost',
    });
  });

  it('says the validator said no when it refuses without an error', () => {
    const decision = afterRefusal(round({ maxValidationRetries: 0, partialPlans: false }), { ok: false, issues: [warning('odd')] });
    expect(decision).toEqual({ type: 'fail', reason: 'no valid plan after 1 draft: the validator said no' });
  });

  it('throws a protocol error when there is no draft to decide about', () => {
    expect(() => afterRefusal(round({ draft: null }), { ok: false, issues: [] })).toThrow(ExecutorError);
  });
});

describe('fallbackAfter', () => {
  it('keeps the draft with the most steps before its first error, the earliest on a tie', () => {
    const first = draft(1, ['a', 'b', 'c']);
    const second = draft(2, ['a', 'b', 'c']);
    const kept = fallbackAfter(null, first, [error('x', 2)]);
    expect(kept).toEqual({ draft: first, steps: 2 });
    expect(fallbackAfter(kept, second, [error('x', 2)])).toBe(kept);
    expect(fallbackAfter(kept, second, [warning('w', 0), error('x', 1)])).toBe(kept);
    expect(fallbackAfter(kept, second, [error('x', 3)])).toEqual({ draft: second, steps: 3 });
    expect(fallbackAfter(null, second, [error('whole plan', null)])).toBeNull();
  });
});
