import { createReadStream } from 'node:fs';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { checkTask } from '../../scenes/task-check.js';
import { errorResponses, RunIdParams } from '../api-schema.js';
import type { ServiceParts } from '../parts.js';
import { resolveRobot } from '../robot-ref.js';
import { EpisodeSheetParams, RolloutBody, RolloutCreated, RolloutList, RolloutStatus } from '../rollout-schema.js';
import { ServiceError } from '../service-error.js';

/** POST /v1/rollouts, the list, GET /v1/rollouts/{id} and its episodes' sheets: `keystep rollout` through the service. */
export const rolloutRoutes: FastifyPluginAsyncZod<ServiceParts> = async (app, parts) => {
  app.post(
    '/v1/rollouts',
    {
      schema: {
        summary: 'start a rollout: episodes of a task against a keystep sim the service starts, as `keystep rollout` runs them',
        body: RolloutBody,
        response: { 202: RolloutCreated, ...errorResponses(400, 401, 409, 503) },
      },
    },
    async (request, reply) => {
      const { profile } = resolveRobot(request.body.robot);
      try {
        checkTask(request.body.task, profile, request.body.scene);
      } catch (cause) {
        throw ServiceError.badField('body.task', (cause as Error).message);
      }
      const id = parts.rollouts.start(request.body, profile);
      return reply.code(202).send({ id, url: `/v1/rollouts/${id}` });
    },
  );

  app.get(
    '/v1/rollouts',
    {
      schema: {
        summary: 'every rollout of this service, newest first, those of its earlier starts included: settings, state and progress',
        response: { 200: RolloutList, ...errorResponses(401) },
      },
    },
    async () => parts.rollouts.list(),
  );

  app.get(
    '/v1/rollouts/:id',
    {
      schema: {
        summary: "a rollout's progress, its episodes so far and, once finished, its result and summary.json",
        params: RunIdParams,
        response: { 200: RolloutStatus, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => parts.rollouts.get(request.params.id),
  );

  app.get(
    '/v1/rollouts/:id/episodes/:episode/sheet.png',
    {
      schema: {
        summary: "a finished episode's contact sheet (PNG): each step's keyframe framed in its verdict's colour, as `keystep rollout` writes it",
        description: '404 naming why: no such rollout, the episode has not finished, or it has no sheet.',
        params: EpisodeSheetParams,
      },
    },
    async (request, reply) => reply.type('image/png').send(createReadStream(parts.rollouts.sheetFile(request.params.id, request.params.episode))),
  );
};
