import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { buildService, type ServiceOptions } from '../../src/service/server.js';

/** A real `keystep serve` on loopback, port 0, and a small client for it. */
export interface TestService {
  app: FastifyInstance;
  base: string;
  ws: string;
  request(method: string, path: string, options?: { json?: unknown; body?: string | Uint8Array; headers?: Record<string, string> }): Promise<{ status: number; text: string; json: any }>;
  close(): Promise<void>;
}

export async function startService(options: ServiceOptions): Promise<TestService> {
  const app = await buildService(options);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  return {
    app,
    base,
    ws: `ws://127.0.0.1:${port}`,
    async request(method, path, o = {}) {
      const body = o.json !== undefined ? JSON.stringify(o.json) : o.body;
      const headers: Record<string, string> = {
        ...(o.json !== undefined ? { 'content-type': 'application/json' } : {}),
        // Framed for every method: node:http sends a DELETE's body unframed, as a second request.
        ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
        ...o.headers,
      };
      // node:http sends the path as given (fetch would resolve "..", "%2e%2e" before sending it).
      const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      });
      let json: any = null;
      try {
        json = JSON.parse(text);
      } catch {
        // not JSON: events.jsonl, a PNG, an empty body
      }
      return { status, text, json };
    },
    close: () => app.close(),
  };
}

export interface StreamResult {
  frames: string[];
  code: number;
  reason: string;
}

/**
 * Connects to a run's event stream and collects text frames until the server closes it, or until
 * `stopAfter` frames or a frame `stopWhen` likes (then the client closes).
 */
export function collectEvents(
  url: string,
  options: { headers?: Record<string, string>; stopAfter?: number; stopWhen?: (frame: string) => boolean; timeoutMs?: number; onOpen?: (socket: WebSocket) => void } = {},
): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: options.headers ?? {} });
    const frames: string[] = [];
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`the event stream ${url} did not end within ${options.timeoutMs ?? 30_000} ms (${frames.length} frames)`));
    }, options.timeoutMs ?? 30_000);
    socket.on('open', () => options.onOpen?.(socket));
    socket.on('message', (data) => {
      frames.push(String(data));
      if ((options.stopAfter !== undefined && frames.length >= options.stopAfter) || options.stopWhen?.(String(data))) socket.close(1000);
    });
    socket.on('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ frames, code, reason: String(reason) });
    });
    socket.on('unexpected-response', (_request, response) => {
      clearTimeout(timer);
      socket.terminate();
      reject(new Error(`upgrade refused: ${response.statusCode}`));
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** The status an upgrade request gets when the server refuses it before switching protocols. */
export function refusedUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.on('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (d: Buffer) => (body += d.toString()));
      response.on('end', () => {
        socket.terminate();
        resolve({ status: response.statusCode ?? 0, body });
      });
    });
    socket.on('open', () => {
      socket.close();
      reject(new Error(`${url} was upgraded`));
    });
    socket.on('error', () => undefined);
  });
}
