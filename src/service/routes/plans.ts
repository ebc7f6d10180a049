import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { OnnxPlanner } from '../../model/onnx-planner.js';
import { keyframeGate, stepSubject, textGate, validateDraft } from '../../validate/index.js';
import { errorResponses, PlanBody, PlanResponse } from '../api-schema.js';
import { decodePicture } from '../image-input.js';
import type { ServiceParts } from '../parts.js';
import { resolveRobot } from '../robot-ref.js';

/** POST /v1/plans: one plan from one picture with the embedded model, validated as a run would. */
export const planRoutes: FastifyPluginAsyncZod<ServiceParts> = async (app, parts) => {
  app.post(
    '/v1/plans',
    {
      schema: {
        summary: 'plan a task from one picture: step texts, a keyframe per step, the validation result and timing',
        body: PlanBody,
        response: { 200: PlanResponse, ...errorResponses(400, 401, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const { profile } = resolveRobot(body.robot);
      const observation = await decodePicture(body.observation, 'body.observation');
      const model = await parts.model.model();
      // A client that hangs up gives its place in the queue back, and stops a plan under way.
      const gone = new AbortController();
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) gone.abort();
      });
      const history = body.history ?? [];
      const scene = body.scene !== undefined ? { scene: body.scene } : {};
      const planned = await parts.queue.run(
        () =>
          // The same planner a run's onnx backend builds (run/session.ts), one per request.
          new OnnxPlanner(model, {
            seed: body.sampling?.seed ?? 0,
            check: keyframeGate(),
            textCheck: textGate(),
            stepSubject,
            ...(body.sampling?.sampler ? { sampler: body.sampling.sampler } : {}),
          }).plan({ robot: profile, task: body.task, observation, history, version: 1, ...scene, signal: gone.signal }),
        gone.signal,
      );
      const draft = planned.value;
      const validateStart = performance.now();
      const validation = await validateDraft({ plan: draft, robot: profile, observation, task: body.task, history, ...scene });
      const validateMs = Math.round((performance.now() - validateStart) * 10) / 10;
      const response: PlanResponse = {
        plan: {
          id: draft.id,
          version: draft.version,
          backend: draft.backend,
          createdAt: draft.createdAt,
          robot: profile.id,
          task: body.task,
          ...(draft.scene !== undefined ? { scene: draft.scene } : {}),
          steps: draft.steps.map((s) => ({
            index: s.index,
            instruction: s.instruction,
            ...(s.action !== undefined ? { action: s.action } : {}),
            keyframe: Buffer.from(s.keyframe).toString('base64'),
          })),
        },
        validation: { ok: validation.ok, issues: validation.issues, ...(validation.incomplete !== undefined ? { incomplete: validation.incomplete } : {}) },
        timing: { queueMs: planned.queueMs, planMs: planned.runMs, validateMs, device: planned.device },
      };
      return response;
    },
  );
};
