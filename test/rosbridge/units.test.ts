import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeCbor, decodeJson, encodeCbor, encodeJson, MAX_NESTING, newCborDecoder } from '../../src/rosbridge/codec.js';
import { MessageFieldError, TypeConflictError } from '../../src/rosbridge/errors.js';
import { FragmentAssembler, splitFragments } from '../../src/rosbridge/fragments.js';
import { normaliseMessage, parseTypeName, sameType } from '../../src/rosbridge/message-types.js';
import { resolveName } from '../../src/rosbridge/names.js';
import { TopicSubscription, type SubscriptionRequest } from '../../src/rosbridge/subscription.js';
import { TopicGraph } from '../../src/rosbridge/topics.js';

/** The pieces on their own, where timing and edge cases are easier to pin down than over sockets. */

describe('type names', () => {
  it('treats ROS 1 and ROS 2 spellings as one type', () => {
    expect(sameType(parseTypeName('std_msgs/String'), parseTypeName('std_msgs/msg/String'))).toBe(true);
    expect(sameType(parseTypeName('sensor_msgs/Image'), parseTypeName('/sensor_msgs//msg/Image'))).toBe(true);
    expect(sameType(parseTypeName('std_srvs/Trigger', 'srv'), parseTypeName('std_srvs/srv/Trigger', 'srv'))).toBe(true);
    expect(sameType(parseTypeName('sensor_msgs/Image'), parseTypeName('sensor_msgs/CompressedImage'))).toBe(false);
    for (const bad of ['String', 'a/b/c/d', '', 'std msgs/String', '1pkg/Type']) {
      expect(() => parseTypeName(bad), bad).toThrow(`${bad} is not a valid type string`);
    }
  });

  it('resolves names like ROS', () => {
    expect(resolveName('topic', 'chatter')).toBe('/chatter');
    expect(resolveName('topic', '/a/b_c')).toBe('/a/b_c');
    expect(resolveName('topic', '~/x')).toBe('/rosbridge_websocket/x');
    for (const bad of ['', '/', 'a b', 'a//b', 'a/', '/1a', '~x', 'x'.repeat(2000)]) expect(() => resolveName('topic', bad), bad).toThrow(/Invalid topic name/);
  });
});

describe('message checks', () => {
  const image = parseTypeName('sensor_msgs/msg/Image');

  it('fills defaults and normalises bytes from base64, lists and byte arrays', () => {
    const fromB64 = normaliseMessage(image, { data: 'AQID' }) as { data: Uint8Array; header: { frame_id: string }; encoding: string };
    expect(fromB64.data).toEqual(new Uint8Array([1, 2, 3]));
    expect(fromB64.encoding).toBe('');
    expect(fromB64.header.frame_id).toBe('');
    expect((normaliseMessage(image, { data: [4, 5] }) as { data: Uint8Array }).data).toEqual(new Uint8Array([4, 5]));
    const bytes = new Uint8Array([9]);
    expect((normaliseMessage(image, { data: bytes }) as { data: Uint8Array }).data).toBe(bytes);
  });

  it('keeps the stamp spelling (ROS 1 secs/nsecs or ROS 2 sec/nanosec)', () => {
    const header = parseTypeName('std_msgs/Header');
    expect(normaliseMessage(header, { seq: 3, stamp: { secs: 5, nsecs: 6 }, frame_id: 'f' })).toEqual({ seq: 3, stamp: { secs: 5, nsecs: 6 }, frame_id: 'f' });
    expect(normaliseMessage(header, { stamp: { sec: 5 } })).toEqual({ stamp: { sec: 5, nanosec: 0 }, frame_id: '' });
  });

  it('names the field that does not fit', () => {
    const attempt = (type: string, msg: unknown) => {
      try {
        normaliseMessage(parseTypeName(type), msg);
      } catch (err) {
        expect(err).toBeInstanceOf(MessageFieldError);
        return (err as MessageFieldError).field;
      }
      return 'accepted';
    };
    expect(attempt('sensor_msgs/JointState', { position: [1, 'x'] })).toBe('position');
    expect(attempt('sensor_msgs/JointState', { name: ['a', 2] })).toBe('name.1');
    expect(attempt('sensor_msgs/CompressedImage', { header: { stamp: { sec: 1.5 } } })).toBe('header.stamp');
    expect(attempt('sensor_msgs/CompressedImage', { fromat: 'jpeg' })).toBe('fromat');
    expect(attempt('std_msgs/String', 'text')).toBe('');
    expect(attempt('unknown_pkg/Anything', 'text')).toBe('accepted');
  });
});

describe('codec', () => {
  it('JSON carries bytes as base64 and typed arrays as lists; CBOR keeps them binary', () => {
    const op = { op: 'publish', topic: '/t', msg: { data: new Uint8Array([1, 2, 255]), f: new Float64Array([0.5]), n: Number.NaN, big: 5n } };
    expect(JSON.parse(encodeJson(op))).toEqual({ op: 'publish', topic: '/t', msg: { data: 'AQL/', f: [0.5], n: null, big: 5 } });
    const back = decodeCbor(newCborDecoder(), encodeCbor(op));
    expect(back.ok).toBe(true);
    const msg = (back as { value: { msg: { data: Uint8Array; f: Float64Array } } }).value.msg;
    expect(new Uint8Array(msg.data)).toEqual(new Uint8Array([1, 2, 255]));
    expect(msg.f).toEqual(new Float64Array([0.5]));
  });

  it('refuses runaway nesting before anything recurses over it', () => {
    const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    expect(decodeJson(nested(MAX_NESTING)).ok).toBe(true);
    expect(decodeJson(nested(MAX_NESTING + 1))).toEqual({ ok: false, error: `nesting deeper than ${MAX_NESTING} levels` });
    expect(decodeJson(nested(200_000)).ok).toBe(false);
    expect(decodeCbor(newCborDecoder(), new Uint8Array(200_000).fill(0x81)).ok).toBe(false);
  });
});

describe('fragments', () => {
  it('split and reassemble, whatever the arrival order, without cutting surrogate pairs', () => {
    const text = JSON.stringify({ op: 'publish', msg: { data: '😀'.repeat(50) + 'tail' } });
    const fragments = splitFragments(text, 7, 'm');
    expect(fragments.every((f) => f.total === fragments.length && f.id === 'm')).toBe(true);
    expect(fragments.every((f) => !/[\ud800-\udbff]$/.test(f.data))).toBe(true);
    const assembler = new FragmentAssembler();
    const shuffled = [...fragments].reverse();
    const results = shuffled.map((f) => assembler.add(f));
    expect(results.at(-1)).toEqual({ kind: 'complete', text });
    expect(results.slice(0, -1).every((r) => r.kind === 'pending')).toBe(true);
    expect(assembler.pendingMessages).toBe(0);
  });

  it('caps the number of fragments of one message', () => {
    expect(splitFragments('x'.repeat(1000), 1, 'm', 10)).toHaveLength(10);
  });

  it('expires idle incomplete messages and frees their memory', () => {
    let now = 0;
    const assembler = new FragmentAssembler({ timeoutMs: 1000, maxMessages: 10, maxBytes: 1e6, maxTotal: 100 }, () => now);
    assembler.add({ id: 'a', data: 'xxxx', num: 0, total: 2 });
    now = 600;
    assembler.add({ id: 'b', data: 'yy', num: 0, total: 2 });
    expect(assembler.pendingBytes).toBe(6);
    now = 1000;
    expect(assembler.expire()).toEqual(['fragment list a timed out (1 of 2 fragments received) -> removing it']);
    expect(assembler.pendingBytes).toBe(2);
    now = 1600;
    expect(assembler.expire()).toHaveLength(1);
    expect(assembler.pendingMessages).toBe(0);
    expect(assembler.pendingBytes).toBe(0);
  });

  it('keeps numeric and string ids apart', () => {
    const assembler = new FragmentAssembler();
    expect(assembler.add({ id: 1, data: '{"a":', num: 0, total: 2 }).kind).toBe('pending');
    expect(assembler.add({ id: '1', data: '1}', num: 1, total: 2 }).kind).toBe('pending');
    expect(assembler.pendingMessages).toBe(2);
  });
});

describe('subscription throttle and queue (fake clock)', () => {
  let buffered = 0;
  const sent: number[] = [];
  const make = (request: Partial<SubscriptionRequest>) => {
    const sub = new TopicSubscription<number>((n) => sent.push(n), {
      // vitest fakes Date together with the timers, so clock and timers agree.
      now: () => Date.now(),
      bufferedAmount: () => buffered,
      highWaterMark: 1000,
      maxBufferedBytes: 5000,
      maxQueueLength: 100,
    });
    sub.add('id', { throttleRate: 0, queueLength: 0, fragmentSize: undefined, compression: 'none', ...request });
    return sub;
  };

  beforeEach(() => {
    vi.useFakeTimers();
    buffered = 0;
    sent.length = 0;
  });
  afterEach(() => vi.useRealTimers());

  const advance = (ms: number) => vi.advanceTimersByTime(ms);

  it('throttle without queue drops inside the window', () => {
    const sub = make({ throttleRate: 100 });
    for (let i = 0; i < 10; i++) {
      sub.handle(i);
      advance(30);
    }
    // Sent at t=0, 120, 240 (each at least 100 ms after the last send).
    expect(sent).toEqual([0, 4, 8]);
    expect(sub.dropped).toBe(7);
  });

  it('queue with throttle sends the newest at the throttled pace', () => {
    const sub = make({ throttleRate: 100, queueLength: 3 });
    for (let i = 0; i < 10; i++) sub.handle(i);
    expect(sent).toEqual([0]);
    advance(100);
    expect(sent).toEqual([0, 7]);
    advance(250);
    expect(sent).toEqual([0, 7, 8, 9]);
    expect(sub.dropped).toBe(6);
  });

  it('a queue absorbs a slow client and bounds what it buffers', () => {
    const sub = make({ queueLength: 2 });
    sub.handle(1);
    buffered = 2000; // above the high-water mark: the client is behind
    for (let i = 2; i <= 6; i++) sub.handle(i);
    expect(sent).toEqual([1]);
    expect(sub.queued).toBe(2);
    buffered = 0;
    advance(10);
    expect(sent).toEqual([1, 5, 6]);
  });

  it('without a queue a stalled client loses messages past maxBufferedBytes', () => {
    const sub = make({});
    buffered = 6000;
    sub.handle(1);
    buffered = 0;
    sub.handle(2);
    expect(sent).toEqual([2]);
    expect(sub.dropped).toBe(1);
  });

  it('several requests: lowest throttle and queue, strongest compression; removal recomputes', () => {
    const sub = make({ throttleRate: 500, compression: 'none' });
    sub.add('b', { throttleRate: 50, queueLength: 4, fragmentSize: 100, compression: 'cbor' });
    sub.add('c', { throttleRate: 80, queueLength: 2, fragmentSize: 30, compression: 'png' });
    expect(sub.params).toEqual({ throttleRate: 50, queueLength: 0, fragmentSize: 30, compression: 'cbor' });
    expect(sub.remove('id')).toBe(false);
    expect(sub.params).toEqual({ throttleRate: 50, queueLength: 2, fragmentSize: 30, compression: 'cbor' });
    expect(sub.remove()).toBe(true);
  });

  it('huge throttle values do not overflow the timer', () => {
    const sub = make({ throttleRate: 1e12, queueLength: 1 });
    sub.handle(1);
    sub.handle(2);
    advance(1000);
    expect(sent).toEqual([1]);
    sub.dispose();
  });
});

describe('topic graph', () => {
  it('holds a type while anyone takes part and forgets it after', () => {
    const graph = new TopicGraph(() => undefined);
    const string = parseTypeName('std_msgs/String');
    graph.addPublisher('/t', string, 'p1', false);
    expect(() => graph.addPublisher('/t', parseTypeName('std_msgs/Header'), 'p2', false)).toThrow(TypeConflictError);
    graph.addSink('/t', undefined, { id: 's', kind: 'local', deliver: () => undefined });
    graph.removePublisher('/t', 'p1');
    expect(graph.info('/t')?.type).toBe('std_msgs/String');
    graph.removeSink('/t', 's');
    expect(graph.info('/t')).toBeUndefined();
  });

  it('a sink that throws does not stop delivery to the others', () => {
    const errors: unknown[] = [];
    const graph = new TopicGraph((_, err) => errors.push(err));
    const type = parseTypeName('my/Type');
    const got: unknown[] = [];
    graph.addPublisher('/t', type, 'p', false);
    graph.addSink('/t', type, {
      id: 'bad',
      kind: 'local',
      deliver: () => {
        throw new Error('boom');
      },
    });
    graph.addSink('/t', type, { id: 'good', kind: 'local', deliver: (m) => got.push(m.msg) });
    graph.publish('/t', 'p', { x: 1 });
    expect(got).toEqual([{ x: 1 }]);
    expect(errors).toHaveLength(1);
  });
});
