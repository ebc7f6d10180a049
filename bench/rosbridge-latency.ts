/**
 * Publish → subscriber-receive latency of the rosbridge server over loopback, JSON vs CBOR.
 *
 *   npx tsx bench/rosbridge-latency.ts [iterations]
 *
 * The robot side publishes in process; a real roslib client subscribes over a loopback WebSocket.
 * Each sample is one message published and awaited before the next, so it measures latency, not
 * throughput. JSON and CBOR samples alternate (each on its own topic) so both see the same machine
 * state. Both ends share this process's one thread: a sample includes the server's validation and
 * encoding, the socket, and roslib's decoding, which is what a client on the same box pays.
 */
import { Ros, Topic } from 'roslib';
import { listen } from '../src/rosbridge/index.js';

interface Payload {
  readonly label: string;
  readonly type: string;
  readonly make: (i: number) => Record<string, unknown>;
}

/** Deterministic filler: a JPEG's bytes look random, and so should ours (no compression luck). */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const JPEG_640x480 = bytes(48 * 1024, 7); // a typical 640x480 JPEG at quality ~80 is 40-60 KB
const RGB_640x480 = bytes(640 * 480 * 3, 11);

const PAYLOADS: Payload[] = [
  { label: 'String 1 KB', type: 'std_msgs/String', make: (i) => ({ data: `${i}:`.padEnd(1024, 'x') }) },
  {
    label: 'CompressedImage 640x480 (48 KB jpeg)',
    type: 'sensor_msgs/CompressedImage',
    make: (i) => ({ header: { frame_id: String(i), stamp: { sec: 0, nanosec: 0 } }, format: 'jpeg', data: JPEG_640x480 }),
  },
  {
    label: 'Image 640x480 rgb8 (900 KB raw)',
    type: 'sensor_msgs/Image',
    make: (i) => ({ header: { frame_id: String(i), stamp: { sec: 0, nanosec: 0 } }, width: 640, height: 480, encoding: 'rgb8', step: 1920, data: RGB_640x480 }),
  },
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const [given, ...extra] = process.argv.slice(2);
  const iterations = Number(given ?? 300);
  // Checked before the server starts: a NaN count would print an empty table and leave it open.
  if (extra.length > 0 || !Number.isInteger(iterations) || iterations < 1) {
    console.error(`takes one argument, a whole number of samples per row (at least 1), not ${JSON.stringify(process.argv.slice(2).join(' '))}\nusage: npx tsx bench/rosbridge-latency.ts [iterations]`);
    process.exit(2);
  }
  const warmup = 30;
  const listener = await listen({ port: 0 });
  const ros = new Ros({});
  await new Promise<void>((resolve, reject) => {
    ros.once('connection', () => resolve());
    ros.once('error', reject);
    void ros.connect(listener.url);
  });

  console.log(`rosbridge latency, loopback, ${iterations} samples per row (after ${warmup} warm-up), node ${process.version}`);
  console.log('payload                               encoding   p50 ms   p99 ms  mean ms   bytes/frame');
  for (const payload of PAYLOADS) {
    const lanes = (['none', 'cbor'] as const).map((compression) => {
      const name = `/bench/${compression}/${payload.type.replace(/\W/g, '_')}`;
      const publisher = listener.server.advertise(name, payload.type);
      const topic = new Topic<Record<string, unknown>>({ ros, name, messageType: payload.type, compression });
      const lane = { compression, publisher, topic, samples: [] as number[], bytes: 0, arrived: undefined as (() => void) | undefined };
      topic.subscribe(() => lane.arrived?.());
      return lane;
    });
    for (const lane of lanes) {
      while (lane.publisher.subscriberCount() === 0) await new Promise((r) => setTimeout(r, 5));
    }
    for (let i = 0; i < warmup + iterations; i++) {
      for (const lane of lanes) {
        const msg = payload.make(i);
        const received = new Promise<void>((resolve) => (lane.arrived = resolve));
        const before = listener.server.stats().bytesOut;
        const t0 = performance.now();
        lane.publisher.publish(msg);
        await received;
        const dt = performance.now() - t0;
        if (i >= warmup) {
          lane.samples.push(dt);
          lane.bytes = listener.server.stats().bytesOut - before;
        }
      }
    }
    for (const lane of lanes) {
      const sorted = [...lane.samples].sort((a, b) => a - b);
      const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
      console.log(
        `${payload.label.padEnd(38)}${(lane.compression === 'none' ? 'json' : 'cbor').padEnd(8)}${percentile(sorted, 50).toFixed(3).padStart(9)}${percentile(sorted, 99)
          .toFixed(3)
          .padStart(9)}${mean.toFixed(3).padStart(9)}${String(lane.bytes).padStart(14)}`,
      );
      lane.topic.unsubscribe();
      lane.publisher.unadvertise();
    }
  }
  ros.close();
  await listener.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
