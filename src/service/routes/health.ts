import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Readiness } from '../api-schema.js';
import type { ServiceParts } from '../parts.js';

/** Liveness and readiness probes; they need no token (auth.ts OPEN_ROUTES). */
export const healthRoutes: FastifyPluginAsyncZod<ServiceParts> = async (app, parts) => {
  app.get('/healthz', { schema: { summary: 'the process is up', security: [], response: { 200: z.object({ ok: z.literal(true) }) } } }, async () => ({ ok: true as const }));

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'whether plans can be served: the model is open; devices, queue depth and runs in progress',
        security: [],
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const model = parts.model.status();
      const queue = parts.queue.stats();
      const ready = model.state === 'ready' || model.state === 'none';
      const body: Readiness = {
        ready,
        model,
        devices: queue.devices,
        queue: { depth: queue.depth, running: queue.running },
        runs: { active: parts.runs.activeCount },
      };
      return reply.code(ready ? 200 : 503).send(body);
    },
  );
};
