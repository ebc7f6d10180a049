import { repairFrom, type PlanDraft, type PlanIssue } from '../planner/planner.js';
import type { ValidationResult } from '../validate/contract.js';
import { ExecutorError } from './errors.js';
import type { ReportIssue, RunRecord } from './run-event.js';

/*
 * What the executor's validating state does with the validator's answer, as pure functions of the
 * planning round so far: the decision (run the draft, draw another, run the good start of one, fail),
 * the context it leaves, and the plan_validated record it logs. The machine only routes on the decision.
 */

/** A refused draft and how many of its steps come before its first error: what runs if no draft passes. */
export interface Fallback {
  draft: PlanDraft;
  steps: number;
}

/** The part of the executor's context a validation decision reads (ExecutorContext has all of it). */
export interface ValidatingContext {
  /** The draft the validator answered for. */
  draft: PlanDraft | null;
  /** The draft is the start of a refused one (prefixDraft): if it is refused too, the run fails. */
  trimming: boolean;
  validationRetries: number;
  maxValidationRetries: number;
  partialPlans: boolean;
  fallback: Fallback | null;
  /** The first step index never sent: an accepted plan's steps are numbered from here. */
  nextStepIndex: number;
  issues: ReportIssue[];
}

export type ValidationDecision =
  /** Run the draft. `partial`: it is a prefix, or stops short of the task, so plan again after it. */
  | { type: 'accept'; partial: boolean }
  | RefusalDecision;

export type RefusalDecision =
  /** Ask the planner for another draft, telling it the errors of this one. */
  | { type: 'redraw'; rejected: PlanIssue[]; fallback: Fallback | null }
  /** No draft passed, but `fallback` has steps before its first error: validate those alone and run them. */
  | { type: 'trim'; fallback: Fallback }
  | { type: 'fail'; reason: string };

/** The context fields a decision changes; `issues` always gets the answer's issues, tagged with the draft's version. */
export type ValidationUpdate = Pick<ValidatingContext, 'issues'> &
  Partial<{
    plan: PlanDraft;
    planBase: number;
    cursor: number;
    partial: boolean;
    redispatch: boolean;
    validationRetries: number;
    rejected: PlanIssue[];
    fallback: Fallback | null;
    draft: PlanDraft;
    trimming: boolean;
    reason: string;
  }>;

/** A draft with a warning but no error passes, whatever `ok` says; an error refuses it even when `ok` is true. */
export function afterValidation(ctx: ValidatingContext, result: ValidationResult): ValidationDecision {
  if (result.ok && !result.issues.some(isError)) return { type: 'accept', partial: ctx.trimming || result.incomplete === true };
  return afterRefusal(ctx, result);
}

/**
 * A refused draft: draw again while retries are left; then run the longest good start of this round's
 * drafts (partialPlans); fail when there is none, or when the refused draft was that start already.
 */
export function afterRefusal(ctx: ValidatingContext, result: ValidationResult): RefusalDecision {
  const fallback = fallbackAfter(ctx.fallback, draftOf(ctx), result.issues);
  if (!ctx.trimming && ctx.validationRetries < ctx.maxValidationRetries) return { type: 'redraw', rejected: result.issues.filter(isError), fallback };
  if (ctx.partialPlans && !ctx.trimming && fallback !== null) return { type: 'trim', fallback };
  return { type: 'fail', reason: refusalReason(ctx, result.issues) };
}

export function validationUpdate(ctx: ValidatingContext, result: ValidationResult, decision = afterValidation(ctx, result)): ValidationUpdate {
  const draft = draftOf(ctx);
  // A prefix keeps the version (and keyframe files) of the draft it was cut from.
  const issues = [...ctx.issues, ...result.issues.map((i) => ({ ...i, version: draft.version }))];
  switch (decision.type) {
    case 'accept':
      return { issues, plan: draft, planBase: ctx.nextStepIndex, cursor: 0, partial: decision.partial, redispatch: false };
    case 'redraw':
      return { issues, validationRetries: ctx.validationRetries + 1, rejected: decision.rejected, fallback: decision.fallback };
    case 'trim':
      return { issues, fallback: decision.fallback, draft: prefixDraft(decision.fallback), trimming: true };
    case 'fail':
      return { issues, reason: decision.reason };
    default: {
      const never: never = decision;
      return never;
    }
  }
}

/** The plan_validated record of the answer: an accepted plan also says where its steps are numbered from. */
export function validatedRecord(ctx: ValidatingContext, result: ValidationResult, decision = afterValidation(ctx, result)): RunRecord {
  const draft = draftOf(ctx);
  if (decision.type !== 'accept') return { event: { type: 'plan_validated', version: draft.version, ok: false, issues: result.issues } };
  return {
    event: {
      type: 'plan_validated',
      version: draft.version,
      ok: true,
      issues: result.issues,
      stepBase: ctx.nextStepIndex,
      ...(ctx.trimming ? { prefix: draft.steps.length } : {}),
      ...(result.incomplete === true ? { incomplete: true } : {}),
    },
  };
}

/**
 * The round's fallback after `draft` was refused with `issues`: the draft with the most steps before
 * its first error (repairFrom, which skips warnings: 0 when an error is about the whole plan), the
 * earliest on a tie.
 */
export function fallbackAfter(fallback: Fallback | null, draft: PlanDraft, issues: readonly PlanIssue[]): Fallback | null {
  const steps = repairFrom(issues, draft.steps.length);
  return steps > (fallback?.steps ?? 0) ? { draft, steps } : fallback;
}

/** The steps of `fallback` before its first error, as a draft of its own (same version and files). */
export function prefixDraft(fallback: Fallback): PlanDraft {
  return { ...fallback.draft, steps: fallback.draft.steps.slice(0, fallback.steps) };
}

function refusalReason(ctx: ValidatingContext, issues: readonly PlanIssue[]): string {
  const draft = draftOf(ctx);
  const errors = issues.filter(isError);
  const drafts = ctx.validationRetries + 1;
  const why = errors.length > 0 ? issueList(errors) : 'the validator said no';
  const noPlan = `no valid plan after ${drafts} draft${drafts === 1 ? '' : 's'}`;
  if (!ctx.trimming) return `${noPlan}: ${why}`;
  const n = draft.steps.length;
  return `${noPlan}, and the first ${n} step${n === 1 ? '' : 's'} of plan v${draft.version} alone were refused too: ${why}`;
}

function issueList(issues: readonly PlanIssue[]): string {
  return issues.map((i) => `${i.step === null ? '' : `step ${i.step}: `}${i.message}`).join('; ');
}

const isError = (i: PlanIssue) => i.severity === 'error';

function draftOf(ctx: ValidatingContext): PlanDraft {
  if (ctx.draft === null) throw new ExecutorError('protocol', 'the validator answered with no draft being validated');
  return ctx.draft;
}
