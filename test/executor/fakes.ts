import { SimulatedClock, createActor, fromPromise, waitFor, type Actor, type SnapshotFrom } from 'xstate';
import type { PlanDraft, PlanIssue } from '../../src/planner/planner.js';
import { loadProfile } from '../../src/profile/load.js';
import type { PlannedStep } from '../../src/schema/plan.js';
import type { RobotProfile } from '../../src/schema/robot-profile.js';
import { stepId } from '../../src/schema/step-command.js';
import type { FeedbackStatus, StepFeedback } from '../../src/schema/step-feedback.js';
import {
  executorMachine,
  type CancelStepParams,
  type DispatchInput,
  type ExecutorInput,
  type ObserveInput,
  type PlannerInput,
  type ValidationResult,
  type ValidatorInput,
} from '../../src/executor/machine.js';
import type { RunEvent, RunRecord } from '../../src/executor/run-event.js';
import { Rng } from '../../src/util/rng.js';

/** A few bytes that pass the PNG signature check; the tag makes keyframes tell apart. */
export function png(tag: string): Uint8Array {
  return new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...Buffer.from(tag)]);
}

export function robot(limits: Partial<RobotProfile['limits']> = {}): RobotProfile {
  const p = loadProfile('aloha-agilex');
  return { ...p, limits: { ...p.limits, stepTimeoutMs: 60_000, maxReplans: 6, ...limits } };
}

export function draft(version: number, instructions: readonly string[]): PlanDraft {
  return {
    id: `plan-${version}`,
    version,
    backend: 'fake',
    createdAt: '2026-01-01T00:00:00.000Z',
    steps: instructions.map((instruction, index): PlannedStep => ({ index, instruction, keyframe: png(`${version}:${index}`) })),
  };
}

export function feedback(input: DispatchInput, status: FeedbackStatus, extra: Partial<StepFeedback> = {}): StepFeedback {
  return { runId: input.runId, stepIndex: input.stepIndex, attempt: input.attempt, status, stamp: 0, ...extra };
}

/** Resolves when the signal aborts, so a test can tell a stopped dispatcher from one still waiting. */
export function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
}

/** A robot that executes each step id at most once and answers a duplicate with the earlier result. */
export class DedupingRobot {
  readonly executed: string[] = [];
  readonly results = new Map<string, StepFeedback>();
  constructor(private readonly outcome: (input: DispatchInput) => FeedbackStatus = () => 'done') {}

  execute(input: DispatchInput): StepFeedback {
    const id = stepId(input.runId, input.stepIndex, input.attempt);
    const earlier = this.results.get(id);
    if (earlier) return { ...earlier, duplicate: true };
    this.executed.push(id);
    const fb = feedback(input, this.outcome(input));
    this.results.set(id, fb);
    return fb;
  }
}

export interface Harness {
  actor: Actor<typeof executorMachine>;
  events: RunEvent[];
  records: RunRecord[];
  plannerCalls: PlannerInput[];
  validatorCalls: ValidatorInput[];
  dispatches: DispatchInput[];
  cancels: CancelStepParams[];
  done: () => Promise<SnapshotFrom<typeof executorMachine>>;
}

export interface FakeOptions {
  input?: Partial<ExecutorInput>;
  /** Plans to hand out in order; the last one repeats. */
  plans?: readonly (readonly string[])[];
  planner?: (input: PlannerInput, n: number) => PlanDraft | Promise<PlanDraft>;
  validator?: (input: ValidatorInput, n: number) => ValidationResult | Promise<ValidationResult>;
  dispatcher?: (input: DispatchInput, signal: AbortSignal) => StepFeedback | Promise<StepFeedback>;
  observe?: (input: ObserveInput) => Uint8Array | Promise<Uint8Array>;
  onRecord?: (record: RunRecord) => void;
  clock?: SimulatedClock;
}

export function harness(opts: FakeOptions = {}): Harness {
  const h = {
    events: [] as RunEvent[],
    records: [] as RunRecord[],
    plannerCalls: [] as PlannerInput[],
    validatorCalls: [] as ValidatorInput[],
    dispatches: [] as DispatchInput[],
    cancels: [] as CancelStepParams[],
  };
  const plans = opts.plans ?? [['a', 'b', 'c']];
  const machine = executorMachine.provide({
    actors: {
      observe: fromPromise<Uint8Array, ObserveInput>(async ({ input }) => (opts.observe ? opts.observe(input) : png(`obs${input.round}`))),
      planner: fromPromise<PlanDraft, PlannerInput>(async ({ input }) => {
        h.plannerCalls.push(input);
        const n = h.plannerCalls.length - 1;
        if (opts.planner) return opts.planner(input, n);
        return draft(input.version, plans[Math.min(n, plans.length - 1)]!);
      }),
      ...(opts.validator
        ? {
            validator: fromPromise<ValidationResult, ValidatorInput>(async ({ input }) => {
              h.validatorCalls.push(input);
              return opts.validator!(input, h.validatorCalls.length - 1);
            }),
          }
        : {}),
      dispatcher: fromPromise<StepFeedback, DispatchInput>(async ({ input, signal }) => {
        h.dispatches.push(input);
        if (opts.dispatcher) return opts.dispatcher(input, signal);
        return feedback(input, 'done');
      }),
    },
    actions: {
      log: (_, record) => {
        h.records.push(record);
        h.events.push(record.event);
        opts.onRecord?.(record);
      },
      cancelStep: (_, params) => {
        h.cancels.push(params);
      },
    },
  });
  const input: ExecutorInput = { runId: 'run-1', robot: robot(), task: 'fold the t-shirt', ...opts.input };
  const actor = createActor(machine, { input, ...(opts.clock ? { clock: opts.clock } : {}) });
  return {
    ...h,
    actor,
    done: () => waitFor(actor, (s) => s.status === 'done', { timeout: 5_000 }),
  };
}

export const issue = (message: string, severity: PlanIssue['severity'] = 'error', step: number | null = 0): PlanIssue => ({
  code: 'keyframe_blank',
  severity,
  step,
  message,
});

/** Lets pending promise callbacks (actor completions) run. */
export const flush = () => new Promise<void>((r) => setImmediate(r));

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Seeded uniform [0, 1) from the project's generator: the random tests replay exactly from their seed. */
export function seeded(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.float();
}

/**
 * A task of named steps and a robot that dedupes by step id: a step only succeeds when it is the next
 * one the task needs, and doing an already-done step again is counted as a repeat.
 */
export class World {
  done = 0;
  readonly repeats: string[] = [];
  readonly robot: DedupingRobot;
  constructor(readonly tasks: readonly string[], missRate: number, random: () => number) {
    this.robot = new DedupingRobot((input) => {
      const k = this.tasks.indexOf(input.step.instruction);
      if (k < this.done) this.repeats.push(input.stepId);
      if (k !== this.done || random() < missRate) return 'miss';
      this.done++;
      return 'done';
    });
  }
  remaining(): string[] {
    return this.tasks.slice(this.done);
  }
}
