import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errorResponses, PlanBody, PlanResponse } from '../api-schema.js';
import { planBodyFromParts } from '../multipart-plan.js';
import type { ServiceParts } from '../parts.js';
import { servePlan } from '../plan-request.js';

/**
 * POST /v1/plans: one plan from one picture with the embedded model (or --worker), validated as a run
 * would. The body is JSON with the picture in base64, or multipart/form-data with the picture's bytes
 * (multipart-plan.ts), which saves a third of the upload and the client's encoding.
 */
export const planRoutes: FastifyPluginAsyncZod<ServiceParts> = async (app, parts) => {
  // Registered in this plugin only: no other route takes multipart bodies.
  await app.register(multipart);
  const maxBytes = app.initialConfig.bodyLimit ?? 1024 * 1024;
  app.post(
    '/v1/plans',
    {
      schema: {
        summary: 'plan a task from one picture: step texts, a keyframe per step, the validation result and timing',
        body: PlanBody,
        response: { 200: PlanResponse, ...errorResponses(400, 401, 413, 415, 503) },
      },
      // Before validation: the parts become the JSON body they stand for, then checked as one.
      preValidation: async (request) => {
        if (request.isMultipart()) request.body = await planBodyFromParts(request, maxBytes);
      },
    },
    async (request, reply) => {
      // A client that hangs up gives its place in the queue back, and stops a plan under way.
      const gone = new AbortController();
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) gone.abort();
      });
      return servePlan(request.body, parts.plans, parts.queue, { signal: gone.signal });
    },
  );
};
