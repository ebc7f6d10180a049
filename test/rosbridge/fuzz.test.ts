import { encode as encodeCbor } from 'cbor-x';
import { afterEach, expect, it } from 'vitest';
import type { StdString } from '../../src/rosbridge/index.js';
import { cleanup, RawClient, startServer, waitUntil } from './helpers.js';
import { Rng } from '../../src/util/rng.js';

/**
 * 10,000+ random and mutated frames from a seeded generator, then proof of life: the server still
 * runs, still answers a subscribe/publish round trip and a status, and never hit an internal error.
 */

afterEach(cleanup);

/** Seeded uniform [0, 1) from the project's generator: the random tests replay exactly from their seed. */
function prng(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.float();
}

class Gen {
  constructor(readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  string(max = 24): string {
    const alphabets = ['abcdefghijklmnopqrstuvwxyz/_', '{}[]":,\\ \n\t', 'üé€😀\u0000\ud800\u202e', '0123456789.-+eE'];
    let s = '';
    const n = this.int(max);
    for (let i = 0; i < n; i++) s += this.pick([...this.pick(alphabets)]);
    return s;
  }
  number(): number {
    return this.pick([0, -1, 1, 7, 1.5, -0, 1e308, -1e308, 2 ** 53 + 1, 2 ** 31, 2 ** 32, -(2 ** 31), 0.1, 1e-300, this.int(1_000_000) - 500_000, this.next()]);
  }
  value(depth = 0): unknown {
    switch (this.int(depth > 3 ? 5 : 7)) {
      case 0:
        return this.number();
      case 1:
        return this.string();
      case 2:
        return this.chance(0.5);
      case 3:
        return null;
      case 4:
        return this.pick(TOPICS);
      case 5:
        return Array.from({ length: this.int(5) }, () => this.value(depth + 1));
      default: {
        const o: Record<string, unknown> = {};
        for (let i = this.int(5); i > 0; i--) o[this.pick([...FIELDS, this.string(8)])] = this.value(depth + 1);
        return o;
      }
    }
  }
}

const TOPICS = ['/fz/a', '/fz/b', 'fz/c', '/heartbeat', '/fz/img', '~/private', '', '/', 'bad name', '/9lives', '//x'];
const SERVICES = ['/fz/srv', 'fz/srv2', '/test/sync', '/nope', ''];
const TYPES = ['std_msgs/String', 'std_msgs/msg/String', 'sensor_msgs/Image', 'sensor_msgs/msg/CompressedImage', 'sensor_msgs/JointState', 'my_pkg/Custom', 'nope', '/', 'a/b/c/d'];
const OPS = ['advertise', 'unadvertise', 'publish', 'subscribe', 'unsubscribe', 'call_service', 'advertise_service', 'unadvertise_service', 'service_response', 'fragment', 'status', 'set_level', 'png', 'auth', 'send_action_goal'];
const FIELDS = ['op', 'id', 'topic', 'type', 'msg', 'service', 'args', 'values', 'result', 'data', 'num', 'total', 'level', 'throttle_rate', 'queue_length', 'fragment_size', 'compression', 'latch', '__proto__', 'constructor', 'header', 'format', 'width'];

function validOp(g: Gen): Record<string, unknown> {
  const id = g.chance(0.5) ? `id${g.int(20)}` : g.int(20);
  switch (g.pick(OPS)) {
    case 'advertise':
      return { op: 'advertise', id, topic: g.pick(TOPICS), type: g.pick(TYPES), latch: g.chance(0.3) };
    case 'unadvertise':
      return { op: 'unadvertise', id, topic: g.pick(TOPICS) };
    case 'publish':
      return {
        op: 'publish',
        topic: g.pick(TOPICS),
        msg: g.pick([{ data: g.string() }, { format: 'jpeg', data: 'AAEC' }, { width: 2, height: 1, data: [1, 2, 3] }, { name: ['j'], position: [g.number()] }, g.value() as object]),
      };
    case 'subscribe':
      return {
        op: 'subscribe',
        id,
        topic: g.pick(TOPICS),
        type: g.pick(TYPES),
        throttle_rate: g.pick([0, 0, 10, 1e9]),
        queue_length: g.pick([0, 1, 5, 1e6]),
        ...(g.chance(0.3) ? { fragment_size: g.pick([1, 7, 100, 1e9]) } : {}),
        compression: g.pick(['none', 'cbor', 'cbor-raw', 'png', 'zip']),
      };
    case 'unsubscribe':
      return { op: 'unsubscribe', id, topic: g.pick(TOPICS) };
    case 'call_service':
      return { op: 'call_service', id, service: g.pick(SERVICES), args: g.value(), ...(g.chance(0.2) ? { timeout: 0.05 } : {}) };
    case 'advertise_service':
      return { op: 'advertise_service', service: g.pick(SERVICES), type: g.pick(TYPES) };
    case 'unadvertise_service':
      return { op: 'unadvertise_service', service: g.pick(SERVICES) };
    case 'service_response':
      return { op: 'service_response', id: `service_request:${g.pick(SERVICES)}:${g.int(50)}`, service: g.pick(SERVICES), values: g.value(), result: g.chance(0.5) };
    case 'fragment':
      return { op: 'fragment', id: `f${g.int(30)}`, data: g.string(40), num: g.int(4), total: g.pick([1, 2, 3, 4, 1e9]) };
    case 'set_level':
      return { op: 'set_level', level: g.pick(['info', 'warning', 'error', 'none', 'loud']) };
    case 'status':
      return { op: 'status', level: 'error', msg: g.string() };
    default:
      return { op: g.pick([g.string(10), 'png', 'auth']), id };
  }
}

function mutateFields(g: Gen, op: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...op };
  const keys = Object.keys(out);
  for (let i = 1 + g.int(3); i > 0; i--) {
    const action = g.int(4);
    if (action === 0 && keys.length > 0) delete out[g.pick(keys)];
    else if (action === 1 && keys.length > 0) out[g.pick(keys)] = g.value();
    else if (action === 2) out[g.pick(FIELDS)] = g.pick([1e308, -1e308, 2 ** 64, Number.MAX_SAFE_INTEGER + 2, -1, 1.5]);
    else out[g.pick(FIELDS)] = g.value();
  }
  return out;
}

function deep(g: Gen): string {
  const depth = g.pick([50, 99, 101, 1000, 20_000]);
  const open = g.chance(0.5) ? '[' : '{"a":';
  const close = open === '[' ? ']' : '}';
  return `{"op":"publish","topic":"/fz/a","msg":{"data":${open.repeat(depth)}1${close.repeat(depth)}}}`;
}

function flip(g: Gen, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 1 + g.int(4); i > 0 && out.length > 0; i--) out[g.int(out.length)] = g.int(256);
  return out;
}

type FuzzFrame = { text: string } | { binary: Uint8Array };

function frame(g: Gen): FuzzFrame {
  const base = validOp(g);
  switch (g.int(10)) {
    case 0:
      return { text: JSON.stringify(base) };
    case 1:
      return { text: JSON.stringify(mutateFields(g, base)) };
    case 2: {
      const text = JSON.stringify(base);
      return { text: text.slice(0, g.int(text.length)) };
    }
    case 3: {
      // Flipped characters, kept valid UTF-8 so the socket itself stays up.
      const chars = [...JSON.stringify(base)];
      for (let i = 1 + g.int(3); i > 0; i--) chars[g.int(chars.length)] = String.fromCharCode(32 + g.int(95));
      return { text: chars.join('') };
    }
    case 4:
      return { binary: encodeCbor(g.chance(0.5) ? base : mutateFields(g, base)) };
    case 5:
      return { binary: flip(g, encodeCbor(base)) };
    case 6:
      return { binary: Uint8Array.from({ length: g.int(64) }, () => g.int(256)) };
    case 7:
      return g.chance(0.05) ? { text: deep(g) } : { text: JSON.stringify(g.value()) };
    case 8:
      return { text: g.string(200) };
    default: {
      // Fragments that carry (possibly broken) ops.
      const text = JSON.stringify(g.chance(0.7) ? base : mutateFields(g, base));
      const total = 1 + g.int(3);
      const size = Math.ceil(text.length / total);
      const id = `frag${g.int(1000)}`;
      const num = g.int(total);
      return { text: JSON.stringify({ op: 'fragment', id, data: text.slice(num * size, (num + 1) * size), num, total }) };
    }
  }
}

it('survives 10,000+ random and mutated frames', { timeout: 60_000 }, async () => {
  const listener = await startServer({ fragmentTimeoutMs: 2_000, serviceTimeoutMs: 500 });
  const { server } = listener;
  const internal: unknown[] = [];
  server.on('internalError', (err, context) => internal.push([context, err]));
  const heartbeat = server.advertise<StdString>('/heartbeat', 'std_msgs/String');
  server.advertise('/fz/img', 'sensor_msgs/Image');

  const g = new Gen(prng(0x5eed));
  const FRAMES = 12_000;
  const clients = await Promise.all([RawClient.connect(listener.url), RawClient.connect(listener.url)]);
  const started = Date.now();
  for (let i = 0; i < FRAMES; i++) {
    const client = clients[i % clients.length]!;
    const f = frame(g);
    if ('text' in f) client.sendText(f.text);
    else client.sendBinary(f.binary);
    // Let the server breathe now and then instead of queueing all 12k frames in the socket.
    if (i % 500 === 499) await client.sync();
  }
  await Promise.all(clients.map((c) => c.sync()));
  const elapsed = Date.now() - started;

  expect(internal).toEqual([]);
  expect(server.stats().framesIn).toBeGreaterThanOrEqual(FRAMES);
  expect(server.stats().errors).toBeGreaterThan(FRAMES / 4);

  // Proof of life from a fresh client: a status, and a subscribe/publish round trip both ways.
  const fresh = await RawClient.connect(listener.url);
  fresh.send({ op: 'definitely_not_an_op', id: 'alive?' });
  expect(await fresh.status()).toMatchObject({ level: 'error', id: 'alive?' });
  fresh.send({ op: 'subscribe', topic: '/heartbeat', type: 'std_msgs/String' });
  await waitUntil(() => (server.topicInfo('/heartbeat')?.clientSubscribers ?? 0) >= 1);
  await fresh.sync();
  heartbeat.publish({ data: 'still here' });
  await fresh.next((m) => m.op === 'publish' && (m.msg as StdString).data === 'still here');
  const received: StdString[] = [];
  server.subscribe<StdString>('/alive', 'std_msgs/String', (m) => received.push(m));
  fresh.send({ op: 'publish', topic: '/alive', msg: { data: 'pong' } });
  await waitUntil(() => received.length === 1);

  // The fuzzing clients are still connected and served too.
  for (const c of clients) await c.sync();
  // Incomplete fragments do not outlive their timeout.
  await waitUntil(() => server.stats().pendingFragmentedMessages === 0, 10_000, 'fragment expiry');
  for (const c of clients) c.close();
  await waitUntil(() => server.stats().clients === 1);
  expect(server.stats().pendingServiceCalls).toBe(0);
  expect(internal).toEqual([]);
  expect(elapsed).toBeLessThan(30_000);
});
