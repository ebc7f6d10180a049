import type { FastifyBaseLogger } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { WebSocket } from 'ws';
import type { PlanProgress } from '../../planner/plan-progress.js';
import { errorResponses, PlanBody } from '../api-schema.js';
import type { ServiceParts } from '../parts.js';
import type { PlanStreamFrame } from '../plan-stream-frames.js';
import { servePlan } from '../plan-request.js';
import { framesOf } from '../progress-frames.js';
import { isServiceError } from '../service-error.js';

/**
 * GET /v1/plans/stream (WebSocket): the first text frame is a POST /v1/plans body; the answer is the
 * plan as it is written (plan-stream-frames.ts). Frames after the first are ignored.
 */
export const planStreamRoutes: FastifyPluginAsyncZod<ServiceParts> = async (app, parts) => {
  app.route({
    method: 'GET',
    url: '/v1/plans/stream',
    schema: {
      summary: 'WebSocket: send a POST /v1/plans body as the first frame; receive step texts, every DiDA pass of every keyframe, then the plan',
      description:
        'Frames, JSON: {type:"step",index,instruction} per step; per keyframe {type:"pass",step,draw,pass,passes,filled,cells,picture} for each pass (picture: base64 PNG of the cells known so far) and {type:"keyframe",step,instruction,keyframe}; then {type:"plan",plan,validation,timing} and a close (1000). A bad request or a failure: {type:"error",error,message,issues?} and a close. The first frame is at most 64 KiB: send larger pictures to POST /v1/plans.',
      response: errorResponses(401, 426),
    },
    handler: async (_request, reply) => reply.code(426).send({ error: 'upgrade_required', message: 'this is a WebSocket: connect with an upgrade request' }),
    wsHandler: (socket, request) => {
      socket.once('message', (data) => void streamPlan(socket, data, parts, request.log));
    },
  });
};

async function streamPlan(socket: WebSocket, data: unknown, parts: ServiceParts, log: FastifyBaseLogger): Promise<void> {
  const send = (frame: PlanStreamFrame) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
  };
  let json: unknown;
  try {
    json = JSON.parse(String(data));
  } catch {
    send({ type: 'error', error: 'bad_request', message: 'the first frame must be a JSON plan request (the body of POST /v1/plans)', issues: [{ path: 'frame', message: 'not JSON' }] });
    socket.close(1000);
    return;
  }
  const parsed = PlanBody.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: ['body', ...i.path.map(String)].join('.'), message: i.message }));
    send({ type: 'error', error: 'bad_request', message: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues });
    socket.close(1000);
    return;
  }
  const gone = new AbortController();
  socket.on('close', () => gone.abort());
  // Pictures are painted on the model's devices, after the pass that asked: chained, so frames keep their order.
  let sent = Promise.resolve();
  const onProgress = (progress: PlanProgress) => {
    sent = sent.then(async () => (await framesOf(progress)).forEach(send)).catch(() => undefined);
  };
  try {
    const answer = await servePlan(parsed.data, parts.plans, parts.queue, { signal: gone.signal, onProgress });
    await sent;
    send({ type: 'plan', ...answer });
    socket.close(1000);
  } catch (error) {
    await sent;
    // As POST /v1/plans would answer: a ServiceError names what is wrong, anything else says little.
    if (isServiceError(error)) {
      send({ type: 'error', error: error.code, message: error.message, ...(error.issues.length > 0 ? { issues: [...error.issues] } : {}) });
      socket.close(error.statusCode < 500 ? 1000 : 1011);
    } else {
      if (!gone.signal.aborted) log.error({ err: error }, 'a streamed plan failed');
      send({ type: 'error', error: 'internal', message: 'the service failed on this request; its log has the details' });
      socket.close(1011);
    }
  }
}
