import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { startService } from './service-client.js';

/** `GET /v1/runs/{id}` pairs in the Routes part of `keystep serve --help`. */
function helpRoutes(help: string): string[] {
  const section = help.slice(help.indexOf('Routes'), help.indexOf('Exit codes'));
  return [...section.matchAll(/\b(GET|POST|PUT|PATCH|DELETE)\s+(\/[^\s,]*)/g)].map((m) => `${m[1]} ${m[2]}`);
}

describe('keystep serve --help', () => {
  it('lists exactly the routes the server has: the OpenAPI document\'s, the document itself and the web view', async () => {
    const { code, out } = await cli('serve', '--help');
    expect(code).toBe(0);
    const listed = helpRoutes(out);
    expect(new Set(listed).size).toBe(listed.length);

    const api = await startService({ runsDir: mkdtempSync(join(tmpdir(), 'keystep-serve-help-')), model: null });
    try {
      const paths = (await api.request('GET', '/openapi.json')).json.paths as Record<string, Record<string, unknown>>;
      const documented = Object.entries(paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
      expect([...listed].sort()).toEqual([...documented, 'GET /openapi.json', 'GET /'].sort());
      // And fastify's own table has each, parameters as it writes them.
      for (const route of listed) {
        const [method, path] = route.split(' ') as [string, string];
        expect(api.app.hasRoute({ method: method as 'GET' | 'POST', url: path.replace(/\{(\w+)\}/g, ':$1') }), route).toBe(true);
      }
    } finally {
      await api.close();
    }
  });
});
