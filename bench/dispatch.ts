/**
 * Dispatch overhead per step over loopback: from RobotChannel.send() (what the executor calls) to the
 * robot side holding both the step command and its keyframe, through the real rosbridge server and
 * the real roslib client. Prints p50/p99 for a 640x480 PNG keyframe, and for the command alone.
 *
 *   npx tsx bench/dispatch.ts [--steps 300]
 */
import { loadProfile } from '../src/profile/load.js';
import { RosConnection } from '../src/ros/connection.js';
import { RobotChannel } from '../src/ros/robot-channel.js';
import { StringMsg } from '../src/ros/messages.js';
import { listen } from '../src/rosbridge/index.js';
import { percentile, round } from '../src/run/stats.js';
import { KEYFRAME_FRAME_PREFIX, StepCommand, stepId } from '../src/schema/index.js';
import { SimWorld } from '../sim/world.js';
import { benchFlags } from './flags.js';

const flags = benchFlags('npx tsx bench/dispatch.ts [--steps 300]', { steps: 'string' });
const steps = flags.int('steps', 300, { min: 1, max: 100_000 });
const profile = loadProfile('aloha-agilex');
const { server, url } = await listen({ port: 0 });
const world = new SimWorld({ profile, scene: 'tshirt', task: 'fold the t-shirt', seed: 0, missRate: 0 });
const keyframe = await world.observe();

// The robot side: note when a step id has both its command and its keyframe.
const arrived = new Map<string, (t: number) => void>();
const parts = new Map<string, number>();
const mark = (id: string) => {
  const n = (parts.get(id) ?? 0) + 1;
  parts.set(id, n);
  if (n === 2) arrived.get(id)?.(performance.now());
};
server.subscribe(profile.ros.stepCommand.name, profile.ros.stepCommand.type, (msg) => {
  const command = StepCommand.parse(JSON.parse(StringMsg.parse(msg).data));
  mark(stepId(command.runId, command.stepIndex, command.attempt));
});
server.subscribe<{ header?: { frame_id?: string } }>(profile.ros.keyframe.name, profile.ros.keyframe.type, (msg) => {
  mark(String(msg.header?.frame_id).slice(KEYFRAME_FRAME_PREFIX.length));
});

const connection = await new RosConnection(url).start();
const channel = new RobotChannel(connection, profile);
await new Promise((r) => setTimeout(r, 200));

async function measure(label: string, png: Uint8Array, runId: string): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < steps + 20; i++) {
    const id = stepId(runId, i, 0);
    const done = new Promise<number>((resolve) => arrived.set(id, resolve));
    if (png.length === 0) parts.set(id, 1); // command only: count the keyframe as already there
    const start = performance.now();
    if (png.length === 0) {
      // Same topic and framing as send(), without the keyframe publish.
      (channel as unknown as { stepTopic: { publish(m: unknown): void } }).stepTopic.publish({ data: JSON.stringify({ kind: 'execute', runId, stepIndex: i, attempt: 0, instruction: 'fold the left sleeve in with the left arm' }) });
    } else {
      channel.send({ kind: 'execute', runId, stepIndex: i, attempt: 0, instruction: 'fold the left sleeve in with the left arm' }, png);
    }
    const end = await done;
    if (i >= 20) times.push(end - start); // the first 20 warm up the JIT and the socket
  }
  console.log(`${label.padEnd(44)} p50 ${round(percentile(times, 50), 3)} ms   p99 ${round(percentile(times, 99), 3)} ms   (n=${times.length})`);
}

console.log(`dispatch overhead over loopback, ${steps} steps each (send() -> robot side has command + keyframe)`);
await measure('command only (std_msgs/String JSON)', new Uint8Array(0), 'bench-cmd');
await measure(`command + keyframe (PNG ${Math.round(keyframe.length / 1024)} KB, CompressedImage)`, keyframe, 'bench-kf');
channel.close();
connection.close();
await server.close();
