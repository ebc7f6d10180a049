import { fromPromise } from 'xstate';
import type { PlanDraft, Planner } from '../planner/planner.js';
import type { StepFeedback } from '../schema/step-feedback.js';
import {
  basicValidate,
  executorMachine,
  type CancelStepParams,
  type DispatchInput,
  type ObserveInput,
  type PlannerInput,
  type ValidationResult,
  type ValidatorInput,
} from './machine.js';
import type { RunRecord } from './run-event.js';

export * from './errors.js';
export * from './machine.js';
export * from './run-event.js';
export * from './run-log.js';

/** The I/O an executor runs against; everything but observe, planner and dispatch has a default. */
export interface ExecutorIo {
  observe(input: ObserveInput, signal: AbortSignal): Promise<Uint8Array>;
  planner: Planner;
  validate?(input: ValidatorInput, signal: AbortSignal): Promise<ValidationResult>;
  /** Sends the step, resolves with its terminal feedback; on abort, stop waiting but do NOT cancel. */
  dispatch(input: DispatchInput, signal: AbortSignal): Promise<StepFeedback>;
  /** Publish a cancel for a step (timeout, ABORT). Fire-and-forget. */
  cancelStep?(params: CancelStepParams): void;
  /** Every RunEvent, with the files it names (e.g. `runLog.record`, a progress printer). */
  onRecord?(record: RunRecord): void;
}

/** The executor machine wired to real I/O; start it with `createActor(executorFor(io), { input })`. */
export function executorFor(io: ExecutorIo) {
  return executorMachine.provide({
    actors: {
      observe: fromPromise<Uint8Array, ObserveInput>(({ input, signal }) => io.observe(input, signal)),
      planner: fromPromise<PlanDraft, PlannerInput>(({ input, signal }) => io.planner.plan({ ...input, signal })),
      validator: fromPromise<ValidationResult, ValidatorInput>(({ input, signal }) =>
        io.validate ? io.validate(input, signal) : Promise.resolve(basicValidate(input.plan)),
      ),
      dispatcher: fromPromise<StepFeedback, DispatchInput>(({ input, signal }) => io.dispatch(input, signal)),
    },
    actions: {
      log: (_, record) => io.onRecord?.(record),
      cancelStep: (_, params) => io.cancelStep?.(params),
    },
  });
}
