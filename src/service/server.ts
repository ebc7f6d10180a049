import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { createJsonSchemaTransform, createJsonSchemaTransformObject, hasZodFastifySchemaValidationErrors, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { PlanningModel } from '../model/planning-model.js';
import type { ModelSource } from '../model/world-model.js';
import type { Planner } from '../planner/planner.js';
import type { RunOptions, RunResult } from '../run/session.js';
import { apiComponents, type ErrorBody } from './api-schema.js';
import { bearerAuth, redactToken } from './auth.js';
import { ModelHost } from './model-host.js';
import { withMultipartPlans } from './multipart-plan.js';
import type { ServiceParts } from './parts.js';
import { embeddedPlans, workerPlans } from './plan-maker.js';
import { PlanQueue } from './plan-queue.js';
import { healthRoutes } from './routes/health.js';
import { planStreamRoutes } from './routes/plan-stream.js';
import { planRoutes } from './routes/plans.js';
import { rolloutRoutes } from './routes/rollouts.js';
import { runRoutes } from './routes/runs.js';
import { webRoutes } from './routes/web.js';
import { RolloutRegistry } from './rollout-registry.js';
import { RunRegistry } from './run-registry.js';
import { isServiceError, type RequestProblem } from './service-error.js';

export interface ServiceOptions {
  /** --runs: where runs are logged and found. */
  runsDir: string;
  /** The embedded model (--model, --devices); null: none, the onnx backend answers 503. */
  model: ModelSource | null;
  /** Bearer token every route but the probes requires; none: no auth (loopback only, see serve). */
  token?: string;
  /** Largest request body, bytes (default 16 MiB: a 4096 px PNG in base64 fits). */
  bodyLimit?: number;
  /** Fastify's request log (pino) on stderr. */
  logger?: boolean;
  /** Opens the model; tests may share one. */
  openModel?: (source: ModelSource) => Promise<PlanningModel>;
  /** --worker: plan requests go to this model worker (worker-protocol.ts) instead of the embedded model. */
  worker?: string;
  /** How runs are carried out (default runTask). */
  launch?: (options: RunOptions) => Promise<RunResult>;
}

export const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;

/** The OpenAPI document's fixed part; paths come from the routes' zod schemas. */
const OPENAPI = {
  openapi: '3.0.3',
  info: {
    title: 'keystep service',
    version: '1',
    description: 'Plans (step texts + goal keyframes) from the embedded world model, and runs executed over rosbridge, for many robots.',
  },
  components: { securitySchemes: { bearer: { type: 'http' as const, scheme: 'bearer' } } },
  security: [{ bearer: [] }],
};

/**
 * `keystep serve` as a fastify instance, routes registered, not listening yet. Closing it aborts
 * the runs still going and closes the model.
 */
export async function buildService(options: ServiceOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger === true ? { serializers: { req: requestForLog } } : false, bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT, routerOptions: { maxParamLength: 300 } });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, body } = errorReply(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?', 1)[0]}` } satisfies ErrorBody));

  const model = new ModelHost(options.model, options.openModel);
  const queue = new PlanQueue(model.devices);
  const plans = options.worker !== undefined ? workerPlans(options.worker) : embeddedPlans(model);
  const runs = new RunRegistry({
    runsDir: options.runsDir,
    ...(options.launch ? { launch: options.launch } : {}),
    // Runs planning with the model share it with /v1/plans and wait in the same device queues.
    prepare: async (backend) => {
      // The oracle and its palette-codec twin plan from the sim's state, with no model.
      if (backend === 'oracle' || backend === 'oracle-pal') return {};
      const wrapPlanner = (planner: Planner) => queued(planner, queue);
      // With --worker, the model is the worker's: an onnx run plans through it as /v1/plans does.
      if (options.worker !== undefined && backend === 'onnx') return { planner: await plans.planner({ seed: 0 }), wrapPlanner };
      const shared = await model.model();
      return { modelOptions: { model: shared }, wrapPlanner };
    },
  });
  const rollouts = new RolloutRegistry({ runsDir: options.runsDir, model: options.model });
  const parts: ServiceParts = { model, plans, queue, runs, rollouts };

  const zodDocument = createJsonSchemaTransformObject({ schemaRegistry: apiComponents });
  await app.register(swagger, {
    openapi: OPENAPI,
    transform: createJsonSchemaTransform({ schemaRegistry: apiComponents }),
    transformObject: (input) => withMultipartPlans(zodDocument(input)),
  });
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  // After the websocket plugin: its onRequest hook marks upgrade requests so that one refused with a
  // plain HTTP answer has its socket destroyed; before it, a 401 left the socket open for good.
  if (options.token !== undefined) app.addHook('onRequest', bearerAuth(options.token));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(healthRoutes, parts);
  await app.register(planRoutes, parts);
  await app.register(planStreamRoutes, parts);
  await app.register(runRoutes, parts);
  await app.register(webRoutes);
  await app.register(rolloutRoutes, parts);
  app.addHook('onClose', async () => {
    await runs.close();
    await rollouts.close();
    await parts.plans.close?.();
    await queue.close();
    await model.close();
  });
  return app;
}

/** What the request log keeps of a request: no headers (the token's), and no token in the URL. */
function requestForLog(request: { method: string; url: string; ip?: string }): Record<string, unknown> {
  return { method: request.method, url: redactToken(request.url), remoteAddress: request.ip };
}

/** A run's planner whose every plan waits its turn in the device queues. */
function queued(planner: Planner, queue: PlanQueue): Planner {
  return { name: planner.name, plan: async (request) => (await queue.run(() => planner.plan(request), request.signal)).value };
}

/** Any error as the status and body the client gets: a 4xx names what is wrong, a 5xx says little. */
export function errorReply(error: FastifyError | Error): { status: number; body: ErrorBody } {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = (error as FastifyError).validationContext ?? 'body';
    const issues = error.validation.flatMap((v) => problemsOf(where, v.instancePath, v.keyword, v.message ?? 'invalid', v.params));
    return { status: 400, body: { error: 'bad_request', message: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues } };
  }
  if (isServiceError(error)) {
    return { status: error.statusCode, body: { error: error.code, message: error.message, ...(error.issues.length > 0 ? { issues: [...error.issues] } : {}) } };
  }
  const status = (error as FastifyError).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = status === 413 ? 'too_large' : status === 415 ? 'unsupported_media_type' : status === 404 ? 'not_found' : 'bad_request';
    return { status, body: { error: code, message: error.message, ...(status === 400 ? { issues: [{ path: 'body', message: error.message }] } : {}) } };
  }
  return { status: 500, body: { error: 'internal', message: 'the service failed on this request; its log has the details' } };
}

/** `/robot/arms/0/name` in `body` -> `body.robot.arms[0].name`. */
function pathOf(where: string, segments: readonly (string | number)[]): string {
  return segments.reduce<string>((out, s) => (typeof s === 'number' || /^\d+$/.test(String(s)) ? `${out}[${s}]` : `${out}.${String(s)}`), where);
}

/**
 * One validation issue as problems. Unknown keys are spelt out; a union that failed (a robot given
 * as a profile with a bad field) is replaced by the issues of the one branch whose type matched, so
 * the answer names `body.robot.arms[0].dof`, not just `body.robot`.
 */
function problemsOf(where: string, instancePath: string, keyword: string, message: string, params: Record<string, unknown>): RequestProblem[] {
  const base = instancePath.split('/').filter((s) => s !== '');
  if (keyword === 'unrecognized_keys' && Array.isArray(params.keys)) {
    return [{ path: pathOf(where, base), message: `unknown field(s) ${params.keys.map((k) => `"${String(k)}"`).join(', ')}` }];
  }
  if (keyword === 'invalid_union' && Array.isArray(params.errors)) {
    const all = params.errors as { code: string; path: (string | number)[]; message: string; keys?: string[]; expected?: string }[][];
    const wrongType = (issues: (typeof all)[number]) => issues.length === 1 && issues[0]!.code === 'invalid_type' && issues[0]!.path.length === 0;
    const branches = all.filter((issues) => !wrongType(issues));
    if (branches.length === 0) {
      return [{ path: pathOf(where, base), message: `expected ${all.map((issues) => issues[0]!.expected ?? '?').join(' or ')}` }];
    }
    if (branches.length === 1) {
      return branches[0]!.map((i) => ({
        path: pathOf(where, [...base, ...i.path]),
        message: i.code === 'unrecognized_keys' && i.keys ? `unknown field(s) ${i.keys.map((k) => `"${k}"`).join(', ')}` : i.message,
      }));
    }
  }
  return [{ path: pathOf(where, base), message }];
}
