import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RunLog } from '../../src/executor/run-log.js';
import { Rng } from '../../src/util/rng.js';
import { startService, type TestService } from './service-client.js';

/*
 * Malformed requests and frames, seeded and bounded (2,000 in all, in batches): the service answers
 * every one without a 500, and serves normally afterwards.
 */

const REQUESTS = 1400;
const SOCKETS = 60;
const FRAMES_PER_SOCKET = 5;
/** First frames sent to /v1/plans/stream, one socket each. */
const PLAN_FRAMES = 300;

// An 8x6 grey PNG.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAGCAIAAABxZ0isAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAD0lEQVQImWM4gQMwDKQEAPf2cIEIJ/kdAAAAAElFTkSuQmCC';
const VALID: Record<string, Record<string, unknown>> = {
  '/v1/plans': { robot: 'aloha-agilex', task: 'fold the t-shirt', observation: PNG, history: [{ stepIndex: 0, attempt: 0, instruction: 'tidy the collar', status: 'done' }], sampling: { seed: 1 } },
  // Port 1 refuses at once and the timeout is short, so a body the fuzz leaves valid fails fast (502).
  '/v1/runs': { robot: 'aloha-agilex', task: 'fold the t-shirt', rosbridge: 'ws://127.0.0.1:1', backend: 'oracle', limits: { connectTimeoutMs: 100 } },
  '/v1/runs/done-run/resume': { rosbridge: 'ws://127.0.0.1:1', connectTimeoutMs: 100 },
  // Zero episodes is refused, so a body the fuzz leaves valid starts no rollout.
  '/v1/rollouts': { robot: 'aloha-agilex', scene: 'tshirt', task: 'fold the t-shirt', episodes: 0, backend: 'oracle' },
};
/** Each route with its method; the fuzz mostly keeps the method, so requests reach the handlers. */
const ROUTES: [string, string][] = [
  ['POST', '/v1/plans'],
  ['POST', '/v1/runs'],
  ['POST', '/v1/runs/done-run/resume'],
  ['POST', '/v1/runs/open-run/abort'],
  ['POST', '/v1/rollouts'],
  ['GET', '/v1/rollouts/rollout-none'],
  ['GET', '/v1/plans/stream'],
  ['GET', '/v1/runs'],
  ['GET', '/v1/runs/done-run'],
  ['GET', '/v1/runs/done-run/events.jsonl'],
  ['GET', '/v1/runs/done-run/files/plan-v1.json'],
  ['GET', '/v1/runs/open-run/events'],
  ['GET', '/healthz'],
  ['GET', '/readyz'],
  ['GET', '/openapi.json'],
];
const JUNK_SEGMENTS = ['..', '%2e%2e', '%2F', '%00', '%', '%zz', '.', '~', '*', ';', 'x'.repeat(400), '%C3%A9', '%F0%9F%A4%96', 'con', '', 'done-run%2F..%2F..'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];
const CONTENT_TYPES = ['application/json', 'application/json; charset=latin1', 'text/plain', 'multipart/form-data; boundary=x', 'application/octet-stream', ''];

function junkValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 3 ? 6 : 9)) {
    case 0:
      return null;
    case 1:
      return rng.int(2) === 0 ? -rng.int(1e9) : rng.float() * 1e12;
    case 2:
      return 'x'.repeat(rng.int(3000));
    case 3:
      return rng.chance(0.5);
    case 4:
      return String.fromCharCode(...Array.from({ length: rng.int(40) }, () => rng.int(0xffff)));
    case 5:
      return PNG.slice(0, rng.int(PNG.length));
    case 6:
      return Array.from({ length: rng.int(5) }, () => junkValue(rng, depth + 1));
    case 7:
      return Object.fromEntries(Array.from({ length: rng.int(5) }, (_, i) => [`k${i}`, junkValue(rng, depth + 1)]));
    default:
      return { __proto__: { polluted: true }, constructor: { prototype: { polluted: true } } };
  }
}

/** A valid body with a few fields dropped, replaced or added. */
function mutate(rng: Rng, body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(body);
  const keys = Object.keys(out);
  for (let i = 0, n = 1 + rng.int(3); i < n; i++) {
    const key = keys[rng.int(keys.length)]!;
    const what = rng.int(3);
    if (what === 0) delete out[key];
    else if (what === 1 && !(key === 'rosbridge' || key === 'limits' || key === 'connectTimeoutMs')) out[key] = junkValue(rng);
    else out[`extra${rng.int(5)}`] = junkValue(rng);
  }
  return out;
}

function rawBody(rng: Rng): string {
  switch (rng.int(7)) {
    case 0:
      return JSON.stringify(VALID['/v1/plans']).slice(0, rng.int(200));
    case 1:
      return '['.repeat(5000) + ']'.repeat(5000);
    case 2:
      return '{"a":'.repeat(2000) + '1' + '}'.repeat(2000);
    case 3:
      return ['null', '[]', '"x"', '1e999', 'true', '{}', '{"__proto__":{"x":1}}'][rng.int(7)]!;
    case 4:
      return Buffer.from(Array.from({ length: rng.int(500) }, () => rng.int(256))).toString('latin1');
    case 5:
      return `{"robot":"aloha-agilex","task":"x","observation":"${'A'.repeat(rng.int(4))}=="}`;
    default:
      return '';
  }
}

function fuzzPath(rng: Rng, path: string): string {
  if (rng.chance(0.7)) return path + (rng.chance(0.3) ? `?since=${encodeURIComponent(JSON.stringify(junkValue(rng)) ?? "")}` : '');
  const segments = path.split('/');
  segments[1 + rng.int(segments.length - 1)] = JUNK_SEGMENTS[rng.int(JUNK_SEGMENTS.length)]!;
  return segments.join('/');
}

describe('fuzz: malformed requests and frames', () => {
  let api: TestService;
  beforeAll(async () => {
    const runsDir = mkdtempSync(join(tmpdir(), 'keystep-serve-fuzz-'));
    const done = RunLog.create(runsDir, 'done-run');
    done.append({ type: 'run_started', runId: 'done-run', robot: 'aloha-agilex', task: 'fold the t-shirt', backend: 'oracle', maxValidationRetries: 2, limits: { stepTimeoutMs: 1000, maxReplans: 3 } });
    done.append({ type: 'finished', report: { runId: 'done-run', outcome: 'failed', reason: 'test', steps: [], replans: 0, planVersions: 0, issues: [] } });
    done.close();
    const open = RunLog.create(runsDir, 'open-run');
    open.append({ type: 'run_started', runId: 'open-run', robot: 'aloha-agilex', task: 'fold the t-shirt', backend: 'oracle', maxValidationRetries: 2, limits: { stepTimeoutMs: 1000, maxReplans: 3 } });
    open.close();
    api = await startService({ runsDir, model: null, bodyLimit: 512 * 1024 });
  });
  afterAll(async () => {
    await api.close();
  });

  it(`answers ${REQUESTS} malformed HTTP requests without a 500, then serves as before`, async () => {
    const rng = new Rng(25);
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < REQUESTS; batch += 16) {
      await Promise.all(
        Array.from({ length: Math.min(16, REQUESTS - batch) }, async () => {
          const [routeMethod, route] = ROUTES[rng.int(ROUTES.length)]!;
          const method = rng.chance(0.8) ? routeMethod : METHODS[rng.int(METHODS.length)]!;
          const path = fuzzPath(rng, route);
          const base = VALID[path];
          const contentType = rng.chance(0.7) ? 'application/json' : CONTENT_TYPES[rng.int(CONTENT_TYPES.length)]!;
          const body = method === 'GET' || method === 'HEAD' ? undefined : base && rng.chance(0.6) ? JSON.stringify(rng.chance(0.15) ? base : mutate(rng, base)) : rawBody(rng);
          const response = await api.request(method, path, { ...(body !== undefined ? { body } : {}), headers: contentType ? { 'content-type': contentType } : {} });
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          expect(response.status, `${method} ${path} ${body?.slice(0, 200)}`).not.toBe(500);
          if (response.status >= 400 && method !== 'HEAD') expect(response.json, `${method} ${path}`).toEqual(expect.objectContaining({ error: expect.any(String), message: expect.any(String) }));
        }),
      );
    }
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(REQUESTS);
    expect([...statuses.keys()].every((s) => s < 500 || s === 502 || s === 503)).toBe(true);
    expect((await api.request('GET', '/healthz')).status).toBe(200);
    expect((await api.request('GET', '/v1/runs')).json.runs.map((r: { runId: string }) => r.runId).sort()).toEqual(['done-run', 'open-run']);
    expect((await api.request('GET', '/v1/runs/done-run')).json.run).toMatchObject({ state: 'finished', outcome: 'failed' });
  });

  it(`ignores ${SOCKETS * FRAMES_PER_SOCKET} junk frames on ${SOCKETS} event streams, closes only on an oversized one, and keeps streaming`, async () => {
    const rng = new Rng(26);
    const outcomes: string[] = [];
    for (let batch = 0; batch < SOCKETS; batch += 10) {
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          const socket = new WebSocket(`${api.ws}/v1/runs/open-run/events`);
          const frames: string[] = [];
          socket.on('message', (d) => frames.push(String(d)));
          const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
          await new Promise((resolve, reject) => {
            socket.on('open', resolve);
            socket.on('error', reject);
          });
          let oversized = false;
          for (let i = 0; i < FRAMES_PER_SOCKET; i++) {
            const kind = rng.int(10);
            if (kind === 0) {
              oversized = true;
              socket.send(Buffer.alloc(64 * 1024 + 1));
            } else if (kind < 4) socket.send(Buffer.from(Array.from({ length: rng.int(300) }, () => rng.int(256))));
            else if (kind < 8) socket.send(JSON.stringify(junkValue(rng)));
            else socket.ping();
          }
          // Wait for the server to have read them, then see whether it kept the stream.
          await new Promise((r) => setTimeout(r, 50));
          if (oversized) {
            expect(await closed).toBe(1009);
            outcomes.push('closed');
          } else {
            expect(socket.readyState).toBe(WebSocket.OPEN);
            socket.close(1000);
            await closed;
            outcomes.push('open');
          }
          expect(frames.map((f) => JSON.parse(f).type)).toEqual(['run_started']);
        }),
      );
    }
    expect(outcomes).toHaveLength(SOCKETS);
    // Bad upgrade requests are refused as HTTP, and the streams still work afterwards.
    for (const query of ['since=-1', 'since=abc', 'since=1e99', 'since=1&x=2']) {
      const refused = await new Promise<number>((resolve) => {
        const socket = new WebSocket(`${api.ws}/v1/runs/open-run/events?${query}`);
        socket.on('unexpected-response', (_q, r) => {
          socket.terminate();
          resolve(r.statusCode ?? 0);
        });
        socket.on('open', () => resolve(101));
        socket.on('error', () => undefined);
      });
      expect(refused, query).toBe(400);
    }
    expect((await api.request('GET', '/healthz')).status).toBe(200);
  });

  it(`answers ${PLAN_FRAMES} malformed first frames on /v1/plans/stream with one error frame each, and keeps serving`, async () => {
    const rng = new Rng(27);
    const codes = new Map<string, number>();
    for (let batch = 0; batch < PLAN_FRAMES; batch += 10) {
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          const kind = rng.int(4);
          const first =
            kind === 0
              ? rawBody(rng)
              : kind === 1
                ? JSON.stringify(junkValue(rng))
                : JSON.stringify(rng.chance(0.1) ? VALID['/v1/plans'] : mutate(rng, VALID['/v1/plans']!));
          const socket = new WebSocket(`${api.ws}/v1/plans/stream`);
          const frames: string[] = [];
          socket.on('message', (d) => frames.push(String(d)));
          const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
          await new Promise((resolve, reject) => {
            socket.on('open', resolve);
            socket.on('error', reject);
          });
          socket.send(first === '' ? ' ' : first);
          const code = await closed;
          // Without a model a valid request is a 503 (1011); everything else a bad request (1000).
          expect([1000, 1011], first.slice(0, 200)).toContain(code);
          expect(frames, first.slice(0, 200)).toHaveLength(1);
          const frame = JSON.parse(frames[0]!);
          expect(frame).toEqual(expect.objectContaining({ type: 'error', error: expect.any(String), message: expect.any(String) }));
          codes.set(frame.error, (codes.get(frame.error) ?? 0) + 1);
        }),
      );
    }
    expect([...codes.values()].reduce((a, b) => a + b, 0)).toBe(PLAN_FRAMES);
    expect([...codes.keys()].every((c) => c === 'bad_request' || c === 'unavailable')).toBe(true);
    expect((await api.request('GET', '/healthz')).status).toBe(200);
  });

  it('sends at least 2,000 malformed requests and frames in all', () => {
    expect(REQUESTS + SOCKETS * FRAMES_PER_SOCKET + PLAN_FRAMES).toBeGreaterThanOrEqual(2000);
  });
});
