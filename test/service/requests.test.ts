import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveCommand } from '../../src/cli/commands/serve.js';
import { loadProfile } from '../../src/profile/load.js';
import { isLoopbackHost } from '../../src/service/auth.js';
import { refusedUpgrade, startService, type TestService } from './service-client.js';

const png = async (width: number, height: number) =>
  (await sharp({ create: { width, height, channels: 3, background: { r: 200, g: 200, b: 200 } } }).png().toBuffer()).toString('base64');

describe('bad requests get a 4xx that names the field', () => {
  let api: TestService;
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'keystep-serve-bad-'));
    mkdirSync(join(root, 'runs'));
    // A file next to --runs that no request may reach.
    writeFileSync(join(root, 'secret.json'), '{"secret":true}');
    api = await startService({ runsDir: join(root, 'runs'), model: null, bodyLimit: 256 * 1024 });
  });
  afterAll(async () => {
    await api.close();
  });

  // An 8x6 grey PNG.
  const small = 'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAGCAIAAABxZ0isAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAD0lEQVQImWM4gQMwDKQEAPf2cIEIJ/kdAAAAAElFTkSuQmCC';
  const plan = (over: Record<string, unknown>) => ({ robot: 'aloha-agilex', task: 'fold the t-shirt', observation: small, ...over });
  const badProfile = { ...loadProfile('franka-fr3'), arms: [{ ...loadProfile('franka-fr3').arms[0]!, dof: 0 }] };
  const cases: [string, string, string, unknown, number, string][] = [
    ['no task', 'POST', '/v1/plans', { robot: 'aloha-agilex', observation: 'AAAA' }, 400, 'body.task'],
    ['an empty task', 'POST', '/v1/plans', plan({ task: '   ' }), 400, 'body.task'],
    ['no robot', 'POST', '/v1/plans', { task: 'x', observation: 'AAAA' }, 400, 'body.robot'],
    ['an unknown robot id', 'POST', '/v1/plans', plan({ robot: 'r2d2' }), 400, 'body.robot'],
    ['a robot id that is a path', 'POST', '/v1/plans', plan({ robot: '../robots/aloha-agilex' }), 400, 'body.robot'],
    ['an inline profile with a bad field', 'POST', '/v1/plans', plan({ robot: badProfile }), 400, 'body.robot.arms[0].dof'],
    ['an unknown field', 'POST', '/v1/plans', plan({ temperature: 2 }), 400, 'body'],
    ['the oracle backend', 'POST', '/v1/plans', plan({ backend: 'oracle' }), 400, 'body.backend'],
    ['an observation that is not base64', 'POST', '/v1/plans', plan({ observation: 'not base64!' }), 400, 'body.observation'],
    ['an observation that is not a picture', 'POST', '/v1/plans', plan({ observation: Buffer.from('hello world').toString('base64') }), 400, 'body.observation'],
    ['a truncated PNG', 'POST', '/v1/plans', plan({ observation: 'iVBORw0KGgoAAAANSUhEUgAAAEAAAAAwCAIAAAA' }), 400, 'body.observation'],
    ['a bad history entry', 'POST', '/v1/plans', plan({ history: [{ stepIndex: -1, attempt: 0, instruction: 'x', status: 'done' }] }), 400, 'body.history[0].stepIndex'],
    ['a bad sampler', 'POST', '/v1/plans', plan({ sampling: { sampler: 'beam' } }), 400, 'body.sampling.sampler'],
    ['no DiDA passes', 'POST', '/v1/plans', plan({ sampling: { passes: 0 } }), 400, 'body.sampling.passes'],
    ['too many DiDA passes', 'POST', '/v1/plans', plan({ sampling: { passes: 17 } }), 400, 'body.sampling.passes'],
    ['a rosbridge that is not a ws URL', 'POST', '/v1/runs', { robot: 'aloha-agilex', task: 'x', rosbridge: 'http://x' }, 400, 'body.rosbridge'],
    ['an unknown backend', 'POST', '/v1/runs', { robot: 'aloha-agilex', task: 'x', rosbridge: 'ws://x', backend: 'gpt' }, 400, 'body.backend'],
    ['a run id with a slash', 'POST', '/v1/runs', { robot: 'aloha-agilex', task: 'x', rosbridge: 'ws://x', runId: '../x' }, 400, 'body.runId'],
    ['negative replans', 'POST', '/v1/runs', { robot: 'aloha-agilex', task: 'x', rosbridge: 'ws://x', limits: { maxReplans: -1 } }, 400, 'body.limits.maxReplans'],
    ['a run id of dots', 'GET', '/v1/runs/..', undefined, 400, 'params.id'],
    ['an encoded traversal', 'GET', '/v1/runs/..%2F..%2Fsecret', undefined, 400, 'params.id'],
    ['an encoded run id of dots', 'GET', '/v1/runs/%2E%2E/events.jsonl', undefined, 400, 'params.id'],
    ['a file outside the run', 'GET', '/v1/runs/abc/files/..%2F..%2Fsecret.json', undefined, 400, 'params.name'],
    ['a bad since', 'GET', '/v1/runs/abc/events?since=-1', undefined, 400, 'querystring.since'],
    ['a resume without rosbridge', 'POST', '/v1/runs/abc/resume', {}, 400, 'body.rosbridge'],
  ];

  it.each(cases)('%s: %s %s', async (_what, method, path, json, status, field) => {
    const response = await api.request(method, path, json === undefined ? {} : { json });
    expect(response.status).toBe(status);
    expect(response.json.issues.map((i: { path: string }) => i.path)).toContain(field);
    expect(response.json.message).toContain(field);
  });

  it('refuses pictures over 4096 px a side before decoding them, bodies over the limit, and bodies that are not JSON', async () => {
    const huge = await api.request('POST', '/v1/plans', { json: plan({ observation: await png(4097, 8) }) });
    expect(huge.status).toBe(400);
    expect(huge.json.message).toMatch(/^body\.observation: the picture is 4097x8/);
    const big = await api.request('POST', '/v1/plans', { json: plan({ observation: 'A'.repeat(300 * 1024) }) });
    expect(big.status).toBe(413);
    expect(big.json.error).toBe('too_large');
    expect((await api.request('POST', '/v1/plans', { body: '{"robot":', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await api.request('POST', '/v1/plans', { body: 'robot=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(415);
  });

  it('answers 404 for runs that do not exist and routes that do not exist, 503 for onnx without a model', async () => {
    expect((await api.request('GET', '/v1/runs/nope')).json).toMatchObject({ error: 'not_found' });
    expect((await api.request('GET', '/v1/runs/nope/events.jsonl')).status).toBe(404);
    expect((await api.request('POST', '/v1/runs/nope/abort')).status).toBe(404);
    expect((await api.request('GET', '/v2/anything')).status).toBe(404);
    expect(await refusedUpgrade(`${api.ws}/v1/runs/nope/events`)).toMatchObject({ status: 404 });
    expect((await api.request('GET', '/v1/runs/nope/events')).status).toBe(404);
    const onnx = await api.request('POST', '/v1/plans', { json: plan({}) });
    expect(onnx.status).toBe(503);
    expect(onnx.json.message).toMatch(/without an embedded model/);
  });
});

describe('access', () => {
  it('with a token, every route but the probes needs it, WebSocket upgrades included', async () => {
    const token = 'x'.repeat(20) + 'secret';
    const api = await startService({ runsDir: mkdtempSync(join(tmpdir(), 'keystep-serve-auth-')), model: null, token });
    try {
      expect((await api.request('GET', '/healthz')).status).toBe(200);
      expect((await api.request('GET', '/readyz')).status).toBe(200);
      expect((await api.request('GET', '/v1/runs')).status).toBe(401);
      expect((await api.request('GET', '/openapi.json')).status).toBe(401);
      expect((await api.request('GET', '/v1/runs', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await api.request('GET', '/v1/runs', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await refusedUpgrade(`${api.ws}/v1/runs/any/events`)).status).toBe(401);
      expect((await refusedUpgrade(`${api.ws}/v1/runs/any/events`, { authorization: `Bearer ${token}` })).status).toBe(404);
    } finally {
      await api.close();
    }
  });

  it("admits the web view's token cookie for reads from its own origin only, and serves the page itself without a token", async () => {
    const token = 'y'.repeat(20) + 'secret';
    const api = await startService({ runsDir: mkdtempSync(join(tmpdir(), 'keystep-serve-cookie-')), model: null, token });
    const cookie = (t: string) => ({ cookie: `other=1; keystep_token=${encodeURIComponent(t)}` });
    const host = api.base.slice('http://'.length);
    try {
      // The page must load to ask for the token: its files are open, the API behind it is not.
      expect((await api.request('GET', '/ui/')).status).not.toBe(401);
      expect((await api.request('GET', '/ui/app.js')).status).not.toBe(401);
      expect((await api.request('GET', '/uix')).status).toBe(401);
      expect((await api.request('GET', '/v1/runs', { headers: cookie(token) })).status).toBe(200);
      expect((await api.request('GET', '/v1/runs', { headers: { ...cookie(token), origin: `http://${host}` } })).status).toBe(200);
      expect((await api.request('GET', '/v1/runs', { headers: cookie('z'.repeat(26)) })).status).toBe(401);
      // Another site's page could make the browser send the cookie: not with another Origin, and never for a POST.
      expect((await api.request('GET', '/v1/runs', { headers: { ...cookie(token), origin: 'http://evil.example' } })).status).toBe(401);
      expect((await api.request('POST', '/v1/runs/any/abort', { headers: cookie(token) })).status).toBe(401);
      expect((await api.request('POST', '/v1/runs/any/abort', { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
      // A browser's WebSocket has no header, only the cookie.
      expect((await refusedUpgrade(`${api.ws}/v1/runs/any/events`, cookie(token))).status).toBe(404);
      expect((await refusedUpgrade(`${api.ws}/v1/runs/any/events`, { ...cookie(token), origin: 'http://evil.example' })).status).toBe(401);
    } finally {
      await api.close();
    }
  });

  it('keystep serve refuses an address other machines can reach without --token-file', async () => {
    const io = { out: () => undefined, err: () => undefined, tty: false };
    await expect(serveCommand.run(['--host', '0.0.0.0', '--port', '0'], io)).rejects.toThrow(/--token-file/);
    const weak = join(mkdtempSync(join(tmpdir(), 'keystep-serve-token-')), 'token');
    writeFileSync(weak, 'short\n');
    const errors: string[] = [];
    expect(await serveCommand.run(['--host', '0.0.0.0', '--token-file', weak], { ...io, err: (t) => errors.push(t) })).toBe(3);
    expect(errors.join('\n')).toMatch(/16 or more characters/);
    expect(['127.0.0.1', '127.8.9.1', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '::', '192.168.1.4', 'example.com', '128.0.0.1'].some(isLoopbackHost)).toBe(false);
  });
});
