import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { RosbridgeSocket, RosbridgeSocketEvents } from './client.js';
import { RosbridgeServer, type RosbridgeServerOptions } from './server.js';

/**
 * The `ws` transport: a WebSocketServer whose connections are handed to a RosbridgeServer. Kept
 * apart from the server so the protocol does not depend on `ws` (foxglove ws-protocol's split).
 */

export interface ListenOptions {
  /** 0 (the default) picks a free port; rosbridge_server's own default is 9090. */
  readonly port?: number;
  /** Loopback unless told otherwise: the simulated robot is not for the network. */
  readonly host?: string;
  /** Serve this server; by default a new one is made (and closed with the listener). */
  readonly server?: RosbridgeServer;
  readonly serverOptions?: RosbridgeServerOptions;
  /** Largest incoming frame in bytes; larger ones close the connection (ws's 1009). */
  readonly maxPayload?: number;
}

export interface RosbridgeListener {
  readonly server: RosbridgeServer;
  readonly host: string;
  readonly port: number;
  /** `ws://host:port` for clients such as roslib. */
  readonly url: string;
  /**
   * Stops listening and drops all connections; closes the server too if listen() made it.
   * Closing the server closes its listeners as well.
   */
  close(): Promise<void>;
}

function toBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return data;
}

/** Adapts a `ws` WebSocket to the server's socket interface. */
export function adaptWebSocket(ws: WebSocket): RosbridgeSocket {
  return {
    send(data) {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(data, { binary: typeof data !== 'string' });
    },
    close(code, reason) {
      ws.close(code, reason);
    },
    on(event, listener) {
      if (event === 'message') {
        const onMessage = listener as RosbridgeSocketEvents['message'];
        ws.on('message', (data, isBinary) => onMessage(isBinary ? toBuffer(data) : toBuffer(data).toString('utf8')));
      } else {
        ws.on('close', listener as RosbridgeSocketEvents['close']);
      }
    },
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
  };
}

export async function listen(options: ListenOptions = {}): Promise<RosbridgeListener> {
  const host = options.host ?? '127.0.0.1';
  const ownsServer = options.server === undefined;
  const server = options.server ?? new RosbridgeServer(options.serverOptions);
  const wss = new WebSocketServer({ host, port: options.port ?? 0, maxPayload: options.maxPayload ?? 64 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  // After startup a listener error (e.g. EMFILE) must not crash the process; it is reported.
  wss.on('error', (err) => server.emit('internalError', err, 'websocket listener'));
  wss.on('connection', (ws, req) => {
    // A socket-level error (bad frame, reset) ends that connection only; 'close' follows.
    ws.on('error', () => undefined);
    server.handleConnection(adaptWebSocket(ws), `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`);
  });
  const port = (wss.address() as AddressInfo).port;
  let stopping: Promise<void> | undefined;
  const stopListening = () => {
    stopping ??= (async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    })();
    return stopping;
  };
  server.onClose(stopListening);
  return {
    server,
    host,
    port,
    url: `ws://${host.includes(':') ? `[${host}]` : host}:${port}`,
    async close() {
      await stopListening();
      if (ownsServer) await server.close();
    },
  };
}
