import { z } from 'zod';
import { HistoryEntry, PlanIssue } from '../schema/index.js';

/*
 * The model-worker protocol (docs/worker-protocol.md): a world model served elsewhere (a Python
 * process on a GPU host) plans for keystep over one WebSocket, in the spirit of openpi's policy
 * server. JSON text frames. On connect the worker sends `metadata`; the client sends `plan` requests,
 * one at a time; the worker answers each with `step` frames (the texts), then per step optional
 * `pass` frames and one `keyframe`, then `done`, or an `error` at any point. Every answer frame
 * carries the request's id. The worker also answers `GET /healthz` on the same port.
 */

export const WORKER_PROTOCOL = 1;

const Base64Png = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64 PNG bytes');

export const WorkerMetadata = z.object({
  type: z.literal('metadata'),
  protocol: z.literal(WORKER_PROTOCOL),
  model: z.object({
    name: z.string().min(1),
    /** The token grid a picture becomes (grid x grid visual tokens). */
    grid: z.number().int().min(1),
    codes: z.number().int().min(1).optional().describe('visual codebook size'),
    /** The size pictures are sent and drawn at: the client resizes observations to it. */
    picture: z.object({ width: z.number().int().min(1).max(4096), height: z.number().int().min(1).max(4096) }),
  }),
  sampling: z.record(z.string(), z.unknown()).optional().describe('how the worker decodes, for logs'),
  reads: z.object({ history: z.boolean() }).partial().optional().describe('what of the request the model reads'),
});
export type WorkerMetadata = z.infer<typeof WorkerMetadata>;

export const WorkerPlanRequest = z.strictObject({
  type: z.literal('plan'),
  id: z.string().min(1).max(128),
  task: z.string().min(1),
  robot: z.object({ id: z.string().min(1), arms: z.number().int().min(0).optional() }),
  /** The keyframe camera's picture at metadata.model.picture, PNG, base64. */
  observation: Base64Png,
  history: z.array(HistoryEntry),
  version: z.number().int().min(1),
  /** The request's seed: a worker that samples draws from it, so the same request gives the same plan. */
  seed: z.number().int().min(0).optional(),
  /**
   * This planning round's refused draft, when keystep's validator refused the worker's last answer
   * and asks again: its steps and the issues, so a worker can keep the steps before the first error
   * and draw the rest differently instead of answering the same plan.
   */
  refused: z
    .object({ steps: z.array(z.string().min(1)), issues: z.array(PlanIssue) })
    .optional(),
});
export type WorkerPlanRequest = z.infer<typeof WorkerPlanRequest>;

export const WorkerStep = z.object({ type: z.literal('step'), id: z.string(), index: z.number().int().min(0), instruction: z.string().min(1) });
export const WorkerPass = z.object({
  type: z.literal('pass'),
  id: z.string(),
  step: z.number().int().min(0),
  pass: z.number().int().min(0),
  passes: z.number().int().min(1),
  filled: z.number().int().min(0),
  cells: z.number().int().min(1),
  picture: Base64Png.describe('the keyframe as known after this pass, at metadata.model.picture'),
});
export const WorkerKeyframe = z.object({
  type: z.literal('keyframe'),
  id: z.string(),
  step: z.number().int().min(0),
  instruction: z.string(),
  keyframe: Base64Png.describe('at metadata.model.picture; keystep stretches it to the keyframe camera'),
});
export const WorkerDone = z.object({ type: z.literal('done'), id: z.string(), steps: z.number().int().min(0).optional() });
export const WorkerError = z.object({
  type: z.literal('error'),
  id: z.string().nullable().optional().describe('the request it answers; none when the frame could not be read'),
  error: z.string(),
  message: z.string(),
});

/** Every frame a worker sends after `metadata`. */
export const WorkerAnswer = z.discriminatedUnion('type', [WorkerStep, WorkerPass, WorkerKeyframe, WorkerDone, WorkerError]);
export type WorkerAnswer = z.infer<typeof WorkerAnswer>;
