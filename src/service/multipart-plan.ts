import type { FastifyRequest } from 'fastify';
import { zodProblems } from '../errors/format.js';
import { PlanBody } from './api-schema.js';
import { ServiceError } from './service-error.js';

/**
 * POST /v1/plans as multipart/form-data: the picture as a file part `observation` (its PNG or JPEG
 * bytes, no base64), and every other field of the JSON body as one JSON part `request`. One JSON part
 * rather than a form field per key: a robot profile, a history and refused issues are nested, which
 * plain form fields cannot carry without a convention of their own.
 */
export const PLAN_PARTS = {
  observation: 'observation',
  request: 'request',
} as const;

/** The plan body without its picture: what the `request` part holds. */
const PlanFields = PlanBody.omit({ observation: true });

/** `body.request` + a zod path as formatPath writes it (`robot`, `history[0].status`, `(root)`). */
function requestPath(path: string): string {
  if (path === '(root)') return 'body.request';
  return path.startsWith('[') ? `body.request${path}` : `body.request.${path}`;
}

/**
 * The parts of a multipart plan request as the JSON body it stands for (the picture base64, so the
 * rest of the route checks and decodes it as it does a JSON body). Anything else (a missing part, a
 * part twice, an unknown part, a `request` that is not JSON or not a plan request, a picture over
 * `maxBytes`) is a 4xx naming the part, `body.request.<field>` for a field of `request`.
 */
export async function planBodyFromParts(request: FastifyRequest, maxBytes: number): Promise<PlanBody> {
  let picture: Buffer | undefined;
  let fields: string | undefined;
  try {
    for await (const part of request.parts({ limits: { fileSize: maxBytes, fieldSize: maxBytes, parts: 8 } })) {
      const path = `body.${part.fieldname}`;
      const bytes = part.type === 'file' ? await part.toBuffer() : undefined;
      if (part.fieldname === PLAN_PARTS.observation) {
        if (bytes === undefined) throw ServiceError.badField(path, 'send the picture as a file part (a filename and the PNG or JPEG bytes), not a text field');
        if (picture !== undefined) throw ServiceError.badField(path, 'given twice: one picture per plan');
        picture = bytes;
      } else if (part.fieldname === PLAN_PARTS.request) {
        if (fields !== undefined) throw ServiceError.badField(path, 'given twice: one JSON part with the plan request');
        if (part.type === 'field' && part.valueTruncated) throw new ServiceError(413, 'too_large', `${path}: over ${Math.round(maxBytes / 1024 / 1024)} MiB (--body-limit)`, [{ path, message: 'too large' }]);
        fields = bytes !== undefined ? bytes.toString('utf8') : String(part.value);
      } else {
        throw ServiceError.badField(path, `unknown part; a multipart plan request has a file part "${PLAN_PARTS.observation}" and a JSON part "${PLAN_PARTS.request}"`);
      }
    }
  } catch (error) {
    throw multipartError(error, maxBytes);
  }
  if (picture === undefined) throw ServiceError.badField(`body.${PLAN_PARTS.observation}`, `missing: a file part "${PLAN_PARTS.observation}" with the keyframe camera's picture, PNG or JPEG`);
  if (fields === undefined) throw ServiceError.badField(`body.${PLAN_PARTS.request}`, `missing: a part "${PLAN_PARTS.request}" with the plan request as JSON, e.g. {"robot":"aloha-agilex","task":"fold the t-shirt"}`);
  let json: unknown;
  try {
    json = JSON.parse(fields);
  } catch (cause) {
    throw ServiceError.badField(`body.${PLAN_PARTS.request}`, `not JSON (${(cause as Error).message})`);
  }
  if (typeof json === 'object' && json !== null && 'observation' in json) {
    throw ServiceError.badField(`body.${PLAN_PARTS.request}.observation`, `the picture goes in the file part "${PLAN_PARTS.observation}", not in the JSON part`);
  }
  const parsed = PlanFields.safeParse(json);
  if (!parsed.success) {
    const issues = zodProblems(parsed.error).map((p) => ({ path: requestPath(p.path), message: p.message }));
    throw new ServiceError(400, 'bad_request', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
  }
  return { ...parsed.data, observation: picture.toString('base64') };
}

/** @fastify/multipart's errors (codes FST_*) as the service's, naming what was too large or broken. */
function multipartError(error: unknown, maxBytes: number): unknown {
  const code = (error as { code?: unknown }).code;
  const mib = Math.round(maxBytes / 1024 / 1024);
  switch (code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return new ServiceError(413, 'too_large', `body.${PLAN_PARTS.observation}: the picture is over ${mib} MiB (--body-limit)`, [{ path: `body.${PLAN_PARTS.observation}`, message: `over ${mib} MiB` }]);
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return ServiceError.badField('body', `too many parts; a multipart plan request has a file part "${PLAN_PARTS.observation}" and a JSON part "${PLAN_PARTS.request}"`);
    case 'FST_PROTO_VIOLATION':
    case 'FST_MP_PREMATURE_CLOSE':
      return ServiceError.badField('body', (error as Error).message);
    default:
      // busboy's own complaints (a missing boundary, a malformed part) are the client's too.
      if (!(error instanceof ServiceError) && error instanceof Error && /boundary|multipart|Unexpected end/i.test(error.message)) return ServiceError.badField('body', `malformed multipart body: ${error.message}`);
      return error;
  }
}

type JsonObject = Record<string, unknown>;

/**
 * The OpenAPI document with POST /v1/plans's multipart form beside its JSON body: the `request`
 * part's schema is the JSON body's without `observation`, so the two forms cannot drift apart.
 */
export function withMultipartPlans<T extends object>(document: T): T {
  const post = ((document as { paths?: JsonObject }).paths?.['/v1/plans'] as { post?: { requestBody?: { content?: JsonObject } } } | undefined)?.post;
  const content = post?.requestBody?.content;
  const json = (content?.['application/json'] as { schema?: JsonObject } | undefined)?.schema;
  if (content === undefined || json === undefined) return document;
  const { observation: _picture, ...properties } = json.properties as JsonObject;
  const fields = { ...json, properties, required: (json.required as string[]).filter((r) => r !== PLAN_PARTS.observation) };
  content['multipart/form-data'] = {
    schema: {
      type: 'object',
      required: [PLAN_PARTS.observation, PLAN_PARTS.request],
      properties: {
        [PLAN_PARTS.observation]: { type: 'string', format: 'binary', description: "the keyframe camera's current picture: PNG or JPEG bytes, at most 4096 px a side" },
        [PLAN_PARTS.request]: { ...fields, description: 'the JSON body without observation, as one JSON part' },
      },
    },
    encoding: {
      [PLAN_PARTS.observation]: { contentType: 'image/png, image/jpeg' },
      [PLAN_PARTS.request]: { contentType: 'application/json' },
    },
  };
  return document;
}
