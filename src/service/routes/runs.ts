import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DEFAULT_BACKEND } from '../../run/session.js';
import { errorResponses, EventsQuery, RejectBody, ResumeBody, RunBody, RunDetail, RunFileParams, RunIdParams, RunSummary } from '../api-schema.js';
import { streamEvents } from '../event-stream.js';
import type { ServiceParts } from '../parts.js';
import type { DrawingFrame } from '../plan-stream-frames.js';
import { resolveRobot } from '../robot-ref.js';

/** A new run's id, as `keystep run` makes them: the start time and a random tail. */
function newRunId(): string {
  return `${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}-${randomBytes(3).toString('hex')}`;
}

/** /v1/runs: start, list, inspect, abort and resume runs, their logs, files and live events. */
export const runRoutes: FastifyPluginAsyncZod<ServiceParts> = async (app, { runs }) => {
  /**
   * What a run's WebSocket routes share: refused before the upgrade, as plain HTTP, when there is no
   * such run; a plain GET is told to upgrade.
   */
  const runSocket = {
    preHandler: async (request: { params: { id: string } }) => {
      runs.eventsFile(request.params.id);
    },
    handler: async (_request: unknown, reply: FastifyReply) => reply.code(426).send({ error: 'upgrade_required', message: 'this is a WebSocket: connect with an upgrade request' }),
  };
  app.get(
    '/v1/runs',
    { schema: { summary: 'every run under --runs, including those from before a restart', response: { 200: z.object({ runs: z.array(RunSummary) }), ...errorResponses(401) } } },
    async () => ({ runs: runs.list() }),
  );

  app.post(
    '/v1/runs',
    {
      schema: {
        summary: 'start a run: the same run `keystep run` makes (same log, same events.jsonl, resumable)',
        description: 'Answers once the run has logged its first event. 502 when the rosbridge server cannot be reached.',
        body: RunBody,
        response: { 201: RunSummary, ...errorResponses(400, 401, 409, 413, 415, 502, 503) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const { profile, inline } = resolveRobot(body.robot);
      const summary = await runs.start({
        runId: body.runId ?? newRunId(),
        profile,
        inline,
        task: body.task,
        ...(body.scene ? { scene: body.scene } : {}),
        url: body.rosbridge,
        backend: body.backend ?? DEFAULT_BACKEND,
        seed: body.seed ?? 0,
        partialPlans: body.limits?.wholePlans !== true,
        ...(body.autonomy ? { autonomy: body.autonomy } : {}),
        ...(body.limits?.maxReplans !== undefined ? { maxReplans: body.limits.maxReplans } : {}),
        ...(body.limits?.connectTimeoutMs !== undefined ? { connectTimeoutMs: body.limits.connectTimeoutMs } : {}),
        ...(body.sampling?.sampler ? { sampler: body.sampling.sampler } : {}),
      });
      return reply.code(201).send(summary);
    },
  );

  app.get(
    '/v1/runs/:id',
    { schema: { summary: "a run's state, its report once finished, and its steps so far", params: RunIdParams, response: { 200: RunDetail, ...errorResponses(400, 401, 404) } } },
    async (request) => runs.detail(request.params.id),
  );

  app.post(
    '/v1/runs/:id/abort',
    {
      schema: {
        summary: 'abort a running run: the step in flight is cancelled on the robot and the run ends as aborted',
        params: RunIdParams,
        response: { 202: RunSummary, ...errorResponses(400, 401, 404, 409) },
      },
    },
    async (request, reply) => reply.code(202).send(runs.abort(request.params.id)),
  );

  app.post(
    '/v1/runs/:id/resume',
    {
      schema: {
        summary: 'resume a paused run, or continue an interrupted run from its log as `keystep run --resume` does',
        description: 'A running, paused run goes on ({} will do). A run not running here (interrupted) is continued from its log and needs body.rosbridge.',
        params: RunIdParams,
        body: ResumeBody,
        response: { 202: RunSummary, ...errorResponses(400, 401, 404, 409, 502, 503) },
      },
    },
    async (request, reply) => reply.code(202).send(await runs.resumeRun(request.params.id, request.body.rosbridge, request.body.connectTimeoutMs)),
  );

  app.post(
    '/v1/runs/:id/pause',
    {
      schema: {
        summary: 'hold a running run before its next dispatch: the step in flight finishes, nothing new is sent until resume',
        params: RunIdParams,
        response: { 202: RunSummary, ...errorResponses(400, 401, 404, 409) },
      },
    },
    async (request, reply) => reply.code(202).send(runs.pause(request.params.id)),
  );

  app.post(
    '/v1/runs/:id/approve',
    {
      schema: {
        summary: 'let the plan (autonomy approve-plan) or step (approve-step) the run waits for go to the robot',
        description: '409 when the run is not waiting for an approval (GET /v1/runs/{id} shows `approval`).',
        params: RunIdParams,
        response: { 202: RunSummary, ...errorResponses(400, 401, 404, 409) },
      },
    },
    async (request, reply) => reply.code(202).send(runs.approve(request.params.id)),
  );

  app.post(
    '/v1/runs/:id/reject',
    {
      schema: {
        summary: 'refuse the plan or step the run waits for: it is recorded as rejected with the note, and the run replans (or ends, with abort)',
        params: RunIdParams,
        body: RejectBody,
        response: { 202: RunSummary, ...errorResponses(400, 401, 404, 409) },
      },
    },
    async (request, reply) => reply.code(202).send(runs.reject(request.params.id, request.body)),
  );

  app.get(
    '/v1/runs/:id/events.jsonl',
    { schema: { summary: "the run's log as written: one event a line (application/x-ndjson)", params: RunIdParams } },
    async (request, reply) => reply.type('application/x-ndjson').send(createReadStream(runs.eventsFile(request.params.id))),
  );

  app.get(
    '/v1/runs/:id/files/:name',
    { schema: { summary: 'a file the log names: a plan version (JSON), a keyframe or an observation (PNG)', params: RunFileParams } },
    async (request, reply) => {
      const file = runs.fileOf(request.params.id, request.params.name);
      return reply.type(request.params.name.endsWith('.png') ? 'image/png' : 'application/json').send(createReadStream(file));
    },
  );

  // wsHandler rather than `websocket: true`, which would hide the route from /openapi.json.
  app.route({
    method: 'GET',
    url: '/v1/runs/:id/events',
    schema: {
      summary: "WebSocket: the run's events.jsonl records, one text frame each with its seq, live; closed (1000) after `finished`",
      description: 'Connect with a WebSocket upgrade. Reconnect with ?since=<last seq + 1> to go on where a dropped stream stopped. Frames sent to the server are ignored.',
      params: RunIdParams,
      querystring: EventsQuery,
      response: errorResponses(400, 401, 404, 426),
    },
    ...runSocket,
    wsHandler: (socket, request) => {
      const { id } = request.params;
      let file: string;
      try {
        file = runs.eventsFile(id);
      } catch {
        socket.close(1011, 'the run log is gone');
        return;
      }
      streamEvents(socket, { file, since: request.query.since, subscribe: (listener) => runs.onAppend(id, listener) });
    },
  });

  app.route({
    method: 'GET',
    url: '/v1/runs/:id/drawing',
    schema: {
      summary: 'WebSocket: the plan the live run is drawing, keyframe by keyframe and DiDA pass by pass; nothing of it is logged',
      description:
        'Frames, JSON, per plan the run draws: {type:"begin",version}, {type:"step",index,instruction} per step, per keyframe {type:"pass",step,draw,pass,passes,filled,cells,picture} for each DiDA pass (picture: base64 PNG; none from a backend without passes, such as the oracle) and {type:"keyframe",step,instruction,keyframe}, then {type:"end",version,drawn}. Opened mid-drawing: begin and the step texts come at once. Closed (1000) when the run is not running here or stops. Frames sent to the server are ignored.',
      params: RunIdParams,
      response: errorResponses(400, 401, 404, 426),
    },
    ...runSocket,
    wsHandler: (socket, request) => {
      const { id } = request.params;
      if (!runs.isActive(id)) {
        socket.close(1000, 'the run is not running here');
        return;
      }
      const send = (frame: DrawingFrame) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
      };
      const unwatch = runs.drawings.watch(id, send);
      // The registry tells its listeners when a run stops, too.
      const unsubscribe = runs.onAppend(id, () => {
        if (runs.isActive(id)) return;
        stop();
        socket.close(1000, 'the run stopped');
      });
      const stop = () => {
        unwatch();
        unsubscribe();
      };
      socket.on('close', stop);
      socket.on('message', () => undefined);
    },
  });
};
