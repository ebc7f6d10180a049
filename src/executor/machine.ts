import { assign, enqueueActions, fromPromise, setup } from 'xstate';
import type { HistoryEntry, PlanDraft, PlanIssue, PlanRequest } from '../planner/planner.js';
import type { Plan, PlannedStep } from '../schema/plan.js';
import type { RobotProfile } from '../schema/robot-profile.js';
import { stepId } from '../schema/step-command.js';
import type { Holding, StepFeedback } from '../schema/step-feedback.js';
import type { SceneId } from '../schema/task.js';
import type { ValidationResult, ValidatorInput } from '../validate/contract.js';
import { ExecutorError, messageOf } from './errors.js';
import {
  runFiles,
  type ApprovalScope,
  type Autonomy,
  type ReportIssue,
  type ResumeStart,
  type RunEvent,
  type RunOutcome,
  type RunRecord,
  type RunReport,
  type StepOutcome,
  type StepRecord,
} from './run-event.js';
import { afterValidation, validatedRecord, validationUpdate, type Fallback, type ValidationDecision } from './validation-decisions.js';

export type { ValidationResult, ValidatorInput } from '../validate/contract.js';

/*
 * The executor: plan -> validate -> dispatch steps one by one -> replan on a miss. All I/O is in
 * injected actors (observe, planner, validator, dispatcher) and actions (log, cancelStep), so the same
 * machine runs against the simulator, a real robot over rosbridge, and the fakes in the tests.
 *
 * Step ids. `stepId(runId, stepIndex, attempt)` is the robot's idempotency key, so it must never name
 * two different things in one run, and must name the same thing again when we re-send after a dropped
 * connection or a resume. The scheme:
 *   - stepIndex is global to the run and only grows. When a plan is accepted it gets
 *     `stepBase = nextStepIndex` (the first index never sent), and its step k runs as stepBase + k.
 *     `nextStepIndex` moves past an index the moment that index is dispatched, so a replan after a miss
 *     at index i starts at i + 1; indexes a superseded plan never sent are reused by its successor,
 *     which is safe because the robot never saw them.
 *   - attempt counts failed attempts (miss, rejected, timeout, cancelled) since the last `done`: the
 *     n-th try at the same point of the task. It does not make ids unique (stepIndex already does); it
 *     tells the robot and the log how many times this point has been retried.
 *   - a re-send (CONNECTION_RESTORED, or `--resume` of a step that was in flight) keeps both, so the id
 *     is the same and the robot answers with its earlier result instead of acting twice.
 *
 * Observations: the machine invokes `observe` at the start of every planning round and passes the PNG
 * to the planner (PlanRequest.observation) and the validator, and to the log, so a replan's input is on
 * disk. Validation retries within a round re-use the round's observation.
 */

export const DEFAULT_MAX_VALIDATION_RETRIES = 2;

export type PlannerInput = Omit<PlanRequest, 'signal'>;
export interface ObserveInput {
  runId: string;
  /** Planning round, 1 for the first plan of a run. */
  round: number;
}
export interface DispatchInput {
  runId: string;
  stepIndex: number;
  attempt: number;
  stepId: string;
  step: PlannedStep;
  /** True when this exact step id was sent before (connection restored, resume). */
  redispatch: boolean;
}
/** Fire-and-forget: tell the robot to stop a step (timeout, ABORT). Never sent for a lost connection. */
export interface CancelStepParams {
  runId: string;
  stepIndex: number;
  attempt: number;
  stepId: string;
  reason: string;
}

/**
 * Where a machine continues a logged run (see resumeState in run-log.ts).
 * start: 'dispatch' runs `plan` from `cursor`; 'replan' counts a replan for `failure` and plans;
 * 'plan' plans without counting (the replan was logged, or no plan was ever accepted).
 */
export interface ExecutorResume {
  start: ResumeStart;
  history: StepRecord[];
  /**
   * `partial`: the plan is the validated prefix of a refused draft (see ExecutorInput.partialPlans),
   * or a plan the validator found short of the task (ValidationResult.incomplete).
   */
  plan: { draft: PlanDraft; base: number; cursor: number; partial?: boolean } | null;
  nextStepIndex: number;
  attempt: number;
  replans: number;
  /** Planning rounds started because a partial plan was done (absent in logs from before them: 0). */
  continuations?: number;
  /** Last plan version handed out; the next draft gets planVersion + 1. */
  planVersion: number;
  /** Planning rounds so far (observations taken). */
  rounds: number;
  issues: ReportIssue[];
  failure: StepRecord | null;
  /** The step at `cursor` was sent before the log stopped: re-send it with the same id. */
  redispatch: boolean;
  /** The plan version an operator approved (approve-plan), or whose steps were sent already. */
  approvedPlan?: number | null;
  /** The step attempt an operator approved and that was not sent yet (approve-step). */
  approvedStep?: ApprovedStep | null;
  /** Approvals asked, given and refused before the log stopped. */
  approvals?: ApprovalCounts;
}

export interface ApprovedStep {
  stepIndex: number;
  attempt: number;
}

export interface ApprovalCounts {
  requested: number;
  given: number;
  refused: number;
}

export interface ExecutorInput {
  runId: string;
  robot: RobotProfile;
  task: string;
  scene?: SceneId;
  maxValidationRetries?: number;
  /**
   * When the last draft of a round is refused for a step after the first, run the steps before it and
   * plan again from a new observation once they are done (default true). Those steps are validated
   * again on their own before anything moves, so nothing unvalidated is ever sent: this is receding-
   * horizon execution. A world model draws each keyframe from the one before it, so its errors pile up
   * along the chain; the far steps will be drawn again from a real picture anyway. false fails the run
   * instead, as a whole-plan planner would. A run plans again this way at most limits.maxReplans times
   * (a budget of its own: these rounds follow steps that were done, not misses).
   */
  partialPlans?: boolean;
  /** Recorded in run_started so the run can be re-created; the machine does not use them. */
  backend?: string;
  seed?: number;
  /** Whether steps wait for an operator's APPROVE (default auto: they do not). */
  autonomy?: Autonomy;
  resume?: ExecutorResume;
}

export type ExecutorEvent =
  | { type: 'PAUSE' }
  | { type: 'RESUME' }
  | { type: 'ABORT'; reason?: string }
  /** The operator lets the plan (approve-plan) or step (approve-step) waiting for approval go. */
  | { type: 'APPROVE' }
  /** The operator refuses it: replan with `note` in the history, or end the run (`abort`). */
  | { type: 'REJECT'; note?: string; abort?: boolean }
  | { type: 'CONNECTION_LOST' }
  | { type: 'CONNECTION_RESTORED' };

export interface ExecutorContext {
  runId: string;
  robot: RobotProfile;
  task: string;
  scene?: SceneId;
  maxValidationRetries: number;
  partialPlans: boolean;
  backend?: string;
  seed?: number;
  resume: ExecutorResume | null;
  rounds: number;
  observation: Uint8Array | null;
  observationFile: string | null;
  planVersion: number;
  /** The draft being validated. */
  draft: PlanDraft | null;
  validationRetries: number;
  rejected: PlanIssue[];
  /**
   * The refused draft of this round with the longest run of steps before its first error, and that
   * length: what runs if no draft passes (partialPlans).
   */
  fallback: Fallback | null;
  /** The draft being validated is such a prefix: if it is refused too, the run fails. */
  trimming: boolean;
  /** The accepted plan being executed, its global step base, and the plan step to run next. */
  plan: PlanDraft | null;
  /** The accepted plan is a prefix, or stops short of the task: when it is done, plan again instead of finishing. */
  partial: boolean;
  /** Planning rounds started because a partial plan was done. */
  continuations: number;
  planBase: number;
  cursor: number;
  nextStepIndex: number;
  attempt: number;
  redispatch: boolean;
  replans: number;
  /** The failed attempt that sent us to `replanning`. */
  failure: StepRecord | null;
  steps: StepRecord[];
  issues: ReportIssue[];
  autonomy: Autonomy;
  approvedPlan: number | null;
  approvedStep: ApprovedStep | null;
  approvals: ApprovalCounts;
  paused: boolean;
  connected: boolean;
  outcome: RunOutcome | null;
  reason: string | null;
}

// ---------------------------------------------------------------------------------------------------
// Pure helpers

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;

export function isPng(bytes: Uint8Array | undefined): boolean {
  return bytes !== undefined && bytes.length > PNG_SIGNATURE.length && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/** The check shipped as the default validator: enough to never send a step the robot cannot parse. */
export function basicValidate(plan: PlanDraft): ValidationResult {
  const issues: PlanIssue[] = [];
  plan.steps.forEach((step, i) => {
    if (typeof step.instruction !== 'string' || step.instruction.trim() === '') {
      issues.push({ code: 'empty_instruction', severity: 'error', step: i, message: `step ${i} has no instruction` });
    }
    if (!(step.keyframe instanceof Uint8Array) || step.keyframe.length === 0) {
      issues.push({ code: 'missing_keyframe', severity: 'error', step: i, message: `step ${i} has no keyframe` });
    } else if (!isPng(step.keyframe)) {
      issues.push({ code: 'keyframe_not_png', severity: 'error', step: i, message: `step ${i}'s keyframe is not a PNG` });
    }
  });
  return { ok: !issues.some((x) => x.severity === 'error'), issues };
}

/** The keystep.plan/1 document of a draft, keyframes named as the run log stores them. */
export function planDocument(draft: PlanDraft, robot: RobotProfile, task: string, observationFile: string | null): Plan {
  return {
    format: 'keystep.plan/1',
    id: draft.id,
    version: draft.version,
    robot: robot.id,
    task,
    ...(draft.scene !== undefined ? { scene: draft.scene } : {}),
    backend: draft.backend,
    createdAt: draft.createdAt,
    ...(observationFile !== null ? { observation: observationFile } : {}),
    steps: draft.steps.map((s, k) => ({
      index: s.index,
      instruction: s.instruction,
      ...(s.action !== undefined ? { action: s.action } : {}),
      keyframe: runFiles.keyframe(draft.version, k),
    })),
  };
}

function history(steps: readonly StepRecord[]): HistoryEntry[] {
  return steps.map(({ stepIndex, attempt, instruction, status, reason, holding }) => ({
    stepIndex,
    attempt,
    instruction,
    status,
    ...(reason !== undefined ? { reason } : {}),
    ...(holding !== undefined ? { holding } : {}),
  }));
}

function describeFailure(status: StepOutcome): string {
  switch (status) {
    case 'miss': return 'missed';
    case 'rejected': return 'was rejected';
    case 'timeout': return 'timed out';
    case 'cancelled': return 'was cancelled';
    case 'done': return 'was done';
    default: {
      const never: never = status;
      return never;
    }
  }
}

function replanLimitReason(f: StepRecord, limit: number): string {
  const why = f.reason !== undefined && f.reason !== f.status ? ` (${f.reason})` : '';
  const times = f.attempt + 1;
  return `step ${f.stepIndex} ${describeFailure(f.status)}${why}, ${times} failed attempt${times === 1 ? '' : 's'} since the last done step; replan limit ${limit} reached`;
}

export function buildReport(ctx: ExecutorContext): RunReport {
  const outcome = ctx.outcome ?? 'failed';
  return {
    runId: ctx.runId,
    outcome,
    verdict: outcome === 'succeeded' && ctx.steps.length === 0 ? 'nothing_to_do' : outcome,
    ...(ctx.reason !== null ? { reason: ctx.reason } : {}),
    steps: ctx.steps,
    replans: ctx.replans,
    continuations: ctx.continuations,
    planVersions: ctx.planVersion,
    issues: ctx.issues,
    ...(ctx.autonomy !== 'auto' ? { approvals: { autonomy: ctx.autonomy, ...ctx.approvals } } : {}),
  };
}

/**
 * Whether the step at the cursor must wait for an operator first. A re-send never waits: its id
 * went to the robot already, which may be carrying it out.
 */
export function awaitsApproval(ctx: ExecutorContext): boolean {
  if (ctx.redispatch || ctx.plan === null) return false;
  switch (ctx.autonomy) {
    case 'auto':
      return false;
    case 'approve-plan':
      return ctx.approvedPlan !== ctx.plan.version;
    case 'approve-step': {
      const a = ctx.approvedStep;
      return a === null || a.stepIndex !== ctx.planBase + ctx.cursor || a.attempt !== ctx.attempt;
    }
    default: {
      const never: never = ctx.autonomy;
      return never;
    }
  }
}

function approvalScope(ctx: ExecutorContext): ApprovalScope {
  return ctx.autonomy === 'approve-plan' ? 'plan' : 'step';
}

/** The reason a refused plan or step is recorded with: what the planner reads in the history. */
export function operatorRefusalReason(scope: ApprovalScope, planVersion: number, note: string | undefined): string {
  const who = scope === 'plan' ? `plan v${planVersion} rejected by the operator` : 'rejected by the operator';
  return note !== undefined && note.trim() !== '' ? `${who}: ${note.trim()}` : who;
}

function current(ctx: ExecutorContext): { step: PlannedStep; stepIndex: number; id: string } {
  const step = ctx.plan?.steps[ctx.cursor];
  if (ctx.plan === null || step === undefined) {
    throw new ExecutorError('protocol', `no step ${ctx.cursor} in the current plan`, ctx.runId);
  }
  const stepIndex = ctx.planBase + ctx.cursor;
  return { step, stepIndex, id: stepId(ctx.runId, stepIndex, ctx.attempt) };
}

function record(ctx: ExecutorContext, status: StepOutcome, reason: string | undefined, holding?: Holding): StepRecord {
  const { step, stepIndex } = current(ctx);
  return {
    stepIndex,
    attempt: ctx.attempt,
    instruction: step.instruction,
    status,
    ...(reason !== undefined ? { reason } : {}),
    ...(holding !== undefined ? { holding } : {}),
    planVersion: ctx.plan!.version,
  };
}

function feedbackRecord(ctx: ExecutorContext, rec: StepRecord, feedback?: StepFeedback): RunRecord {
  return {
    event: {
      type: 'step_feedback',
      stepIndex: rec.stepIndex,
      attempt: rec.attempt,
      stepId: stepId(ctx.runId, rec.stepIndex, rec.attempt),
      planVersion: rec.planVersion,
      planStep: rec.stepIndex - ctx.planBase,
      instruction: rec.instruction,
      status: rec.status,
      ...(rec.reason !== undefined ? { reason: rec.reason } : {}),
      ...(feedback !== undefined ? { feedback } : {}),
    },
  };
}

/** Checks that the dispatcher answered for the step we sent, with a terminal status. */
function feedbackProblem(ctx: ExecutorContext, fb: StepFeedback): string | null {
  const { stepIndex } = current(ctx);
  if (fb.runId !== ctx.runId || fb.stepIndex !== stepIndex || fb.attempt !== ctx.attempt) {
    return `feedback for ${stepId(fb.runId, fb.stepIndex, fb.attempt)} while waiting for ${stepId(ctx.runId, stepIndex, ctx.attempt)}`;
  }
  if (fb.status === 'accepted') return `dispatcher resolved step ${stepIndex} with "accepted", which is not a result`;
  return null;
}

function feedbackOutcome(fb: StepFeedback): StepOutcome {
  switch (fb.status) {
    case 'done':
    case 'miss':
    case 'rejected':
    case 'cancelled':
      return fb.status;
    case 'accepted':
      throw new ExecutorError('protocol', 'accepted is not a terminal status', fb.runId, fb.stepIndex);
    default: {
      const never: never = fb.status;
      return never;
    }
  }
}

function initialContext(input: ExecutorInput): ExecutorContext {
  const r = input.resume;
  return {
    runId: input.runId,
    robot: input.robot,
    task: input.task,
    ...(input.scene !== undefined ? { scene: input.scene } : {}),
    maxValidationRetries: input.maxValidationRetries ?? DEFAULT_MAX_VALIDATION_RETRIES,
    partialPlans: input.partialPlans ?? true,
    ...(input.backend !== undefined ? { backend: input.backend } : {}),
    ...(input.seed !== undefined ? { seed: input.seed } : {}),
    resume: r ?? null,
    autonomy: input.autonomy ?? 'auto',
    approvedPlan: r?.approvedPlan ?? null,
    approvedStep: r?.approvedStep ?? null,
    approvals: { requested: 0, given: 0, refused: 0, ...r?.approvals },
    rounds: r?.rounds ?? 0,
    observation: null,
    observationFile: null,
    planVersion: r?.planVersion ?? 0,
    draft: null,
    validationRetries: 0,
    rejected: [],
    fallback: null,
    trimming: false,
    plan: r?.plan?.draft ?? null,
    partial: r?.plan?.partial ?? false,
    continuations: r?.continuations ?? 0,
    planBase: r?.plan?.base ?? 0,
    cursor: r?.plan?.cursor ?? 0,
    nextStepIndex: r?.nextStepIndex ?? 0,
    attempt: r?.attempt ?? 0,
    redispatch: r?.redispatch ?? false,
    replans: r?.replans ?? 0,
    failure: r?.failure ?? null,
    steps: r ? [...r.history] : [],
    issues: r ? [...r.issues] : [],
    paused: false,
    connected: true,
    outcome: null,
    reason: null,
  };
}

const notProvided = (name: string) =>
  fromPromise<never, unknown>(async () => {
    throw new ExecutorError('not_provided', `the executor's ${name} actor was not provided`);
  });

/** A guard on the validator's answer: the decision afterValidation makes of it is `type`. */
const decided =
  (type: ValidationDecision['type']) =>
  ({ context, event }: { context: ExecutorContext; event: { output: ValidationResult } }) =>
    afterValidation(context, event.output).type === type;

// ---------------------------------------------------------------------------------------------------
// The machine

export const executorMachine = setup({
  types: {
    context: {} as ExecutorContext,
    events: {} as ExecutorEvent,
    input: {} as ExecutorInput,
    output: {} as RunReport,
  },
  actors: {
    observe: notProvided('observe') as unknown as ReturnType<typeof fromPromise<Uint8Array, ObserveInput>>,
    planner: notProvided('planner') as unknown as ReturnType<typeof fromPromise<PlanDraft, PlannerInput>>,
    validator: fromPromise<ValidationResult, ValidatorInput>(async ({ input }) => basicValidate(input.plan)),
    dispatcher: notProvided('dispatcher') as unknown as ReturnType<typeof fromPromise<StepFeedback, DispatchInput>>,
  },
  actions: {
    /** The run log and progress display subscribe here; the default drops events. */
    log: (_, _record: RunRecord) => {},
    cancelStep: (_, _params: CancelStepParams) => {},
  },
  delays: {
    stepTimeout: ({ context }) => context.robot.limits.stepTimeoutMs,
  },
  guards: {
    paused: ({ context }) => context.paused,
    disconnected: ({ context }) => !context.connected,
    held: ({ context }) => context.paused || !context.connected,
    planExhausted: ({ context }) => context.plan !== null && context.cursor >= context.plan.steps.length,
    partialPlanDone: ({ context }) => context.partial && context.plan !== null && context.cursor >= context.plan.steps.length,
    overReplanLimit: ({ context }) => context.replans >= context.robot.limits.maxReplans,
    overContinuationLimit: ({ context }) => context.continuations >= context.robot.limits.maxReplans,
  },
}).createMachine({
  id: 'executor',
  context: ({ input }) => initialContext(input),
  output: ({ context }) => buildReport(context),
  initial: 'starting',
  on: {
    PAUSE: {
      guard: ({ context }) => !context.paused,
      actions: [assign({ paused: true }), { type: 'log', params: { event: { type: 'paused' } } }],
    },
    RESUME: {
      guard: 'paused',
      actions: [assign({ paused: false }), { type: 'log', params: { event: { type: 'resumed' } } }],
    },
    CONNECTION_LOST: {
      guard: ({ context }) => context.connected,
      actions: [assign({ connected: false }), { type: 'log', params: { event: { type: 'connection_lost' } } }],
    },
    CONNECTION_RESTORED: {
      guard: 'disconnected',
      actions: [assign({ connected: true }), { type: 'log', params: { event: { type: 'connection_restored' } } }],
    },
    ABORT: {
      target: '.aborted',
      actions: assign({ reason: ({ event }) => event.reason ?? 'aborted by the operator' }),
    },
  },
  states: {
    starting: {
      entry: {
        type: 'log',
        params: ({ context }): RunRecord => {
          const r = context.resume;
          if (r !== null) {
            return {
              event: {
                type: 'run_resumed',
                start: r.start,
                nextStepIndex: r.nextStepIndex,
                attempt: r.attempt,
                replans: r.replans,
                continuations: r.continuations ?? 0,
                planVersion: r.planVersion,
              },
            };
          }
          return {
            event: {
              type: 'run_started',
              runId: context.runId,
              robot: context.robot.id,
              task: context.task,
              ...(context.scene !== undefined ? { scene: context.scene } : {}),
              ...(context.backend !== undefined ? { backend: context.backend } : {}),
              ...(context.seed !== undefined ? { seed: context.seed } : {}),
              maxValidationRetries: context.maxValidationRetries,
              partialPlans: context.partialPlans,
              limits: { stepTimeoutMs: context.robot.limits.stepTimeoutMs, maxReplans: context.robot.limits.maxReplans },
              ...(context.autonomy !== 'auto' ? { autonomy: context.autonomy } : {}),
            },
          };
        },
      },
      always: [
        { guard: ({ context }) => context.resume?.start === 'dispatch' && context.plan !== null, target: 'executing' },
        { guard: ({ context }) => context.resume?.start === 'replan' && context.failure !== null, target: 'replanning' },
        { target: 'planning' },
      ],
    },

    planning: {
      initial: 'observing',
      states: {
        observing: {
          entry: assign({ rounds: ({ context }) => context.rounds + 1, validationRetries: 0, rejected: [], fallback: null, trimming: false }),
          invoke: {
            src: 'observe',
            input: ({ context }): ObserveInput => ({ runId: context.runId, round: context.rounds }),
            onDone: {
              target: 'drafting',
              actions: [
                assign({
                  observation: ({ event }) => event.output,
                  observationFile: ({ context }) => runFiles.observation(context.rounds),
                }),
                {
                  type: 'log',
                  params: ({ context }): RunRecord => ({
                    event: { type: 'observed', round: context.rounds, file: context.observationFile! },
                    files: [{ name: context.observationFile!, bytes: context.observation! }],
                  }),
                },
              ],
            },
            onError: {
              target: '#executor.failed',
              actions: assign({ reason: ({ event }) => `could not observe the scene: ${messageOf(event.error)}` }),
            },
          },
        },
        drafting: {
          invoke: {
            src: 'planner',
            input: ({ context }): PlannerInput => ({
              robot: context.robot,
              task: context.task,
              ...(context.scene !== undefined ? { scene: context.scene } : {}),
              observation: context.observation!,
              history: history(context.steps),
              version: context.planVersion + 1,
              ...(context.rejected.length > 0 && context.draft !== null ? { rejected: context.rejected, previous: context.draft } : {}),
            }),
            onDone: {
              target: '#executor.validating',
              actions: [
                // The version is ours to hand out: a backend that echoes a stale one must not make two
                // plan files share a name. (Both assigners see the context from before this assign.)
                assign({
                  planVersion: ({ context }) => context.planVersion + 1,
                  draft: ({ context, event }) => ({ ...event.output, version: context.planVersion + 1 }),
                }),
                {
                  type: 'log',
                  params: ({ context }): RunRecord => {
                    const draft = context.draft!;
                    return {
                      event: {
                        type: 'plan_created',
                        version: draft.version,
                        file: runFiles.plan(draft.version),
                        plan: planDocument(draft, context.robot, context.task, context.observationFile),
                        retry: context.validationRetries,
                      },
                      files: draft.steps.map((s, k) => ({ name: runFiles.keyframe(draft.version, k), bytes: s.keyframe })),
                    };
                  },
                },
              ],
            },
            onError: {
              target: '#executor.failed',
              actions: assign({ reason: ({ event }) => `planner failed: ${messageOf(event.error)}` }),
            },
          },
        },
      },
    },

    // An empty plan, the planner's "nothing left to do", is validated too: the validator may know the
    // task is not done (task_not_done), and the run must not end as succeeded on the planner's word.
    // Accepted, it runs as a plan with no steps: the run succeeds.
    validating: {
      invoke: {
        src: 'validator',
        input: ({ context }): ValidatorInput => ({
          plan: context.draft!,
          robot: context.robot,
          ...(context.observation !== null ? { observation: context.observation } : {}),
          history: history(context.steps),
          task: context.task,
        }),
        // One decision (validation-decisions.ts) picks the branch. Each logs the answer against the round as
        // it stood when the answer came, then applies the decision to the context.
        onDone: [
          {
            guard: decided('accept'),
            target: 'executing',
            actions: [
              { type: 'log', params: ({ context, event }) => validatedRecord(context, event.output) },
              assign(({ context, event }) => validationUpdate(context, event.output)),
            ],
          },
          {
            guard: decided('redraw'),
            target: 'planning.drafting',
            actions: [
              { type: 'log', params: ({ context, event }) => validatedRecord(context, event.output) },
              assign(({ context, event }) => validationUpdate(context, event.output)),
            ],
          },
          {
            // Receding horizon: the good start of a refused draft is validated alone, then run.
            guard: decided('trim'),
            target: 'validating',
            reenter: true,
            actions: [
              { type: 'log', params: ({ context, event }) => validatedRecord(context, event.output) },
              assign(({ context, event }) => validationUpdate(context, event.output)),
            ],
          },
          {
            target: 'failed',
            actions: [
              { type: 'log', params: ({ context, event }) => validatedRecord(context, event.output) },
              assign(({ context, event }) => validationUpdate(context, event.output)),
            ],
          },
        ],
        onError: {
          target: 'failed',
          actions: assign({ reason: ({ event }) => `validator failed: ${messageOf(event.error)}` }),
        },
      },
    },

    executing: {
      initial: 'next',
      states: {
        next: {
          always: [
            { guard: 'partialPlanDone', target: '#executor.continuing' },
            { guard: 'planExhausted', target: '#executor.succeeded' },
            { guard: 'held', target: 'held' },
            { guard: ({ context }) => awaitsApproval(context), target: 'awaiting' },
            { target: 'dispatching' },
          ],
        },
        // Waiting for the operator (autonomy approve-plan / approve-step). Nothing is sent and no step
        // timer runs; PAUSE, CONNECTION_LOST and ABORT are handled at the top like anywhere else.
        awaiting: {
          entry: [
            assign({ approvals: ({ context }) => ({ ...context.approvals, requested: context.approvals.requested + 1 }) }),
            {
              type: 'log',
              params: ({ context }): RunRecord => {
                const { step, stepIndex } = current(context);
                const scope = approvalScope(context);
                return {
                  event: {
                    type: 'approval_requested',
                    scope,
                    planVersion: context.plan!.version,
                    planStep: context.cursor,
                    stepIndex,
                    attempt: context.attempt,
                    steps: scope === 'plan' ? context.plan!.steps.slice(context.cursor).map((s) => s.instruction) : [step.instruction],
                  },
                };
              },
            },
          ],
          on: {
            APPROVE: {
              target: 'next',
              actions: [
                assign({
                  approvedPlan: ({ context }) => context.plan!.version,
                  approvedStep: ({ context }) => ({ stepIndex: current(context).stepIndex, attempt: context.attempt }),
                  approvals: ({ context }) => ({ ...context.approvals, given: context.approvals.given + 1 }),
                }),
                {
                  type: 'log',
                  params: ({ context }): RunRecord => ({
                    event: { type: 'approval_given', scope: approvalScope(context), planVersion: context.plan!.version, stepIndex: current(context).stepIndex, attempt: context.attempt },
                  }),
                },
              ],
            },
            REJECT: [
              {
                guard: ({ event }) => event.abort === true,
                target: '#executor.aborted',
                actions: [
                  assign({
                    approvals: ({ context }) => ({ ...context.approvals, refused: context.approvals.refused + 1 }),
                    reason: ({ context, event }) => operatorRefusalReason(approvalScope(context), context.plan!.version, event.note),
                  }),
                  { type: 'log', params: ({ context, event }) => refusedRecord(context, event, true) },
                ],
              },
              {
                // Recorded as a rejected attempt at the step, so the replan's history carries the note.
                target: '#executor.replanning',
                actions: [
                  assign({
                    approvals: ({ context }) => ({ ...context.approvals, refused: context.approvals.refused + 1 }),
                    failure: ({ context, event }) => record(context, 'rejected', operatorRefusalReason(approvalScope(context), context.plan!.version, event.note)),
                  }),
                  { type: 'log', params: ({ context, event }) => refusedRecord(context, event, false) },
                  { type: 'log', params: ({ context }) => feedbackRecord(context, context.failure!) },
                  assign({
                    steps: ({ context }) => [...context.steps, context.failure!],
                    attempt: ({ context }) => context.attempt + 1,
                    redispatch: false,
                  }),
                ],
              },
            ],
          },
        },
        // Between steps, waiting for RESUME and/or CONNECTION_RESTORED. Nothing is awaited here, but
        // after a lost connection the robot may still be working on the step we stopped waiting for.
        held: {
          on: {
            ABORT: {
              guard: ({ context }) => context.redispatch,
              target: '#executor.aborted',
              actions: enqueueActions(({ context, event, enqueue }) => {
                const a = abandon(context, event);
                enqueue.assign(a.assign);
                enqueue({ type: 'cancelStep', params: a.cancel });
                enqueue({ type: 'log', params: a.log });
              }),
            },
            RESUME: {
              guard: 'paused',
              target: 'next',
              actions: [assign({ paused: false }), { type: 'log', params: { event: { type: 'resumed' } } }],
            },
            CONNECTION_RESTORED: {
              guard: 'disconnected',
              target: 'next',
              actions: [assign({ connected: true }), { type: 'log', params: { event: { type: 'connection_restored' } } }],
            },
          },
        },
        dispatching: {
          entry: [
            {
              type: 'log',
              params: ({ context }): RunRecord => {
                const { step, stepIndex, id } = current(context);
                return {
                  event: {
                    type: 'step_dispatched',
                    stepIndex,
                    attempt: context.attempt,
                    stepId: id,
                    planVersion: context.plan!.version,
                    planStep: context.cursor,
                    instruction: step.instruction,
                    keyframe: runFiles.keyframe(context.plan!.version, context.cursor),
                    redispatch: context.redispatch,
                  },
                };
              },
            },
            assign({ nextStepIndex: ({ context }) => Math.max(context.nextStepIndex, current(context).stepIndex + 1) }),
          ],
          invoke: {
            src: 'dispatcher',
            input: ({ context }): DispatchInput => {
              const { step, stepIndex, id } = current(context);
              return { runId: context.runId, stepIndex, attempt: context.attempt, stepId: id, step, redispatch: context.redispatch };
            },
            onDone: [
              {
                guard: ({ context, event }) => feedbackProblem(context, event.output) !== null,
                target: '#executor.failed',
                actions: assign({
                  reason: ({ context, event }) => `robot protocol error: ${feedbackProblem(context, event.output)}`,
                }),
              },
              {
                guard: ({ event }) => event.output.status === 'done',
                target: 'next',
                actions: [
                  {
                    type: 'log',
                    params: ({ context, event }) =>
                      feedbackRecord(context, record(context, 'done', event.output.reason, event.output.holding), event.output),
                  },
                  assign({
                    steps: ({ context, event }) => [...context.steps, record(context, 'done', event.output.reason, event.output.holding)],
                    cursor: ({ context }) => context.cursor + 1,
                    attempt: 0,
                    redispatch: false,
                  }),
                ],
              },
              {
                target: '#executor.replanning',
                actions: [
                  assign({
                    failure: ({ context, event }) =>
                      record(context, feedbackOutcome(event.output), event.output.reason ?? event.output.status, event.output.holding),
                  }),
                  {
                    type: 'log',
                    params: ({ context, event }) => feedbackRecord(context, context.failure!, event.output),
                  },
                  assign({
                    steps: ({ context }) => [...context.steps, context.failure!],
                    attempt: ({ context }) => context.attempt + 1,
                    redispatch: false,
                  }),
                ],
              },
            ],
            onError: {
              target: '#executor.failed',
              actions: assign({
                reason: ({ context, event }) => `dispatching step ${current(context).stepIndex} failed: ${messageOf(event.error)}`,
              }),
            },
          },
          after: {
            stepTimeout: {
              target: '#executor.replanning',
              actions: [
                assign({ failure: ({ context }) => record(context, 'timeout', 'timeout') }),
                {
                  type: 'cancelStep',
                  params: ({ context }): CancelStepParams => {
                    const { stepIndex, id } = current(context);
                    return { runId: context.runId, stepIndex, attempt: context.attempt, stepId: id, reason: 'timeout' };
                  },
                },
                { type: 'log', params: ({ context }) => feedbackRecord(context, context.failure!) },
                assign({
                  steps: ({ context }) => [...context.steps, context.failure!],
                  attempt: ({ context }) => context.attempt + 1,
                  redispatch: false,
                }),
              ],
            },
          },
          on: {
            // Leaving the state stops the dispatcher (its signal aborts) without a cancel: the robot may
            // well finish the step, and re-sending the same id on CONNECTION_RESTORED collects the result.
            CONNECTION_LOST: {
              guard: ({ context }) => context.connected,
              target: 'held',
              actions: [
                assign({ connected: false, redispatch: true }),
                {
                  type: 'log',
                  params: ({ context }): RunRecord => ({ event: { type: 'connection_lost', stepIndex: current(context).stepIndex } }),
                },
              ],
            },
            ABORT: {
              target: '#executor.aborted',
              actions: enqueueActions(({ context, event, enqueue }) => {
                const a = abandon(context, event);
                enqueue.assign(a.assign);
                enqueue({ type: 'cancelStep', params: a.cancel });
                enqueue({ type: 'log', params: a.log });
              }),
            },
          },
        },
      },
    },

    replanning: {
      always: [
        {
          guard: 'overReplanLimit',
          target: 'failed',
          actions: assign({ reason: ({ context }) => replanLimitReason(context.failure!, context.robot.limits.maxReplans) }),
        },
        {
          target: 'planning',
          actions: [
            assign({ replans: ({ context }) => context.replans + 1, plan: null }),
            {
              type: 'log',
              params: ({ context }): RunRecord => {
                const f = context.failure!;
                return {
                  event: {
                    type: 'replan',
                    replans: context.replans,
                    limit: context.robot.limits.maxReplans,
                    after: {
                      stepIndex: f.stepIndex,
                      attempt: f.attempt,
                      status: f.status,
                      ...(f.reason !== undefined ? { reason: f.reason } : {}),
                    },
                  },
                };
              },
            },
          ],
        },
      ],
    },

    // A partial plan is done: look again and plan the rest (receding horizon).
    continuing: {
      always: [
        {
          guard: 'overContinuationLimit',
          target: 'failed',
          actions: assign({
            reason: ({ context }) =>
              `planned again after ${context.continuations} partial plans and the last one is done too; limit ${context.robot.limits.maxReplans} (limits.maxReplans) reached`,
          }),
        },
        {
          target: 'planning',
          actions: [
            assign({ continuations: ({ context }) => context.continuations + 1, plan: null, partial: false }),
            {
              type: 'log',
              params: ({ context }): RunRecord => ({
                event: { type: 'plan_continued', continuations: context.continuations, limit: context.robot.limits.maxReplans, afterStep: context.nextStepIndex - 1 },
              }),
            },
          ],
        },
      ],
    },

    succeeded: {
      type: 'final',
      entry: [assign({ outcome: 'succeeded' }), { type: 'log', params: ({ context }) => finished(context) }],
    },
    failed: {
      type: 'final',
      entry: [assign({ outcome: 'failed' }), { type: 'log', params: ({ context }) => finished(context) }],
    },
    aborted: {
      type: 'final',
      entry: [assign({ outcome: 'aborted' }), { type: 'log', params: ({ context }) => finished(context) }],
    },
  },
});

/** ABORT with a step that may be running on the robot: cancel it and report it cancelled. */
function abandon(context: ExecutorContext, event: ExecutorEvent) {
  const reason = (event.type === 'ABORT' ? event.reason : undefined) ?? 'aborted by the operator';
  const { stepIndex, id } = current(context);
  const rec = record(context, 'cancelled', reason);
  return {
    assign: { reason, steps: [...context.steps, rec] } satisfies Partial<ExecutorContext>,
    cancel: { runId: context.runId, stepIndex, attempt: context.attempt, stepId: id, reason } satisfies CancelStepParams,
    log: feedbackRecord(context, rec),
  };
}

function refusedRecord(context: ExecutorContext, event: ExecutorEvent, abort: boolean): RunRecord {
  const note = event.type === 'REJECT' && event.note !== undefined && event.note.trim() !== '' ? event.note.trim() : undefined;
  return {
    event: {
      type: 'approval_refused',
      scope: approvalScope(context),
      planVersion: context.plan!.version,
      stepIndex: current(context).stepIndex,
      attempt: context.attempt,
      ...(note !== undefined ? { note } : {}),
      abort,
    },
  };
}

function finished(context: ExecutorContext): RunRecord {
  return { event: { type: 'finished', report: buildReport(context) } };
}

export type ExecutorMachine = typeof executorMachine;
