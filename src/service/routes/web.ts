import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { PACKAGE_ROOT } from '../../paths.js';

/** Where `npm run build` (scripts/build-web.mjs) puts the web view. */
export const WEB_DIR = join(PACKAGE_ROOT, 'dist', 'web');

/** The only files served: a fixed list, so no request names a path of its own. */
const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.js.map': 'application/json',
  'app.css': 'text/css; charset=utf-8',
};

/**
 * The web view: `/` redirects to `/ui/`, which serves the page built from web/ at install time.
 * Hidden from /openapi.json: it is not part of the API.
 */
export const webRoutes: FastifyPluginAsync<{ dir?: string }> = async (app, options) => {
  const dir = options.dir ?? WEB_DIR;
  const send = (name: string) => async (_request: unknown, reply: import('fastify').FastifyReply) => {
    const file = join(dir, name);
    if (!existsSync(file)) {
      return reply.code(404).send({ error: 'not_found', message: `the web view is not built (${file} is missing): run \`npm run build\`` });
    }
    return reply.type(FILES[name]!).header('cache-control', 'no-cache').send(createReadStream(file));
  };
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/ui/'));
  app.get('/ui', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/ui/'));
  app.get('/ui/', { schema: { hide: true } }, send('index.html'));
  for (const name of Object.keys(FILES)) app.get(`/ui/${name}`, { schema: { hide: true } }, send(name));
};
