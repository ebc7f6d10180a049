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

/** The web view's files (routes/web.ts): the page must load to ask for the token; it holds no data. */
const isWebViewFile = (path: string) => path === '/' || path === '/ui' || path.startsWith('/ui/');

/**
 * A request URL as the log writes it: the web view is opened once as `/ui/?token=<token>` (the page
 * moves it to a header and a cookie at once), and that first request must not put it in the log.
 */
export function redactToken(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}

/** The cookie the web view sets once it has the token, for what a browser cannot give a header: images and WebSockets. */
export const TOKEN_COOKIE = 'keystep_token';

function cookieToken(header: string | undefined): string | null {
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name !== TOKEN_COOKIE) continue;
    try {
      return decodeURIComponent(value.join('='));
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * The cookie admits reads only (GET: files, images, event WebSockets), and only from this origin.
 * A browser sends a cookie with requests other sites make it send; a POST must carry the header,
 * which no other site's page can set, and a WebSocket opened from another origin says so in Origin.
 */
function cookieAllowed(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/**
 * An onRequest hook that admits `Authorization: Bearer <token>`, or for reads from the web view the
 * token cookie (both compared in constant time), and answers 401 to anything else, except the probes
 * in OPEN_ROUTES and the web view's own files. The same hook guards the WebSocket upgrade requests.
 * The token is never logged: fastify's request log has no headers, and its URLs go through redactToken.
 */
export function bearerAuth(token: string): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const expected = digest(token);
  const matches = (given: string | null) => given !== null && timingSafeEqual(digest(given), expected);
  return async (request) => {
    const path = request.url.split('?', 1)[0]!;
    if (OPEN_ROUTES.includes(path) || isWebViewFile(path)) return;
    const header = request.headers.authorization;
    const given = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : null;
    if (matches(given)) return;
    if (given === null && cookieAllowed(request) && matches(cookieToken(request.headers.cookie))) return;
    throw new ServiceError(401, 'unauthorized', 'this service needs "Authorization: Bearer <token>" (the token in the file given to --token-file)');
  };
}
