import type { RunDetail, RunSummary } from '../src/service/api-schema.js';
import type { RolloutCreated, RolloutList, RolloutStatus } from '../src/service/rollout-schema.js';
import { authHeaders } from './token.js';

/** The service the page was served by: same origin, so no address and no CORS. */

export class ApiError extends Error {
  override readonly name = 'ApiError' as const;
  constructor(
    readonly status: number,
    message: string,
    readonly issues: readonly { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: { ...authHeaders(), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  const json = text === '' ? null : (JSON.parse(text) as unknown);
  if (!response.ok) {
    const err = (json ?? {}) as { message?: string; issues?: { path: string; message: string }[] };
    throw new ApiError(response.status, err.message ?? `${method} ${path}: ${response.status}`, err.issues ?? []);
  }
  return json as T;
}

export const api = {
  runs: () => call<{ runs: RunSummary[] }>('GET', '/v1/runs'),
  run: (id: string) => call<RunDetail>('GET', `/v1/runs/${encodeURIComponent(id)}`),
  start: (body: Record<string, unknown>) => call<RunSummary>('POST', '/v1/runs', body),
  post: (path: string, body?: unknown) => call<unknown>('POST', path, body ?? {}),
  startRollout: (body: Record<string, unknown>) => call<RolloutCreated>('POST', '/v1/rollouts', body),
  rollout: (id: string) => call<RolloutStatus>('GET', `/v1/rollouts/${encodeURIComponent(id)}`),
  rollouts: () => call<RolloutList>('GET', '/v1/rollouts'),
  events: async (id: string) => {
    const response = await fetch(`/v1/runs/${encodeURIComponent(id)}/events.jsonl`, { headers: authHeaders() });
    if (!response.ok) throw new ApiError(response.status, `the log of run ${id} cannot be read (${response.status})`);
    return (await response.text()).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);
  },
};

export const sheetUrl = (rolloutId: string, episode: number) => `/v1/rollouts/${encodeURIComponent(rolloutId)}/episodes/${episode}/sheet.png`;

export const fileUrl = (runId: string, name: string) => `/v1/runs/${encodeURIComponent(runId)}/files/${encodeURIComponent(name)}`;

/**
 * What this service offers, read from its OpenAPI document: the page enables a control only when
 * its route is there, so it works against a service with fewer routes and needs no change when one
 * is added.
 */
export interface Capabilities {
  paths: ReadonlySet<string>;
  backends: readonly string[];
  autonomy: readonly string[] | null;
  rollouts: boolean;
  /** What POST /v1/rollouts takes, when the service has it. */
  rolloutForm: { backends: readonly string[]; scenes: readonly string[] };
}

type OpenApi = { paths?: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, { enum?: string[] }> } }> } }>> };

export async function capabilities(): Promise<Capabilities> {
  const doc = await call<OpenApi>('GET', '/openapi.json');
  const paths = doc.paths ?? {};
  const bodyOf = (path: string) => paths[path]?.post?.requestBody?.content?.['application/json']?.schema?.properties ?? {};
  const runBody = bodyOf('/v1/runs');
  const rolloutBody = bodyOf('/v1/rollouts');
  return {
    paths: new Set(Object.entries(paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))),
    backends: runBody.backend?.enum ?? ['oracle', 'onnx'],
    autonomy: runBody.autonomy?.enum ?? null,
    rollouts: 'post' in (paths['/v1/rollouts'] ?? {}),
    rolloutForm: { backends: rolloutBody.backend?.enum ?? ['oracle'], scenes: rolloutBody.scene?.enum ?? ['tshirt', 'table'] },
  };
}
