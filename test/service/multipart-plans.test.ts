import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load.js';
import { SimWorld } from '../../sim/world.js';
import { MODEL_DIR } from '../model/fixtures.js';
import { startService, type TestService } from './service-client.js';

/** POST /v1/plans with the picture as a file part and the rest as a JSON part, over real HTTP. */
describe('POST /v1/plans as multipart/form-data', () => {
  let api: TestService;
  let small: TestService;
  let png: Uint8Array;
  beforeAll(async () => {
    api = await startService({ runsDir: mkdtempSync(join(tmpdir(), 'keystep-serve-multipart-')), model: { dir: MODEL_DIR } });
    // 1 MiB: the smallest --body-limit serve takes.
    small = await startService({ runsDir: mkdtempSync(join(tmpdir(), 'keystep-serve-multipart-small-')), model: null, bodyLimit: 1024 * 1024 });
    png = new Uint8Array(await new SimWorld({ profile: loadProfile('aloha-agilex'), scene: 'tshirt', task: 'fold the t-shirt', seed: 100_004, missRate: 0 }).observe());
  });
  afterAll(async () => {
    await api?.close();
    await small?.close();
  });

  const fields = { robot: 'aloha-agilex', task: 'fold the t-shirt', scene: 'tshirt', sampling: { seed: 7 } };

  function form(parts: Record<string, string | { bytes: Uint8Array; type: string }>): FormData {
    const data = new FormData();
    for (const [name, part] of Object.entries(parts)) {
      if (typeof part === 'string') data.append(name, part);
      else data.append(name, new Blob([new Uint8Array(part.bytes)], { type: part.type }), `${name}.${part.type.split('/')[1]}`);
    }
    return data;
  }

  async function post(service: TestService, data: FormData, path = '/v1/plans'): Promise<{ status: number; json: any }> {
    const response = await fetch(`${service.base}${path}`, { method: 'POST', body: data });
    return { status: response.status, json: await response.json() };
  }

  it('plans from a PNG file part and a JSON request part exactly as from the base64 JSON body', async () => {
    const viaParts = await post(api, form({ observation: { bytes: png, type: 'image/png' }, request: JSON.stringify(fields) }));
    const viaJson = await api.request('POST', '/v1/plans', { json: { ...fields, observation: Buffer.from(png).toString('base64') } });
    expect(viaParts.status).toBe(200);
    expect(viaJson.status).toBe(200);
    expect(viaParts.json.plan.steps.length).toBeGreaterThan(0);
    expect(viaParts.json.plan.steps).toEqual(viaJson.json.plan.steps);
    expect(viaParts.json.validation).toEqual(viaJson.json.validation);

    // A JPEG of the same picture, and the JSON part sent as a file of its own (application/json), plan too.
    const jpeg = new Uint8Array(await sharp(png).jpeg({ quality: 95 }).toBuffer());
    const data = form({ observation: { bytes: jpeg, type: 'image/jpeg' } });
    data.append('request', new Blob([JSON.stringify(fields)], { type: 'application/json' }), 'request.json');
    const fromJpeg = await post(api, data);
    expect(fromJpeg.status).toBe(200);
    expect(fromJpeg.json.plan).toMatchObject({ robot: 'aloha-agilex', task: 'fold the t-shirt', backend: 'onnx' });
  });

  it('refuses bad parts with a 4xx naming the part or the field', async () => {
    const picture = { bytes: png, type: 'image/png' };
    const cases: [string, FormData, number, string, RegExp][] = [
      ['no picture', form({ request: JSON.stringify(fields) }), 400, 'body.observation', /missing: a file part "observation"/],
      ['the picture as a text field', form({ observation: Buffer.from(png).toString('base64'), request: JSON.stringify(fields) }), 400, 'body.observation', /file part/],
      ['no request part', form({ observation: picture }), 400, 'body.request', /missing/],
      ['request not JSON', form({ observation: picture, request: '{robot: aloha' }), 400, 'body.request', /not JSON/],
      ['an empty task', form({ observation: picture, request: JSON.stringify({ ...fields, task: ' ' }) }), 400, 'body.request.task', /a task needs words/],
      ['a field the API does not have', form({ observation: picture, request: JSON.stringify({ ...fields, colour: 'red' }) }), 400, 'body.request', /unknown field\(s\) "colour"/],
      ['a bad sampling seed', form({ observation: picture, request: JSON.stringify({ ...fields, sampling: { seed: -1 } }) }), 400, 'body.request.sampling.seed', /./],
      ['the picture in the JSON part', form({ observation: picture, request: JSON.stringify({ ...fields, observation: 'aGVsbG8=' }) }), 400, 'body.request.observation', /file part "observation"/],
      ['an unknown part', form({ observation: picture, request: JSON.stringify(fields), picture }), 400, 'body.picture', /unknown part/],
      ['two pictures', (() => { const d = form({ observation: picture, request: JSON.stringify(fields) }); d.append('observation', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'b.png'); return d; })(), 400, 'body.observation', /given twice/],
      ['a file that is no picture', form({ observation: { bytes: new TextEncoder().encode('not a picture at all'), type: 'image/png' }, request: JSON.stringify(fields) }), 400, 'body.observation', /not a PNG or JPEG/],
    ];
    for (const [what, data, status, path, message] of cases) {
      const { status: got, json } = await post(small, data);
      expect(got, what).toBe(status);
      expect(json.issues, what).toEqual([expect.objectContaining({ path, message: expect.stringMatching(message) })]);
    }

    // A picture over --body-limit is 413, naming the part.
    const huge = new Uint8Array(1024 * 1024 + 1);
    huge.set(png.subarray(0, 8));
    const tooLarge = await post(small, form({ observation: { bytes: huge, type: 'image/png' }, request: JSON.stringify(fields) }));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.json.issues).toEqual([expect.objectContaining({ path: 'body.observation' })]);

    // Only /v1/plans takes multipart bodies.
    const runs = await post(small, form({ request: '{}' }), '/v1/runs');
    expect(runs.status).toBe(415);
  });
});
