import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startService } from './service-client.js';

const COMMITTED = resolve(import.meta.dirname, '../../docs/openapi.json');

describe('/openapi.json', () => {
  it('is the committed docs/openapi.json (regenerate: node bin/keystep.js serve --openapi > docs/openapi.json)', async () => {
    const api = await startService({ runsDir: mkdtempSync(join(tmpdir(), 'keystep-serve-openapi-')), model: null });
    try {
      const served = await api.request('GET', '/openapi.json');
      expect(served.status).toBe(200);
      expect(served.json).toEqual(JSON.parse(readFileSync(COMMITTED, 'utf8')));
      // Every route the service has is in it, the WebSocket included.
      expect(Object.keys(served.json.paths).sort()).toEqual(
        ['/healthz', '/readyz', '/v1/plans', '/v1/plans/stream', '/v1/rollouts', '/v1/rollouts/{id}', '/v1/rollouts/{id}/episodes/{episode}/sheet.png', '/v1/runs', '/v1/runs/{id}', '/v1/runs/{id}/abort', '/v1/runs/{id}/resume', '/v1/runs/{id}/pause', '/v1/runs/{id}/approve', '/v1/runs/{id}/reject', '/v1/runs/{id}/events.jsonl', '/v1/runs/{id}/files/{name}', '/v1/runs/{id}/events', '/v1/runs/{id}/drawing'].sort(),
      );
    } finally {
      await api.close();
    }
  });
});
