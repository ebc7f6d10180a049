import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ServiceError } from './service-error.js';

/** Routes a probe calls without a token; they say nothing about runs or plans. */
export const OPEN_ROUTES: readonly string[] = ['/healthz', '/readyz'];

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return isLoopbackHost(h.slice('::ffff:'.length));
  return false;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * An onRequest hook that admits `Authorization: Bearer <token>` (compared in constant time) and
 * answers 401 to anything else, except the probes in OPEN_ROUTES. The same hook guards the
 * WebSocket upgrade requests.
 */
export function bearerAuth(token: string): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const expected = digest(token);
  return async (request) => {
    const path = request.url.split('?', 1)[0]!;
    if (OPEN_ROUTES.includes(path)) return;
    const header = request.headers.authorization;
    const given = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : null;
    if (given === null || !timingSafeEqual(digest(given), expected)) {
      throw new ServiceError(401, 'unauthorized', 'this service needs "Authorization: Bearer <token>" (the token in the file given to --token-file)');
    }
  };
}
