import { z } from 'zod';
import { ApprovalScope, Autonomy, RunOutcome, RunReport, StepRecord } from '../executor/run-event.js';
import { KEYFRAME_SAMPLERS } from '../model/world-model.js';
import { BACKENDS } from '../run/session.js';
import { Action, HistoryEntry, PlanIssue, SceneId } from '../schema/index.js';

/*
 * The service's wire format: every request body, parameter and response as a zod schema. Routes are
 * validated with these (fastify-type-provider-zod) and /openapi.json is generated from them, so the
 * document and the checks cannot drift apart.
 */

/** Also a directory name under --runs: no separators, no leading dot, so no path can escape it. */
export const RunId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'a run id is 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit');
export type RunId = z.infer<typeof RunId>;

export const RobotId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a robot id like "aloha-agilex" (robots/<id>.json)');

/**
 * An inline profile is checked against RobotProfile by the handler (robot-ref.ts), not here, so this
 * document does not restate robots/robot-profile.schema.json and change with every profile field.
 */
export const RobotRef = z
  .union([RobotId, z.record(z.string(), z.unknown())])
  .describe('a shipped profile id (robots/<id>.json), or a whole robot profile as robots/robot-profile.schema.json describes it');

/** Base64, optionally as a data URL; 24 MiB of text at most (the body limit is lower by default). */
export const Base64Image = z
  .string()
  .max(24 * 1024 * 1024)
  .regex(/^(data:image\/(png|jpeg);base64,)?[A-Za-z0-9+/]+={0,2}$/, 'base64 PNG or JPEG bytes (a data: URL is fine)')
  .describe('a PNG or JPEG picture, base64, at most 4096 px a side');

export const Task = z.string().trim().min(1, 'a task needs words, e.g. "fold the t-shirt"').max(500);

const Seed = z.number().int().min(0).max(2 ** 31 - 1);

/** A step of a draft sent back to the service: its keyframe as base64 PNG, as PlanStepOut answered it. */
export const PlanStepIn = z.strictObject({
  index: z.number().int().min(0),
  instruction: z.string().trim().min(1).max(500),
  action: Action.optional(),
  keyframe: Base64Image.describe('the keyframe as the plan answered it, base64 PNG'),
});

/**
 * The draft the robot's validator refused last, and why: a run planning through the service sends
 * it with the redraw, so the model repairs it (keeps the steps before the first error, redraws from
 * there) as a run planning in-process does (PlanRequest.rejected and .previous).
 */
export const RefusedDraft = z.strictObject({
  issues: z.array(PlanIssue).min(1).max(1000).describe("the validator's issues with the refused draft; its errors decide where the repair starts"),
  steps: z.array(PlanStepIn).min(1).max(64).describe('the refused draft\'s steps, as this route answered them'),
});
export type RefusedDraft = z.infer<typeof RefusedDraft>;

export const PlanBody = z.strictObject({
  robot: RobotRef,
  task: Task,
  observation: Base64Image.describe("the keyframe camera's current picture, PNG or JPEG, base64"),
  history: z.array(HistoryEntry).max(1000).optional().describe('steps done, missed or rejected so far, oldest first'),
  scene: SceneId.optional(),
  backend: z
    .literal('onnx', {
      error: 'the service plans with "onnx" only: the oracles read a simulator\'s state, so use them in a run against keystep sim (POST /v1/runs)',
    })
    .optional()
    .describe('the embedded world model (the only planner the service runs on its own)'),
  sampling: z
    .strictObject({
      seed: Seed.optional(),
      sampler: z.enum(KEYFRAME_SAMPLERS).optional(),
      passes: z
        .number()
        .int()
        .min(1)
        .max(16)
        .optional()
        .describe('DiDA forward passes per keyframe (default: the model\'s own, spec.json decoding.passes, else 2); /v1/plans/stream sends a picture after each. Not for the ar sampler or a model worker'),
    })
    .optional(),
  version: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .optional()
    .describe("the plan version this draft becomes in the client's run (default 1); every draft takes the next, a redraw included. Past 1 the model samples instead of decoding greedily, and the seeds follow the version, as in a run planning in-process"),
  refused: RefusedDraft.optional().describe('with a redraw: the draft the client refused last in this planning round, and its issues'),
});
export type PlanBody = z.infer<typeof PlanBody>;

export const PlanStepOut = z.object({
  index: z.number().int().min(0),
  instruction: z.string(),
  action: Action.optional(),
  keyframe: z.string().describe('the goal keyframe, base64 PNG'),
});

export const ValidationOut = z.object({
  ok: z.boolean(),
  issues: z.array(PlanIssue),
  incomplete: z.boolean().optional(),
});

export const PlanResponse = z.object({
  plan: z.object({
    id: z.string(),
    version: z.number().int(),
    backend: z.string(),
    createdAt: z.string(),
    robot: z.string(),
    task: z.string(),
    scene: SceneId.optional(),
    steps: z.array(PlanStepOut),
  }),
  validation: ValidationOut,
  timing: z.object({
    queueMs: z.number().describe('waiting for a device'),
    planMs: z.number(),
    validateMs: z.number(),
    device: z.string().describe('the device queue the plan went through'),
  }),
});
export type PlanResponse = z.infer<typeof PlanResponse>;

export const RunBody = z.strictObject({
  robot: RobotRef,
  task: Task,
  scene: SceneId.optional(),
  rosbridge: z.string().max(2048).regex(/^wss?:\/\/[^\s]+$/, 'a ws:// or wss:// URL of the robot\'s rosbridge server'),
  backend: z.enum(BACKENDS).optional().describe('default onnx; the oracles plan only against keystep sim'),
  runId: RunId.optional().describe('default: generated'),
  autonomy: Autonomy.optional().describe('default auto; approve-plan / approve-step wait for POST /v1/runs/{id}/approve before each plan / step is sent'),
  seed: Seed.optional(),
  sampling: z.strictObject({ sampler: z.enum(KEYFRAME_SAMPLERS).optional() }).optional(),
  limits: z
    .strictObject({
      maxReplans: z.number().int().min(0).max(1000).optional().describe("default: the profile's"),
      connectTimeoutMs: z.number().int().min(100).max(600_000).optional(),
      wholePlans: z.boolean().optional().describe('fail when no draft passes validation instead of running its validated first steps'),
    })
    .optional(),
});
export type RunBody = z.infer<typeof RunBody>;

export const ResumeBody = z.strictObject({
  rosbridge: z
    .string()
    .max(2048)
    .regex(/^wss?:\/\/[^\s]+$/, 'a ws:// or wss:// URL of the robot\'s rosbridge server')
    .optional()
    .describe('required to continue an interrupted run; not used to resume a paused one'),
  connectTimeoutMs: z.number().int().min(100).max(600_000).optional(),
});
export type ResumeBody = z.infer<typeof ResumeBody>;

/** The operator's answer to a plan or step waiting for approval. */
export const RejectBody = z.strictObject({
  note: z.string().max(2000).optional().describe('why: the replan sees it as the reason the step was rejected'),
  abort: z.boolean().optional().describe('end the run (aborted) instead of replanning'),
});
export type RejectBody = z.infer<typeof RejectBody>;

/** What a running run waits for, if anything. */
export const PendingApproval = z.object({
  scope: ApprovalScope,
  planVersion: z.number().int(),
  planStep: z.number().int(),
  stepIndex: z.number().int(),
  attempt: z.number().int(),
  steps: z.array(z.string()).describe('the instructions waiting: the plan from planStep on (scope plan), or the one step'),
});

export const RunState = z.enum(['running', 'finished', 'interrupted', 'unreadable']);
export type RunState = z.infer<typeof RunState>;

export const RunSummary = z.object({
  runId: z.string(),
  state: RunState.describe('interrupted: the log stops before the run finished (resume it)'),
  outcome: RunOutcome.optional(),
  robot: z.string().optional(),
  task: z.string().optional(),
  backend: z.string().optional(),
  startedAt: z.number().optional().describe('ms since the epoch'),
  events: z.number().int().describe('records in events.jsonl'),
  waiting: z.enum(['approval', 'paused']).optional().describe('a running run that sends nothing until approved, or resumed'),
  error: z.string().optional().describe('why the run stopped without finishing, or why its log cannot be read'),
});
export type RunSummary = z.infer<typeof RunSummary>;

export const RunDetail = z.object({
  run: RunSummary,
  report: RunReport.nullable().describe('the final report, once finished'),
  progress: z.object({ steps: z.array(StepRecord), replans: z.number().int(), planVersions: z.number().int() }),
  approval: PendingApproval.optional().describe('the plan or step waiting for approve / reject'),
});
export type RunDetail = z.infer<typeof RunDetail>;

export const RunIdParams = z.strictObject({ id: RunId });
export const RunFileParams = z.strictObject({
  id: RunId,
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\.(png|json)$/, 'a PNG or JSON file name of the run directory'),
});

export const EventsQuery = z.strictObject({
  since: z.coerce.number().int().min(0).max(1e9).default(0).describe('the first sequence number to send (last one seen + 1)'),
});

export const Readiness = z.object({
  ready: z.boolean(),
  model: z.object({ state: z.enum(['loading', 'ready', 'failed', 'none']), error: z.string().optional() }),
  devices: z.array(z.object({ device: z.string(), pending: z.number().int(), served: z.number().int() })),
  queue: z.object({ depth: z.number().int().describe('plans waiting for a device'), running: z.number().int() }),
  runs: z.object({ active: z.number().int() }),
});
export type Readiness = z.infer<typeof Readiness>;

export const ErrorBody = z.object({
  error: z.string().describe('a stable code: bad_request, unauthorized, not_found, conflict, too_large, unavailable, ...'),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional().describe('which fields are wrong, e.g. body.robot'),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/**
 * The schemas /openapi.json names as components instead of writing them out at every use (a robot
 * history entry, a report). A registry of the service's own, so the schemas' JSON Schema
 * exports elsewhere (robots/robot-profile.schema.json) are unaffected.
 */
export const apiComponents = z.registry<{ id: string }>();
apiComponents.add(HistoryEntry, { id: 'HistoryEntry' });
apiComponents.add(PlanIssue, { id: 'PlanIssue' });
apiComponents.add(RunSummary, { id: 'RunSummary' });
apiComponents.add(RunReport, { id: 'RunReport' });
apiComponents.add(ErrorBody, { id: 'Error' });

/** Response schemas of the error statuses a route can answer with. */
export function errorResponses(...codes: number[]): Record<number, typeof ErrorBody> {
  return Object.fromEntries(codes.map((c) => [c, ErrorBody]));
}
