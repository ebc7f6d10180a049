import type { RunEvent, RunOutcome } from '../src/executor/run-event.js';
import type { PlanIssue } from '../src/schema/plan-issue.js';

/*
 * A run as the page shows it, folded from its events.jsonl records. Pure: the live page and the
 * replay fold the same records with the same function, so what a replay shows at time t is what the
 * live page showed then.
 */

/** A record as the stream sends it: the log's event with the `seq` and `at` the run log stamped. */
export type LoggedEvent = RunEvent & { seq: number; at?: number };

/** superseded: never sent, because a later plan version took over. */
export type StepState = 'waiting' | 'dispatched' | 'done' | 'missed' | 'superseded';

export interface StepView {
  planStep: number;
  instruction: string;
  keyframe: string;
  state: StepState;
  /** The robot's word for how it ended: done, miss, timeout, rejected, cancelled. */
  status?: string;
  reason?: string;
  keyframeDistance?: number;
  /** Global step index, once dispatched. */
  stepIndex?: number;
  attempt?: number;
}

export interface PlanView {
  version: number;
  retry: number;
  steps: StepView[];
  /** Absent while the draft is being validated. */
  validation?: { ok: boolean; issues: PlanIssue[]; stepBase?: number; prefix?: number; incomplete?: boolean };
  observation?: string;
}

export interface ReplanView {
  seq: number;
  kind: 'replan' | 'continued' | 'rejected';
  text: string;
}

export interface RunView {
  runId: string;
  robot?: string;
  task?: string;
  backend?: string;
  startedAt?: number;
  plans: PlanView[];
  replans: ReplanView[];
  /** What the executor is doing now, in words. */
  executor: string;
  /** The latest keyframe-camera picture the run logged: it logs one when it plans, not after every step. */
  observation?: string;
  /** The planning round that picture was taken for. */
  observationRound?: number;
  outcome?: RunOutcome;
  reason?: string;
  paused: boolean;
  /** auto, approve-plan or approve-step (absent: auto). */
  autonomy?: string;
  /** What the run waits for an operator to approve, if it waits. */
  approval: { scope: string; planVersion: number; stepIndex: number; steps: string[] } | null;
  /** The last record folded in; -1 before any. */
  lastSeq: number;
  badMessages: number;
}

export function emptyRun(runId: string): RunView {
  return { runId, plans: [], replans: [], executor: 'waiting for the run to start', paused: false, approval: null, lastSeq: -1, badMessages: 0 };
}

const MISSED = new Set(['miss', 'timeout', 'rejected', 'cancelled']);

/** The run after one more record. Returns a new object; the old one is left as it was. */
export function foldEvent(view: RunView, e: LoggedEvent): RunView {
  if (e.seq <= view.lastSeq) return view;
  const next: RunView = { ...view, lastSeq: e.seq, plans: view.plans, replans: view.replans };
  const planAt = (version: number, change: (p: PlanView) => PlanView) => {
    next.plans = next.plans.map((p) => (p.version === version ? change(p) : p));
  };
  const stepAt = (version: number, planStep: number, change: (s: StepView) => StepView) =>
    planAt(version, (p) => ({ ...p, steps: p.steps.map((s) => (s.planStep === planStep ? change(s) : s)) }));
  switch (e.type) {
    case 'run_started':
      Object.assign(next, { robot: e.robot, task: e.task, backend: e.backend, startedAt: e.at, autonomy: e.autonomy ?? 'auto', executor: 'observing the scene' });
      break;
    case 'approval_requested':
      next.approval = { scope: e.scope, planVersion: e.planVersion, stepIndex: e.stepIndex, steps: e.steps };
      next.executor = e.scope === 'plan' ? `waiting for approval of plan v${e.planVersion}` : `waiting for approval of step ${e.stepIndex}`;
      break;
    case 'approval_given':
      next.approval = null;
      next.executor = `${e.scope === 'plan' ? `plan v${e.planVersion}` : `step ${e.stepIndex}`} approved`;
      break;
    case 'approval_refused':
      next.approval = null;
      next.replans = [
        ...next.replans,
        { seq: e.seq, kind: 'rejected', text: `operator rejected ${e.scope === 'plan' ? `plan v${e.planVersion}` : `step ${e.stepIndex}`}${e.note ? `: ${e.note}` : ''}${e.abort ? ' (abort)' : ''}` },
      ];
      next.executor = e.abort ? 'rejected: aborting' : 'rejected: replanning';
      break;
    case 'run_resumed':
      next.executor = `resumed: ${e.next ? `${e.next.action} step ${e.next.stepIndex}` : e.start}`;
      break;
    case 'observed':
      next.observation = e.file;
      next.observationRound = e.round;
      next.executor = `planning (round ${e.round})`;
      break;
    case 'plan_created':
      next.plans = [
        ...next.plans,
        {
          version: e.version,
          retry: e.retry,
          ...(e.plan.observation ? { observation: e.plan.observation } : {}),
          steps: e.plan.steps.map((s) => ({ planStep: s.index, instruction: s.instruction, keyframe: s.keyframe, state: 'waiting' as const })),
        },
      ];
      next.executor = `validating plan v${e.version}`;
      break;
    case 'plan_validated':
      planAt(e.version, (p) => ({ ...p, validation: { ok: e.ok, issues: e.issues, ...optional(e) } }));
      if (e.ok) {
        next.plans = next.plans.map((p) =>
          p.version < e.version && p.steps.some((s) => s.state === 'waiting')
            ? { ...p, steps: p.steps.map((s) => (s.state === 'waiting' ? { ...s, state: 'superseded' as const } : s)) }
            : p,
        );
      }
      next.executor = e.ok ? `plan v${e.version} accepted` : `plan v${e.version} refused; planning again`;
      break;
    case 'step_dispatched':
      stepAt(e.planVersion, e.planStep, (s) => ({ ...s, state: 'dispatched', stepIndex: e.stepIndex, attempt: e.attempt, status: undefined, reason: undefined }));
      next.executor = `executing step ${e.stepIndex}${e.redispatch ? ' (sent again)' : ''}: ${e.instruction}`;
      break;
    case 'step_feedback':
      stepAt(e.planVersion, e.planStep, (s) => ({
        ...s,
        state: e.status === 'done' ? 'done' : MISSED.has(e.status) ? 'missed' : s.state,
        status: e.status,
        stepIndex: e.stepIndex,
        attempt: e.attempt,
        ...(e.reason !== undefined ? { reason: e.reason } : {}),
        ...(e.feedback?.keyframeDistance !== undefined ? { keyframeDistance: e.feedback.keyframeDistance } : {}),
      }));
      next.executor = `step ${e.stepIndex} ${e.status}`;
      break;
    case 'replan':
      next.replans = [
        ...next.replans,
        { seq: e.seq, kind: 'replan', text: `replan ${e.replans}/${e.limit} after step ${e.after.stepIndex} ${e.after.status}${e.after.reason ? `: ${e.after.reason}` : ''}` },
      ];
      next.executor = `replanning after step ${e.after.stepIndex} ${e.after.status}`;
      break;
    case 'plan_continued':
      next.replans = [...next.replans, { seq: e.seq, kind: 'continued', text: `planning round ${e.continuations}/${e.limit} after step ${e.afterStep}: the partial plan is done` }];
      next.executor = 'planning the rest of the task';
      break;
    case 'paused':
      next.paused = true;
      next.executor = 'paused';
      break;
    case 'resumed':
      next.paused = false;
      next.executor = 'running';
      break;
    case 'connection_lost':
      next.executor = `robot connection lost${e.stepIndex !== undefined ? ` during step ${e.stepIndex}` : ''}`;
      break;
    case 'connection_restored':
      next.executor = 'robot connection restored';
      break;
    case 'bad_message':
      next.badMessages = view.badMessages + e.count;
      break;
    case 'finished':
      next.outcome = e.report.outcome;
      if (e.report.reason !== undefined) next.reason = e.report.reason;
      next.executor = `finished: ${e.report.outcome}`;
      break;
    default: {
      // A new event type does not compile until it is shown; one from a newer service is skipped.
      const unknown: never = e;
      void unknown;
    }
  }
  return next;
}

function optional(e: Extract<RunEvent, { type: 'plan_validated' }>) {
  return {
    ...(e.stepBase !== undefined ? { stepBase: e.stepBase } : {}),
    ...(e.prefix !== undefined ? { prefix: e.prefix } : {}),
    ...(e.incomplete !== undefined ? { incomplete: e.incomplete } : {}),
  };
}

export function foldEvents(runId: string, events: readonly LoggedEvent[]): RunView {
  return events.reduce(foldEvent, emptyRun(runId));
}

/** The keyframe the arm heads for now (the step in flight), else the next one to send. */
export function nextKeyframe(view: RunView): { plan: number; step: StepView } | null {
  for (const want of ['dispatched', 'waiting'] as const) {
    for (const p of [...view.plans].reverse()) {
      if (p.validation?.ok !== true) continue;
      const step = p.steps.find((s) => s.state === want && (p.validation?.prefix === undefined || s.planStep < p.validation.prefix));
      if (step) return { plan: p.version, step };
      if (want === 'waiting') break;
    }
  }
  return null;
}
