import { Service, Topic, type Ros } from 'roslib';
import { afterEach, describe, expect, it } from 'vitest';
import type { CompressedImage, StdString } from '../../src/rosbridge/index.js';
import { cleanup, connectRos, RawClient, sleep, startServer, waitUntil } from './helpers.js';

/** The real roslib client against our server, over real loopback sockets. */

afterEach(cleanup);

function collect<T>(ros: Ros, name: string, messageType: string, options: Record<string, unknown> = {}): { topic: Topic<T>; got: T[] } {
  const topic = new Topic<T>({ ros, name, messageType, ...options });
  const got: T[] = [];
  topic.subscribe((m) => got.push(m));
  return { topic, got };
}

/** roslib's types only admit known ops; the server must cope with others. */
const BOGUS_OP = { op: 'no_such_op' } as unknown as Parameters<Ros['callOnConnection']>[0];

const JPEG_LIKE = Uint8Array.from({ length: 2048 }, (_, i) => (i * 7 + 3) & 0xff);

describe('roslib client', () => {
  it('connects and is counted', async () => {
    const { server, url } = await startServer();
    await connectRos(url);
    await waitUntil(() => server.stats().clients === 1);
    expect(server.clientList()).toHaveLength(1);
  });

  it('receives a server-published CompressedImage over JSON, data as base64 like rosbridge', async () => {
    const { server, url } = await startServer();
    const camera = server.advertise('/camera/compressed', 'sensor_msgs/msg/CompressedImage');
    const ros = await connectRos(url);
    // ROS 1 spelling on the client, ROS 2 on the server: the same type.
    const { got } = collect<{ format: string; data: string; header: { frame_id: string } }>(ros, '/camera/compressed', 'sensor_msgs/CompressedImage');
    await waitUntil(() => camera.subscriberCount() === 1);
    camera.publish({ header: { frame_id: 'cam', stamp: { sec: 1, nanosec: 2 } }, format: 'jpeg', data: JPEG_LIKE });
    await waitUntil(() => got.length === 1);
    expect(got[0]!.format).toBe('jpeg');
    expect(got[0]!.header).toEqual({ frame_id: 'cam', stamp: { sec: 1, nanosec: 2 } });
    expect(typeof got[0]!.data).toBe('string');
    expect(new Uint8Array(Buffer.from(got[0]!.data, 'base64'))).toEqual(JPEG_LIKE);
  });

  it('receives a CompressedImage over CBOR with data as a Uint8Array', async () => {
    const { server, url } = await startServer();
    const camera = server.advertise('/camera/compressed', 'sensor_msgs/CompressedImage');
    const ros = await connectRos(url);
    const { got } = collect<{ data: Uint8Array }>(ros, '/camera/compressed', 'sensor_msgs/msg/CompressedImage', { compression: 'cbor' });
    await waitUntil(() => camera.subscriberCount() === 1);
    camera.publish({ format: 'jpeg', data: JPEG_LIKE });
    await waitUntil(() => got.length === 1);
    expect(got[0]!.data).toBeInstanceOf(Uint8Array);
    expect(new Uint8Array(got[0]!.data)).toEqual(JPEG_LIKE);
  });

  it('receives a sensor_msgs/Image over CBOR with its uint8 data intact', async () => {
    const { server, url } = await startServer();
    const image = server.advertise('/camera/image_raw', 'sensor_msgs/msg/Image');
    const ros = await connectRos(url);
    const { got } = collect<{ width: number; height: number; encoding: string; step: number; data: Uint8Array }>(ros, '/camera/image_raw', 'sensor_msgs/Image', {
      compression: 'cbor',
    });
    await waitUntil(() => image.subscriberCount() === 1);
    const width = 64;
    const height = 48;
    const pixels = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 31) & 0xff);
    image.publish({ width, height, encoding: 'rgb8', step: width * 3, data: pixels });
    await waitUntil(() => got.length === 1);
    const m = got[0]!;
    expect([m.width, m.height, m.encoding, m.step]).toEqual([width, height, 'rgb8', width * 3]);
    expect(m.data).toBeInstanceOf(Uint8Array);
    expect(new Uint8Array(m.data)).toEqual(pixels);
  });

  it('sends JointState arrays as typed arrays over CBOR and plain lists over JSON', async () => {
    const { server, url } = await startServer();
    const joints = server.advertise('/joint_states', 'sensor_msgs/JointState');
    const ros = await connectRos(url);
    const cbor = collect<{ position: Float64Array }>(ros, '/joint_states', 'sensor_msgs/JointState', { compression: 'cbor' });
    const ros2 = await connectRos(url);
    const json = collect<{ position: number[]; velocity: Array<number | null> }>(ros2, '/joint_states', 'sensor_msgs/JointState');
    await waitUntil(() => joints.subscriberCount() === 2);
    joints.publish({ name: ['j1', 'j2'], position: [0.5, -1.25], velocity: [Number.NaN, 0], effort: [] });
    await waitUntil(() => cbor.got.length === 1 && json.got.length === 1);
    expect(cbor.got[0]!.position).toBeInstanceOf(Float64Array);
    expect([...cbor.got[0]!.position]).toEqual([0.5, -1.25]);
    expect(json.got[0]!.position).toEqual([0.5, -1.25]);
    expect(json.got[0]!.velocity).toEqual([null, 0]);
  });

  it('publishes from roslib to a server subscription, bytes normalised for the robot', async () => {
    const { server, url } = await startServer();
    const strings: StdString[] = [];
    const images: CompressedImage[] = [];
    server.subscribe<StdString>('/step', 'std_msgs/String', (m) => strings.push(m));
    server.subscribe<CompressedImage>('/keyframe', 'sensor_msgs/msg/CompressedImage', (m) => images.push(m));
    const ros = await connectRos(url);
    new Topic({ ros, name: '/step', messageType: 'std_msgs/msg/String' }).publish({ data: 'pick up the cup' });
    new Topic({ ros, name: '/keyframe', messageType: 'sensor_msgs/CompressedImage' }).publish({
      header: { frame_id: 'keystep:1', stamp: { sec: 0, nanosec: 0 } },
      format: 'png',
      data: Buffer.from(JPEG_LIKE).toString('base64'),
    });
    await waitUntil(() => strings.length === 1 && images.length === 1);
    expect(strings[0]).toEqual({ data: 'pick up the cup' });
    expect(images[0]!.data).toBeInstanceOf(Uint8Array);
    expect(images[0]!.data).toEqual(JPEG_LIKE);
    expect(images[0]!.header.frame_id).toBe('keystep:1');
  });

  it('delivers client-to-client publications', async () => {
    const { url } = await startServer();
    const a = await connectRos(url);
    const b = await connectRos(url);
    const { got } = collect<StdString>(b, '/chatter', 'std_msgs/String');
    const pub = new Topic<StdString>({ ros: a, name: 'chatter', messageType: 'std_msgs/String' });
    pub.advertise();
    // b's subscribe and a's publish race on separate sockets; repeat until one lands.
    await waitUntil(() => {
      pub.publish({ data: 'hello' });
      return got.length > 0;
    });
    expect(got[0]).toEqual({ data: 'hello' });
  });

  it('calls a server service (success and failure)', async () => {
    const { server, url } = await startServer();
    server.advertiseService<{ a: number; b: number }, { sum: number }>('/add_two_ints', 'example_interfaces/AddTwoInts', ({ a, b }) => ({ sum: a + b }));
    server.advertiseService('/fail', 'std_srvs/Trigger', async () => {
      throw new Error('arm is not homed');
    });
    const ros = await connectRos(url);
    const add = new Service<{ a: number; b: number }, { sum: number }>({ ros, name: '/add_two_ints', serviceType: 'example_interfaces/srv/AddTwoInts' });
    const sum = await new Promise((resolve, reject) => add.callService({ a: 2, b: 40 }, resolve, reject));
    expect(sum).toEqual({ sum: 42 });
    const fail = new Service({ ros, name: '/fail', serviceType: 'std_srvs/Trigger' });
    const error = await new Promise((resolve, reject) => fail.callService({}, reject, resolve));
    expect(error).toBe('arm is not homed');
    const missing = new Service({ ros, name: '/nope', serviceType: 'std_srvs/Trigger' });
    expect(await new Promise((resolve, reject) => missing.callService({}, reject, resolve))).toBe('Service /nope does not exist');
  });

  it('routes calls to a service advertised by another roslib client', async () => {
    const { server, url } = await startServer();
    const provider = await connectRos(url);
    const caller = await connectRos(url);
    const served = new Service<{ a: number; b: number }, { sum: number }>({ ros: provider, name: 'add', serviceType: 'example_interfaces/AddTwoInts' });
    await served.advertise((req, res) => {
      res.sum = req.a + req.b;
      return true;
    });
    const failing = new Service({ ros: provider, name: '/explode', serviceType: 'std_srvs/Trigger' });
    await failing.advertiseAsync(async () => {
      throw new Error('provider blew up');
    });
    await waitUntil(() => server.services().length === 3);
    const add = new Service<{ a: number; b: number }, { sum: number }>({ ros: caller, name: '/add', serviceType: 'example_interfaces/AddTwoInts' });
    expect(await new Promise((resolve, reject) => add.callService({ a: 1, b: 2 }, resolve, reject))).toEqual({ sum: 3 });
    // The server itself can call it too.
    expect(await server.callService('/add', { a: 20, b: 22 })).toEqual({ sum: 42 });
    const explode = new Service({ ros: caller, name: '/explode', serviceType: 'std_srvs/Trigger' });
    const error = await new Promise((resolve, reject) => explode.callService({}, reject, resolve));
    expect(error).toBe('Error: provider blew up');
    await served.unadvertise();
    await waitUntil(() => server.services().length === 2);
  });

  it('fails pending calls when the providing client goes away', async () => {
    const { server, url } = await startServer();
    const provider = await connectRos(url);
    const caller = await connectRos(url);
    const slow = new Service({ ros: provider, name: '/slow', serviceType: 'std_srvs/Trigger' });
    await slow.advertiseAsync(() => new Promise(() => undefined));
    await waitUntil(() => server.services().some((s) => s.name === '/slow'));
    const call = new Promise((resolve, reject) => new Service({ ros: caller, name: '/slow', serviceType: 'std_srvs/Trigger' }).callService({}, reject, resolve));
    await waitUntil(() => server.stats().pendingServiceCalls === 1);
    provider.close();
    expect(await call).toMatch(/unadvertised/);
  });

  it('honours roslib call timeouts and fragments big service responses', async () => {
    const { server, url } = await startServer();
    server.advertiseService('/hang', 'std_srvs/Trigger', () => new Promise(() => undefined));
    const big = 'y'.repeat(5000);
    server.advertiseService('/big', 'std_srvs/Trigger', () => ({ success: true, message: big }));
    const ros = await connectRos(url);
    const hang = new Service({ ros, name: '/hang', serviceType: 'std_srvs/Trigger' });
    const error = await new Promise((resolve, reject) => hang.callService({}, reject, resolve, 0.1));
    expect(error).toMatch(/^Timeout exceeded while waiting for service response from \/hang/);
    // roslib's callService has no fragment_size; send the call by hand and take the reply as it does.
    const reply = new Promise((resolve) => ros.once('big-call', resolve));
    ros.callOnConnection({ op: 'call_service', id: 'big-call', service: '/big', args: {}, fragment_size: 512 } as Parameters<Ros['callOnConnection']>[0]);
    expect(await reply).toMatchObject({ op: 'service_response', id: 'big-call', result: true, values: { success: true, message: big } });
    expect(server.stats().framesOut).toBeGreaterThan(10);
  });

  it('throttle_rate really throttles', async () => {
    const { server, url } = await startServer();
    const pub = server.advertise<StdString>('/burst', 'std_msgs/String');
    const ros = await connectRos(url);
    const { got } = collect<StdString>(ros, '/burst', 'std_msgs/String', { throttle_rate: 100 });
    await waitUntil(() => pub.subscriberCount() === 1);
    // A burst inside one turn: everything after the first falls inside the 100 ms window.
    for (let i = 0; i < 50; i++) pub.publish({ data: `burst ${i}` });
    await sleep(50);
    expect(got.map((m) => m.data)).toEqual(['burst 0']);
    // Spread over time: bounded by elapsed / throttle, whatever the machine's speed.
    const started = Date.now();
    got.length = 0;
    await sleep(110);
    while (Date.now() - started < 600) {
      pub.publish({ data: 'tick' });
      await sleep(10);
    }
    const elapsed = Date.now() - started;
    await sleep(50);
    expect(got.length).toBeGreaterThanOrEqual(2);
    expect(got.length).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 1);
    expect(server.stats().droppedMessages).toBeGreaterThan(40);
  });

  it('queue_length keeps only the newest messages of a throttled burst', async () => {
    const { server, url } = await startServer();
    const pub = server.advertise<StdString>('/queued', 'std_msgs/String');
    const ros = await connectRos(url);
    const { got } = collect<StdString>(ros, '/queued', 'std_msgs/String', { throttle_rate: 40, queue_length: 2 });
    await waitUntil(() => pub.subscriberCount() === 1);
    for (let i = 0; i < 20; i++) pub.publish({ data: String(i) });
    await waitUntil(() => got.length === 3);
    await sleep(120);
    // The first goes out at once; of the rest only the last two survive the 2-deep queue.
    expect(got.map((m) => m.data)).toEqual(['0', '18', '19']);
  });

  it('fragment_size splits messages into fragments that roslib reassembles', async () => {
    const { server, url } = await startServer();
    const pub = server.advertise<StdString>('/big', 'std_msgs/String');
    const ros = await connectRos(url);
    const raw = await RawClient.connect(url);
    const text = 'ü€😀'.repeat(500) + 'x'.repeat(3000);
    const got: Array<{ msg: StdString }> = [];
    // roslib's Topic has no fragment_size option; send its subscribe by hand and listen as Topic does.
    ros.on('/big', (m) => {
      got.push(m as unknown as { msg: StdString });
    });
    ros.callOnConnection({ op: 'subscribe', id: 'frag-sub', topic: '/big', type: 'std_msgs/String', fragment_size: 1000 });
    raw.send({ op: 'subscribe', topic: '/big', type: 'std_msgs/String', fragment_size: 1000 });
    await waitUntil(() => pub.subscriberCount() === 2);
    pub.publish({ data: text });
    await waitUntil(() => got.length === 1);
    expect(got[0]!.msg.data).toBe(text);
    const fragments = raw.messages.filter((m) => m.op === 'fragment');
    expect(fragments.length).toBeGreaterThan(5);
    expect(fragments.every((f) => (f.data as string).length <= 1000 && f.total === fragments.length)).toBe(true);
  });

  it('png compression is understood by roslib', async () => {
    const { server, url } = await startServer();
    const pub = server.advertise<StdString>('/png', 'std_msgs/String');
    const ros = await connectRos(url);
    const { got } = collect<StdString>(ros, '/png', 'std_msgs/String', { compression: 'png' });
    await waitUntil(() => pub.subscriberCount() === 1);
    pub.publish({ data: 'squeezed through a PNG ✓' });
    await waitUntil(() => got.length === 1);
    expect(got[0]).toEqual({ data: 'squeezed through a PNG ✓' });
  });

  it('unsubscribe stops delivery', async () => {
    const { server, url } = await startServer();
    const pub = server.advertise<StdString>('/once', 'std_msgs/String');
    const ros = await connectRos(url);
    const { topic, got } = collect<StdString>(ros, '/once', 'std_msgs/String');
    await waitUntil(() => pub.subscriberCount() === 1);
    pub.publish({ data: 'first' });
    await waitUntil(() => got.length === 1);
    topic.unsubscribe();
    await waitUntil(() => pub.subscriberCount() === 0);
    pub.publish({ data: 'second' });
    await sleep(100);
    expect(got.map((m) => m.data)).toEqual(['first']);
  });

  it('unadvertise releases the topic so it can come back with another type', async () => {
    const { server, url } = await startServer();
    const ros = await connectRos(url);
    const topic = new Topic({ ros, name: '/temp', messageType: 'std_msgs/String' });
    topic.advertise();
    await waitUntil(() => server.topicInfo('/temp')?.publishers === 1);
    expect(server.topicInfo('/temp')!.type).toBe('std_msgs/String');
    topic.unadvertise();
    await waitUntil(() => server.topicInfo('/temp') === undefined);
    expect(() => server.advertise('/temp', 'sensor_msgs/Image')).not.toThrow();
  });

  it('set_level filters status messages', async () => {
    const { url } = await startServer();
    const ros = await connectRos(url);
    const statuses: Array<{ level: string; msg: string }> = [];
    ros.on('status', (s) => {
      statuses.push(s as unknown as { level: string; msg: string });
    });
    ros.callOnConnection(BOGUS_OP);
    await waitUntil(() => statuses.length === 1);
    expect(statuses[0]!.level).toBe('error');
    expect(statuses[0]!.msg).toMatch(/^Unknown operation: no_such_op\./);

    ros.setStatusLevel('none');
    ros.callOnConnection(BOGUS_OP);
    ros.setStatusLevel('info');
    // With info, a successful subscribe reports itself (on its id's channel in roslib).
    const topic = new Topic({ ros, name: '/chatter', messageType: 'std_msgs/String' });
    const infos: Array<{ level: string; msg: string }> = [];
    topic.subscribe(() => undefined);
    ros.on(`status:${topic.subscribeId}`, (s) => {
      infos.push(s as unknown as { level: string; msg: string });
    });
    await waitUntil(() => infos.length === 1);
    expect(infos[0]).toMatchObject({ level: 'info', msg: 'Subscribed to /chatter' });
    // The unknown op sent while at 'none' was never reported.
    expect(statuses).toHaveLength(1);
  });

  it('a late subscriber gets the last latched message (server and client publishers)', async () => {
    const { server, url } = await startServer();
    const map = server.advertise<StdString>('/map', 'std_msgs/String', { latch: true });
    map.publish({ data: 'old' });
    map.publish({ data: 'latest' });
    const ros = await connectRos(url);
    const { got } = collect<StdString>(ros, '/map', 'std_msgs/String');
    await waitUntil(() => got.length === 1);
    expect(got[0]).toEqual({ data: 'latest' });

    const publisher = await connectRos(url);
    const latched = new Topic<StdString>({ ros: publisher, name: '/goal', messageType: 'std_msgs/String', latch: true });
    latched.publish({ data: 'go' });
    await waitUntil(() => server.topicInfo('/goal')?.latched === true);
    const late: StdString[] = [];
    server.subscribe<StdString>('/goal', 'std_msgs/msg/String', (m) => late.push(m));
    const ros2 = await connectRos(url);
    const remote = collect<StdString>(ros2, '/goal', 'std_msgs/String');
    await waitUntil(() => late.length === 1 && remote.got.length === 1);
    expect(late[0]).toEqual({ data: 'go' });
    expect(remote.got[0]).toEqual({ data: 'go' });
  });
});
