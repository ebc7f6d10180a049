import { z } from 'zod';
import { PlanResponse } from './api-schema.js';

/*
 * The frames /v1/plans/stream sends, in order: `step` for each step text once the texts are settled,
 * then per step every DiDA `pass` of every draw of its keyframe and the `keyframe` kept, then `plan`
 * (what POST /v1/plans answers) and a close with 1000. A bad request or a failure is one `error`
 * frame, then a close with 1000 (bad request) or 1011 (failure).
 */

export const StepFrame = z.object({ type: z.literal('step'), index: z.number().int().min(0), instruction: z.string() });

export const PassFrame = z.object({
  type: z.literal('pass'),
  step: z.number().int().min(0),
  draw: z.number().int().min(0).describe('a keyframe the gate refused is drawn again'),
  pass: z.number().int().min(0).describe('0-based; pass passes - 1 is the whole keyframe'),
  passes: z.number().int().min(1),
  filled: z.number().int().min(0),
  cells: z.number().int().min(1),
  picture: z.string().describe('the keyframe as known after this pass, base64 PNG; open cells show the picture it starts from'),
});

export const KeyframeFrame = z.object({ type: z.literal('keyframe'), step: z.number().int().min(0), instruction: z.string(), keyframe: z.string().describe('base64 PNG') });

export const PlanFrame = PlanResponse.extend({ type: z.literal('plan') });

export const ErrorFrame = z.object({
  type: z.literal('error'),
  error: z.string(),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export const PlanStreamFrame = z.discriminatedUnion('type', [StepFrame, PassFrame, KeyframeFrame, PlanFrame, ErrorFrame]);
export type PlanStreamFrame = z.infer<typeof PlanStreamFrame>;

export type StepFrame = z.infer<typeof StepFrame>;
export type PassFrame = z.infer<typeof PassFrame>;
export type KeyframeFrame = z.infer<typeof KeyframeFrame>;

/*
 * The frames GET /v1/runs/{id}/drawing sends for each plan the run draws: `begin`, the same `step`,
 * `pass` and `keyframe` frames as above, then `end`. A backend without passes (the oracle) sends no
 * `pass`. A socket opened mid-drawing gets `begin` and the step texts at once; pictures are not kept.
 */

export const BeginFrame = z.object({ type: z.literal('begin'), version: z.number().int().min(1).describe('the plan version being drawn') });

export const EndFrame = z.object({
  type: z.literal('end'),
  version: z.number().int().min(1),
  drawn: z.boolean().describe('false: the planner failed or was cancelled; the run log says what came of it'),
});

export const DrawingFrame = z.discriminatedUnion('type', [BeginFrame, StepFrame, PassFrame, KeyframeFrame, EndFrame]);
export type DrawingFrame = z.infer<typeof DrawingFrame>;
