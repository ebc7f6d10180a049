import { Topic } from 'roslib';
import { WebSocket } from 'ws';
import { afterEach, expect, it } from 'vitest';
import { listen, RosbridgeServer, type ClientInfo, type RosbridgeSocket, type RosbridgeSocketEvents, type StdString } from '../../src/rosbridge/index.js';
import { cleanup, connectRos, RawClient, waitUntil } from './helpers.js';

/** Starting, sharing and stopping the server, and what it tells observers along the way. */

afterEach(cleanup);

it('closing the server also stops the listener listen() made for it', async () => {
  const { server, url } = await listen({ port: 0 });
  const ros = await connectRos(url);
  const closed = new Promise<void>((resolve) => ros.once('close', () => resolve()));
  await server.close();
  await closed;
  const refused = await new Promise<boolean>((resolve) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(false));
    ws.once('error', () => resolve(true));
  });
  expect(refused).toBe(true);
  expect(() => server.advertise('/late', 'std_msgs/String')).toThrow(/closed/);
  await server.close(); // idempotent
});

it('one server can serve several listeners; events and stats follow the clients', async () => {
  const server = new RosbridgeServer();
  const events: string[] = [];
  server.on('connection', (c: ClientInfo) => events.push(`+${c.id}`));
  server.on('disconnection', (c: ClientInfo) => events.push(`-${c.id}`));
  server.on('status', (e) => events.push(`${e.status.level}:${e.sent ? 'sent' : 'filtered'}`));
  const a = await listen({ port: 0, server });
  const b = await listen({ port: 0, server });
  const got: StdString[] = [];
  server.subscribe<StdString>('/shared', 'std_msgs/String', (m) => got.push(m));
  const ra = await RawClient.connect(a.url);
  const rb = await RawClient.connect(b.url);
  ra.send({ op: 'publish', topic: '/shared', msg: { data: 'from a' } });
  rb.send({ op: 'publish', topic: '/shared', msg: { data: 'from b' } });
  rb.send({ op: 'subscribe', topic: '/shared' });
  await waitUntil(() => got.length === 2 && events.includes('info:filtered'));
  expect(server.stats()).toMatchObject({ clients: 2, framesIn: 3, topics: 1, errors: 0 });
  ra.close();
  await waitUntil(() => events.includes('-1'));
  await a.close();
  await b.close(); // the listeners do not own the server
  expect(() => server.advertise('/still', 'std_msgs/String')).not.toThrow();
  await server.close();
  expect(events.slice(0, 2)).toEqual(['+1', '+2']);
});

it('handleConnection takes any socket with send/close/on; a throwing observer or socket cannot break it', async () => {
  const server = new RosbridgeServer();
  server.on('connection', () => {
    throw new Error('observer bug');
  });
  const a = await listen({ port: 0, server });
  const ros = await connectRos(a.url);
  const pub = server.advertise<StdString>('/ok', 'std_msgs/String');
  const got: StdString[] = [];
  new Topic<StdString>({ ros, name: '/ok', messageType: 'std_msgs/String' }).subscribe((m) => got.push(m));
  await waitUntil(() => pub.subscriberCount() === 1);
  // Any object with send/close/on will do; this one's send throws, which is reported, not fatal.
  const internal: string[] = [];
  server.on('internalError', (_err, context) => internal.push(context));
  const listeners: Partial<RosbridgeSocketEvents> = {};
  const socket: RosbridgeSocket = {
    send: () => {
      throw new Error('wire cut');
    },
    close: () => listeners.close?.(),
    on: (event, listener) => {
      listeners[event] = listener as never;
    },
  };
  server.handleConnection(socket, 'in-memory');
  listeners.message!(JSON.stringify({ op: 'noop' }));
  expect(internal).toEqual(['sending to client 2']);
  expect(server.stats().clients).toBe(2);
  listeners.close!();
  expect(server.stats().clients).toBe(1);
  pub.publish({ data: 'fine' });
  await waitUntil(() => got.length === 1);
  await server.close();
});
