import { decode as decodeCbor, encode as encodeCbor } from 'cbor-x';
import { Ros } from 'roslib';
import { WebSocket } from 'ws';
import { listen, type RosbridgeListener, type RosbridgeServerOptions } from '../../src/rosbridge/index.js';

/** Answered by every test server; RawClient.sync() uses it as a barrier. */
export const SYNC_SERVICE = '/test/sync';
let syncSeq = 0;

/** Everything a test opened, closed in afterEach by {@link cleanup}. */
const opened: Array<() => Promise<void> | void> = [];

export async function cleanup(): Promise<void> {
  while (opened.length > 0) {
    const close = opened.pop()!;
    try {
      await close();
    } catch {
      // Best effort: a test that already closed it is fine.
    }
  }
}

export async function startServer(serverOptions: RosbridgeServerOptions = {}): Promise<RosbridgeListener> {
  const listener = await listen({ port: 0, host: '127.0.0.1', serverOptions });
  opened.push(() => listener.close());
  listener.server.advertiseService(SYNC_SERVICE, 'std_srvs/Empty', () => ({}));
  return listener;
}

/** A real roslib client, connected. */
export async function connectRos(url: string): Promise<Ros> {
  const ros = new Ros({});
  const connected = new Promise<void>((resolve, reject) => {
    ros.once('connection', () => resolve());
    ros.once('error', (e: unknown) => reject(e instanceof Error ? e : new Error(String(e))));
  });
  await ros.connect(url);
  await connected;
  opened.push(() => ros.close());
  return ros;
}

export async function waitUntil(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export type Frame = { binary: boolean; value: Record<string, unknown> };

/** A bare `ws` client speaking the protocol by hand, recording every frame it receives. */
export class RawClient {
  readonly frames: Frame[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      const value = (isBinary ? decodeCbor(buf) : JSON.parse(buf.toString('utf8'))) as Record<string, unknown>;
      this.frames.push({ binary: isBinary, value });
    });
  }

  static async connect(url: string): Promise<RawClient> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const client = new RawClient(ws);
    opened.push(() => client.close());
    return client;
  }

  get messages(): Array<Record<string, unknown>> {
    return this.frames.map((f) => f.value);
  }

  send(op: unknown): void {
    this.ws.send(JSON.stringify(op));
  }

  sendText(text: string): void {
    this.ws.send(text);
  }

  sendCbor(op: unknown): void {
    this.ws.send(encodeCbor(op), { binary: true });
  }

  sendBinary(bytes: Uint8Array): void {
    this.ws.send(bytes, { binary: true });
  }

  /** Resolves with the first recorded message (from `from` on) matching `match`. */
  async next(match: (m: Record<string, unknown>) => boolean, timeoutMs = 3000, from = 0): Promise<Record<string, unknown>> {
    let found: Record<string, unknown> | undefined;
    await waitUntil(
      () => {
        found = this.messages.slice(from).find(match);
        return found !== undefined;
      },
      timeoutMs,
      'a matching message',
    );
    return found!;
  }

  /** The next status message after index `from`. */
  status(from = 0, timeoutMs = 3000): Promise<Record<string, unknown>> {
    return this.next((m) => m.op === 'status', timeoutMs, from);
  }

  /** Round trip through the server: everything sent before has been handled once this resolves. */
  async sync(): Promise<void> {
    const id = `sync:${++syncSeq}`;
    this.send({ op: 'call_service', id, service: SYNC_SERVICE });
    await this.next((m) => m.op === 'service_response' && m.id === id);
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
  }
}
