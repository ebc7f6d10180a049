import { encode as encodeCbor } from 'cbor-x';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, type RosbridgeListener, type StdString } from '../../src/rosbridge/index.js';
import { cleanup, RawClient, sleep, startServer, waitUntil } from './helpers.js';

/** Protocol misuse from a bare ws client: each gets a status reply, nobody else notices. */

afterEach(cleanup);

/** Sends `frame` and returns the status it provoked. */
async function statusFor(client: RawClient, send: () => void): Promise<Record<string, unknown>> {
  const from = client.messages.length;
  send();
  return client.status(from);
}

/** A second client, subscribed to a server topic: proof that the server still serves others. */
async function bystander(listener: RosbridgeListener): Promise<() => Promise<void>> {
  const pub = listener.server.advertise<StdString>('/heartbeat', 'std_msgs/String');
  const other = await RawClient.connect(listener.url);
  other.send({ op: 'subscribe', topic: '/heartbeat', type: 'std_msgs/String' });
  await waitUntil(() => pub.subscriberCount() === 1);
  let n = 0;
  return async () => {
    const data = `beat ${++n}`;
    pub.publish({ data });
    await other.next((m) => m.op === 'publish' && (m.msg as StdString).data === data);
  };
}

describe('protocol errors', () => {
  it('malformed and non-object JSON', async () => {
    const listener = await startServer();
    const check = await bystander(listener);
    const c = await RawClient.connect(listener.url);
    const malformed = await statusFor(c, () => c.sendText('{"op": "publish", "topic": '));
    expect(malformed).toMatchObject({ op: 'status', level: 'error' });
    expect(malformed.msg).toMatch(/^Unable to deserialize message from client: \{"op": "publish"/);
    for (const text of ['[1,2,3]', '42', '"subscribe"', 'null', '{}', '{"topic":"/x"}']) {
      const s = await statusFor(c, () => c.sendText(text));
      expect(s.msg).toMatch(/^Received a message without an op\.  All messages require 'op' field with value one of: \['advertise', /);
      expect(s.msg).toContain(`Original message was: ${text}`);
    }
    const v1 = await statusFor(c, () => c.send({ receiver: '/topic', msg: {} }));
    expect(v1.msg).toMatch(/rosbridge v1\.0 message/);
    await check();
  });

  it('unknown op, in rosbridge wording, echoing the id', async () => {
    const listener = await startServer();
    const c = await RawClient.connect(listener.url);
    const s = await statusFor(c, () => c.send({ op: 'foo', id: 'x1' }));
    expect(s).toEqual({
      op: 'status',
      level: 'error',
      id: 'x1',
      msg:
        "Unknown operation: foo.  Allowed operations: ['advertise', 'unadvertise', 'publish', 'subscribe', 'unsubscribe', 'call_service', " +
        "'advertise_service', 'unadvertise_service', 'service_response', 'fragment', 'status', 'set_level']",
    });
    const numeric = await statusFor(c, () => c.send({ op: 7 }));
    expect(numeric.msg).toMatch(/^Unknown operation: 7\./);
  });

  it('missing and mistyped fields name the field', async () => {
    const listener = await startServer();
    const check = await bystander(listener);
    const c = await RawClient.connect(listener.url);
    const cases: Array<[unknown, RegExp]> = [
      [{ op: 'subscribe' }, /^subscribe: Expected a topic field but none was found\.$/],
      [{ op: 'advertise', topic: '/a' }, /^advertise: Expected a type field but none was found\.$/],
      [{ op: 'publish', msg: {} }, /^publish: Expected a topic field but none was found\.$/],
      [{ op: 'call_service', id: 'c' }, /^call_service: Expected a service field but none was found\.$/],
      [{ op: 'fragment', id: 'f', data: 'x', total: 2 }, /^fragment: Expected a num field but none was found\.$/],
      [{ op: 'subscribe', topic: 5 }, /^subscribe: Expected field topic to be one of \(str\)\. Invalid value: 5$/],
      [{ op: 'subscribe', topic: '/a', throttle_rate: 'fast' }, /^subscribe: Expected field throttle_rate to be one of \(int\)\. Invalid value: "fast"$/],
      [{ op: 'subscribe', topic: '/a', queue_length: 1.5 }, /queue_length to be one of \(int\)\. Invalid value: 1\.5$/],
      [{ op: 'subscribe', topic: '/a', type: 'std_msgs/String', fragment_size: 0 }, /fragment_size to be a positive int/],
      [{ op: 'publish', topic: '/a', msg: 'hello' }, /^publish: Expected field msg to be one of \(dict\)\. Invalid value: "hello"$/],
      [{ op: 'service_response', service: '/s', result: 'yes' }, /^service_response: Expected field result to be one of \(bool\)/],
      [{ op: 'set_level', level: 3 }, /^set_level: Expected field level to be one of \(str\)/],
      [{ op: 'subscribe', topic: '/a', id: { x: 1 } }, /^subscribe: Expected field id to be one of \(str, int\)/],
      [{ op: 'subscribe', topic: '/a', type: 'not a type' }, /^subscribe: not a type is not a valid type string$/],
      [{ op: 'subscribe', topic: 'bad name!', type: 'std_msgs/String' }, /^subscribe: Invalid topic name: "bad name!"/],
      [{ op: 'subscribe', topic: '/never_heard_of' }, /^subscribe: Cannot infer topic type for topic \/never_heard_of as it is not yet advertised$/],
      [{ op: 'publish', topic: '/never_heard_of', msg: {} }, /^publish: Cannot infer topic type for topic \/never_heard_of/],
      [{ op: 'unadvertise_service', service: '/not_mine' }, /^unadvertise_service: Service \/not_mine has not been advertised via rosbridge, can't unadvertise\.$/],
      [{ op: 'service_response', service: '/not_mine', id: 'q', result: true }, /^service_response: Service \/not_mine has not been advertised via rosbridge\.$/],
    ];
    for (const [op, expected] of cases) {
      const s = await statusFor(c, () => c.send(op));
      expect(s.level, JSON.stringify(op)).toBe('error');
      expect(s.msg, JSON.stringify(op)).toMatch(expected);
    }
    await check();
  });

  it('type conflicts name both types; ROS 1 and ROS 2 spellings agree', async () => {
    const listener = await startServer();
    listener.server.advertise('/camera', 'sensor_msgs/msg/Image');
    const c = await RawClient.connect(listener.url);
    c.send({ op: 'subscribe', id: 'ok', topic: '/camera', type: 'sensor_msgs/Image' });
    c.send({ op: 'advertise', topic: 'camera', type: 'sensor_msgs//Image' });
    await c.sync();
    expect(c.messages.filter((m) => m.op === 'status')).toEqual([]);
    const sub = await statusFor(c, () => c.send({ op: 'subscribe', id: 's2', topic: '/camera', type: 'sensor_msgs/CompressedImage' }));
    expect(sub).toMatchObject({
      level: 'error',
      id: 's2',
      msg: 'subscribe: Tried to register topic /camera with type sensor_msgs/CompressedImage but it is already established with type sensor_msgs/msg/Image',
    });
    const adv = await statusFor(c, () => c.send({ op: 'advertise', topic: '/camera', type: 'std_msgs/String' }));
    expect(adv.msg).toMatch(/with type std_msgs\/String but it is already established with type sensor_msgs\/msg\/Image/);
    const pub = await statusFor(c, () => c.send({ op: 'publish', topic: '/camera', type: 'std_msgs/msg/String', msg: { data: 'x' } }));
    expect(pub.msg).toMatch(/with type std_msgs\/msg\/String but it is already established with type sensor_msgs\/msg\/Image/);
  });

  it('a message that does not fit its type is refused, naming the field', async () => {
    const listener = await startServer();
    const received: unknown[] = [];
    listener.server.subscribe('/image', 'sensor_msgs/Image', (m) => received.push(m));
    listener.server.subscribe('/text', 'std_msgs/String', (m) => received.push(m));
    listener.server.subscribe('/custom', 'my_pkg/Whatever', (m) => received.push(m));
    const c = await RawClient.connect(listener.url);
    const cases: Array<[string, unknown, RegExp]> = [
      ['/text', { data: 5 }, /^publish: std_msgs\/String message requires a string for field data, but got a number 5$/],
      ['/text', { data: 'x', extra: 1 }, /^publish: Message type std_msgs\/String does not have a field extra$/],
      ['/image', { width: -1 }, /requires a uint32 for field width, but got a number -1$/],
      ['/image', { data: 'not base64!' }, /requires a uint8\[\] .* for field data, but got a string "not base64!"$/],
      ['/image', { data: [1, 2, 300] }, /for field data, but got a list$/],
      ['/image', { header: { frame_id: 3 } }, /requires a string for field header\.frame_id, but got a number 3$/],
      ['/image', { header: { stamp: { sec: 'now' } } }, /builtin_interfaces\/Time .* for field header\.stamp/],
    ];
    for (const [topic, msg, expected] of cases) {
      const s = await statusFor(c, () => c.send({ op: 'publish', topic, msg }));
      expect(s.msg, JSON.stringify(msg)).toMatch(expected);
    }
    expect(received).toEqual([]);
    // Unknown types are not checked; known ones get defaults for what is missing.
    c.send({ op: 'publish', topic: '/custom', msg: { anything: [1, { goes: true }] } });
    c.send({ op: 'publish', topic: '/text', msg: {} });
    await waitUntil(() => received.length === 2);
    expect(received).toEqual([{ anything: [1, { goes: true }] }, { data: '' }]);
  });

  it('binary frames are CBOR ops; malformed CBOR gets a status', async () => {
    const listener = await startServer();
    const pub = listener.server.advertise<StdString>('/cbor', 'std_msgs/String');
    const received: StdString[] = [];
    listener.server.subscribe<StdString>('/in', 'std_msgs/String', (m) => received.push(m));
    const c = await RawClient.connect(listener.url);
    c.sendCbor({ op: 'subscribe', topic: '/cbor', type: 'std_msgs/String', compression: 'cbor' });
    c.sendCbor({ op: 'publish', topic: '/in', msg: { data: 'via cbor' } });
    await waitUntil(() => pub.subscriberCount() === 1 && received.length === 1);
    expect(received[0]).toEqual({ data: 'via cbor' });
    pub.publish({ data: 'back' });
    const frame = await c.next((m) => m.op === 'publish');
    expect(frame).toEqual({ op: 'publish', topic: '/cbor', msg: { data: 'back' } });
    expect(c.frames.find((f) => f.value.op === 'publish')!.binary).toBe(true);

    for (const bytes of [Buffer.from([0xff, 0x00, 0x12]), Buffer.from([0x5f, 0x41]), Buffer.alloc(100_000, 0x81)]) {
      const s = await statusFor(c, () => c.sendBinary(bytes));
      expect(s.msg).toMatch(/^Unable to deserialize CBOR message from client/);
    }
    const notAnOp = await statusFor(c, () => c.sendBinary(encodeCbor([1, 2, 3])));
    expect(notAnOp.msg).toMatch(/^Received a message without an op/);
  });

  it('reassembles fragments in any order and rejects duplicates and strays', async () => {
    const listener = await startServer();
    const received: StdString[] = [];
    listener.server.subscribe<StdString>('/frag', 'std_msgs/String', (m) => received.push(m));
    const c = await RawClient.connect(listener.url);
    const text = JSON.stringify({ op: 'publish', topic: '/frag', msg: { data: 'reassembled ✓' } });
    const parts = [text.slice(0, 10), text.slice(10, 30), text.slice(30)];
    c.send({ op: 'fragment', id: 'm1', data: parts[2], num: 2, total: 3 });
    c.send({ op: 'fragment', id: 'm1', data: parts[0], num: 0, total: 3 });
    const dup = await statusFor(c, () => c.send({ op: 'fragment', id: 'm1', data: parts[0], num: 0, total: 3 }));
    expect(dup.msg).toMatch(/^fragment: error while trying to append fragment 0 for messageID m1: duplicate fragment$/);
    const mismatch = await statusFor(c, () => c.send({ op: 'fragment', id: 'm1', data: 'x', num: 1, total: 4 }));
    expect(mismatch.msg).toMatch(/total 4 differs from 3/);
    const range = await statusFor(c, () => c.send({ op: 'fragment', id: 'm2', data: 'x', num: 5, total: 3 }));
    expect(range.msg).toMatch(/num must be between 0 and 2/);
    expect(received).toEqual([]);
    c.send({ op: 'fragment', id: 'm1', data: parts[1], num: 1, total: 3 });
    await waitUntil(() => received.length === 1);
    expect(received[0]).toEqual({ data: 'reassembled ✓' });
    // Fragments that make up garbage are reported like any bad frame.
    c.send({ op: 'fragment', id: 'm3', data: '{"op": ', num: 0, total: 2 });
    const garbage = await statusFor(c, () => c.send({ op: 'fragment', id: 'm3', data: 'nope', num: 1, total: 2 }));
    expect(garbage.msg).toMatch(/^Unable to deserialize message from client: \{"op": nope/);
    expect(listener.server.stats().pendingFragmentedMessages).toBe(0);
  });

  it('expires fragments that never complete', async () => {
    const listener = await startServer({ fragmentTimeoutMs: 100 });
    const c = await RawClient.connect(listener.url);
    c.send({ op: 'set_level', level: 'warning' });
    for (let i = 0; i < 10; i++) c.send({ op: 'fragment', id: `never-${i}`, data: 'x'.repeat(1000), num: 0, total: 2 });
    await c.sync();
    expect(listener.server.stats().pendingFragmentedMessages).toBe(10);
    await waitUntil(() => listener.server.stats().pendingFragmentedMessages === 0, 3000, 'fragment expiry');
    const warnings = c.messages.filter((m) => m.op === 'status' && m.level === 'warning');
    await waitUntil(() => c.messages.filter((m) => m.op === 'status' && m.level === 'warning').length === 10);
    expect(warnings.every((w) => /^fragment list never-\d timed out \(1 of 2 fragments received\) -> removing it$/.test(w.msg as string))).toBe(true);
  });

  it('bounds the fragments one client may hold', async () => {
    const listener = await startServer({ fragmentLimits: { maxMessages: 3, maxBytes: 10_000 } });
    const c = await RawClient.connect(listener.url);
    for (let i = 0; i < 3; i++) c.send({ op: 'fragment', id: i, data: 'x', num: 0, total: 2 });
    const tooMany = await statusFor(c, () => c.send({ op: 'fragment', id: 99, data: 'x', num: 0, total: 2 }));
    expect(tooMany.msg).toMatch(/too many incomplete fragmented messages \(3\)/);
    const tooBig = await statusFor(c, () => c.send({ op: 'fragment', id: 0, data: 'x'.repeat(20_000), num: 1, total: 2 }));
    expect(tooBig.msg).toMatch(/exceed 10000 characters; message dropped/);
    expect(listener.server.stats().pendingFragmentedMessages).toBe(2);
  });

  it('one misbehaving client does not disturb another', async () => {
    const listener = await startServer();
    const check = await bystander(listener);
    const bad = await RawClient.connect(listener.url);
    bad.sendText('}{');
    bad.sendBinary(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    bad.send({ op: 'publish', topic: '/heartbeat', msg: { data: 7 } });
    bad.send({ op: 'subscribe', topic: '/heartbeat', type: 'sensor_msgs/Image' });
    bad.send({ op: 'fragment', id: 'f', data: '{', num: 0, total: 1 });
    await bad.sync();
    expect(bad.messages.filter((m) => m.op === 'status')).toHaveLength(5);
    await check();
    // The bad client's misuse touched nothing of the topic.
    expect(listener.server.topicInfo('/heartbeat')).toMatchObject({ type: 'std_msgs/String', publishers: 1, subscribers: 1 });
    // ... and its disconnect only removes its own things.
    bad.send({ op: 'advertise', topic: '/heartbeat', type: 'std_msgs/String' });
    await bad.sync();
    bad.close();
    await waitUntil(() => listener.server.stats().clients === 1);
    expect(listener.server.topicInfo('/heartbeat')).toMatchObject({ publishers: 1, subscribers: 1 });
    await check();
  });

  it('socket-level violations (invalid UTF-8 text, oversized frame) end only that connection', async () => {
    const listener = await listen({ port: 0, maxPayload: 64 * 1024 });
    try {
      const check = await bystander(listener);
      for (const send of [
        (c: RawClient) => c.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false }),
        (c: RawClient) => c.sendText(JSON.stringify({ op: 'publish', topic: '/heartbeat', msg: { data: 'x'.repeat(100_000) } })),
      ]) {
        const c = await RawClient.connect(listener.url);
        const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
        send(c);
        expect([1007, 1009]).toContain(await closed);
        await check();
      }
      await waitUntil(() => listener.server.stats().clients === 1);
    } finally {
      await listener.close();
    }
  });

  it('unsubscribe by id keeps the other ids of the same client', async () => {
    const listener = await startServer();
    const pub = listener.server.advertise<StdString>('/multi', 'std_msgs/String');
    const c = await RawClient.connect(listener.url);
    c.send({ op: 'subscribe', id: 'a', topic: '/multi', type: 'std_msgs/String' });
    c.send({ op: 'subscribe', id: 'b', topic: '/multi', type: 'std_msgs/String' });
    await waitUntil(() => pub.subscriberCount() === 1);
    pub.publish({ data: '1' });
    await c.next((m) => m.op === 'publish');
    // Once per client and topic, like rosbridge, however many ids subscribed.
    await sleep(30);
    expect(c.messages.filter((m) => m.op === 'publish')).toHaveLength(1);
    c.send({ op: 'unsubscribe', id: 'a', topic: '/multi' });
    await c.sync();
    expect(pub.subscriberCount()).toBe(1);
    c.send({ op: 'unsubscribe', id: 'b', topic: '/multi' });
    await waitUntil(() => pub.subscriberCount() === 0);
  });
});
