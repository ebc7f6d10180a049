import { z } from 'zod';
import { HistoryEntry, PlanIssue, StepOutcome } from '../schema/index.js';

export { PlanIssue, StepOutcome };
import { Plan } from '../schema/plan.js';
import { SceneId } from '../schema/task.js';
import { Holding, StepFeedback } from '../schema/step-feedback.js';

/**
 * Everything a run does, as data. The executor machine emits these; the run log appends them to
 * `events.jsonl` and `--resume` rebuilds the run's position from them, so every fact resume needs
 * (step-index base of each accepted plan, attempt numbers, replan count) is in an event, not only in
 * the machine's memory. Images never go in here: keyframes and observations are file names in the run
 * directory.
 */

const FileName = z.string().regex(/^[A-Za-z0-9._-]+\.(png|json)$/);
const Index = z.number().int().min(0);

/** A finding about one plan version, as the report lists it. */
export const ReportIssue = PlanIssue.extend({ version: z.number().int().min(1) });
export type ReportIssue = z.infer<typeof ReportIssue>;

/** One attempt at one step, in the report and in the history the planner sees when it replans. */
export const StepRecord = HistoryEntry.extend({ planVersion: z.number().int().min(1) });
export type StepRecord = z.infer<typeof StepRecord>;

export const RunOutcome = z.enum(['succeeded', 'failed', 'aborted']);

/**
 * Who lets a step move: `auto` dispatches every validated step; `approve-plan` waits for an operator
 * before the first step of each accepted plan version; `approve-step` before every step.
 */
export const Autonomy = z.enum(['auto', 'approve-plan', 'approve-step']);
export type Autonomy = z.infer<typeof Autonomy>;

/** What an approval is asked for: a whole plan version, or one step of it. */
export const ApprovalScope = z.enum(['plan', 'step']);
export type ApprovalScope = z.infer<typeof ApprovalScope>;
export type RunOutcome = z.infer<typeof RunOutcome>;

/**
 * What a run came to, as people read it: its outcome, or `nothing_to_do` when it succeeded without
 * sending a step because its first plan was empty and validated (the task was already done in the
 * camera picture). Never SUCCEEDED with 0 steps.
 */
export const RunVerdict = z.enum([...RunOutcome.options, 'nothing_to_do']);
export type RunVerdict = z.infer<typeof RunVerdict>;

export const RunReport = z.object({
  runId: z.string(),
  outcome: RunOutcome,
  /** The outcome as people read it (RunVerdict); absent in logs written before it was recorded. */
  verdict: RunVerdict.optional(),
  reason: z.string().optional(),
  /** Every attempt, oldest first, including those from before a `--resume`. */
  steps: z.array(StepRecord),
  replans: Index,
  /** Rounds planned because a partial plan was done (ExecutorInput.partialPlans); absent in old logs. */
  continuations: Index.optional(),
  /** Plan drafts the planner produced, rejected ones included. */
  planVersions: Index,
  issues: z.array(ReportIssue),
  /** Operator approvals of a run that was not `auto`: asked, given, refused. Absent for `auto`. */
  approvals: z.object({ autonomy: Autonomy, requested: Index, given: Index, refused: Index }).optional(),
});
export type RunReport = z.infer<typeof RunReport>;

/** Where a (re)started machine begins; see ExecutorResume in machine.ts. */
export const ResumeStart = z.enum(['dispatch', 'replan', 'plan']);
export type ResumeStart = z.infer<typeof ResumeStart>;

// `seq` and `at` are stamped by the writer (the run log), not by the machine, which stays clock-free.
const envelope = { seq: Index.optional(), at: z.number().optional() };
const event = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ type: z.literal(type), ...envelope, ...shape });

export const RunEvent = z.discriminatedUnion('type', [
  /** Everything needed to start the same run again. */
  event('run_started', {
    runId: z.string().min(1),
    robot: z.string().min(1),
    task: z.string().min(1),
    scene: SceneId.optional(),
    backend: z.string().optional(),
    seed: z.number().int().optional(),
    maxValidationRetries: Index,
    /** ExecutorInput.partialPlans; absent in logs from before it (they ran whole plans only). */
    partialPlans: z.boolean().optional(),
    limits: z.object({ stepTimeoutMs: z.number(), maxReplans: Index }),
    /** ExecutorInput.autonomy; absent for `auto` (and in logs from before it). */
    autonomy: Autonomy.optional(),
  }),
  event('run_resumed', {
    start: ResumeStart,
    /** The first global step index never sent (not the step a resume re-sends: see `next`). */
    nextStepIndex: Index,
    attempt: Index,
    replans: Index,
    continuations: Index.optional(),
    planVersion: Index,
    /**
     * What the resumed run does first, added by the run session (which has the log's plan): `resend`
     * the step that was in flight, with its old id; `send` the plan's next step; or `plan` again,
     * the new plan starting at `stepIndex`. Absent in older logs.
     */
    next: z.object({ action: z.enum(['resend', 'send', 'plan']), stepIndex: Index, attempt: Index, instruction: z.string().optional() }).optional(),
  }),
  /** A keyframe-camera frame the next plan is drawn from. */
  event('observed', { round: z.number().int().min(1), file: FileName }),
  event('plan_created', {
    version: z.number().int().min(1),
    file: FileName,
    plan: Plan,
    /** Validation retries before this draft in the same planning round. */
    retry: Index,
  }),
  /**
   * `stepBase` is present when the plan was accepted: plan step k runs as global step stepBase + k.
   * `prefix` is present when only the plan's first `prefix` steps were accepted (validated on their
   * own after every draft of the round was refused); the run plans again when they are done.
   * `incomplete` is true when the validator found the accepted plan valid but short of the task
   * (`task_incomplete`): the run plans again when it is done, too. Absent in logs from before it.
   */
  event('plan_validated', {
    version: z.number().int().min(1),
    ok: z.boolean(),
    issues: z.array(PlanIssue),
    stepBase: Index.optional(),
    prefix: z.number().int().min(1).optional(),
    incomplete: z.boolean().optional(),
  }),
  event('step_dispatched', {
    stepIndex: Index,
    attempt: Index,
    stepId: z.string(),
    planVersion: z.number().int().min(1),
    planStep: Index,
    instruction: z.string(),
    keyframe: FileName,
    /** The same step id sent again after a lost connection or a resume; the robot dedupes it. */
    redispatch: z.boolean(),
  }),
  event('step_feedback', {
    stepIndex: Index,
    attempt: Index,
    stepId: z.string(),
    planVersion: z.number().int().min(1),
    planStep: Index,
    instruction: z.string(),
    status: StepOutcome,
    reason: z.string().optional(),
    feedback: StepFeedback.optional(),
  }),
  event('replan', {
    /** Replans so far, this one included. */
    replans: Index,
    limit: Index,
    after: z.object({ stepIndex: Index, attempt: Index, status: StepOutcome, reason: z.string().optional() }),
  }),
  /** A partial plan is done: a new planning round starts (not a replan: no step failed). */
  event('plan_continued', {
    /** Continuations so far, this one included. */
    continuations: z.number().int().min(1),
    limit: Index,
    /** The global index of the partial plan's last step. */
    afterStep: Index,
  }),
  /**
   * The run waits for an operator before it sends `stepIndex` (attempt `attempt`) of plan `planVersion`:
   * the plan's first step (scope plan) or this one step (scope step). Nothing is sent while it waits.
   */
  event('approval_requested', {
    scope: ApprovalScope,
    planVersion: z.number().int().min(1),
    planStep: Index,
    stepIndex: Index,
    attempt: Index,
    /** The instructions waiting for approval: the plan's steps from planStep on, or the one step. */
    steps: z.array(z.string()),
  }),
  event('approval_given', { scope: ApprovalScope, planVersion: z.number().int().min(1), stepIndex: Index, attempt: Index }),
  /**
   * The operator said no. Unless `abort`, the step waiting is recorded as `rejected` with the note as
   * its reason (a step_feedback with no dispatch before it), and the run replans with it in the history.
   */
  event('approval_refused', {
    scope: ApprovalScope,
    planVersion: z.number().int().min(1),
    stepIndex: Index,
    attempt: Index,
    note: z.string().max(2000).optional(),
    abort: z.boolean(),
  }),
  event('paused', {}),
  event('resumed', {}),
  event('connection_lost', { stepIndex: Index.optional() }),
  /**
   * Messages from the robot keystep refused to trust (bad feedback, undecodable frames), recorded by the
   * run session, not the machine: the first of each kind at once, repeats counted in later records.
   */
  event('bad_message', {
    topic: z.string(),
    reason: z.string(),
    /** Messages of this topic and reason since the previous record of them (1 for the first). */
    count: z.number().int().min(1),
    /** The start of the first such message, as JSON, for reading what the robot sent. */
    sample: z.string().max(500).optional(),
  }),
  event('connection_restored', {}),
  event('finished', { report: RunReport }),
]);
export type RunEvent = z.infer<typeof RunEvent>;
export type RunEventType = RunEvent['type'];
export type RunEventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;

/** A file the log writes into the run directory before it appends the event that names it. */
export interface RunFile {
  name: string;
  bytes: Uint8Array;
}

/** What the machine hands to its `log` action: the event plus the images it refers to. */
export interface RunRecord {
  event: RunEvent;
  files?: readonly RunFile[];
}

/** File names inside `runs/<run-id>/`, shared by the machine (which names) and the log (which writes). */
export const runFiles = {
  events: 'events.jsonl',
  plan: (version: number) => `plan-v${version}.json`,
  keyframe: (version: number, planStep: number) => `plan-v${version}-step-${String(planStep).padStart(2, '0')}.png`,
  observation: (round: number) => `observation-${String(round).padStart(3, '0')}.png`,
} as const;
