import sharp from 'sharp';
import { WebSocket } from 'ws';
import { Service, Topic, type Ros } from 'roslib';
import { afterEach, describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load.js';
import { compressedImage, imageToPng } from '../../src/ros/messages.js';
import { KEYFRAME_FRAME_PREFIX, StepFeedback, stepId, type StepCommand } from '../../src/schema/index.js';
import { renderCamera } from '../../sim/render.js';
import { SimRobot } from '../../sim/robot-node.js';
import { connectRos, nextMessage, until } from '../helpers/ros.js';

const robots: SimRobot[] = [];
const clients: Ros[] = [];
afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  await Promise.all(robots.splice(0).map((r) => r.close()));
});

async function start(robotId: string, scene: 'tshirt' | 'table', extra: Partial<Parameters<typeof SimRobot.start>[0]> = {}) {
  const profile = loadProfile(robotId);
  const robot = await SimRobot.start({ profile, scene, task: scene === 'tshirt' ? 'fold the t-shirt' : 'clear the table', seed: 5, missRate: 0, port: 0, stepMs: 0, cameraHz: 5, keyframeWaitMs: 400, ...extra });
  robots.push(robot);
  const ros = await connectRos(robot.url);
  clients.push(ros);
  return { robot, ros, profile };
}

/** A roslib client that sends steps the way keystep does and collects feedback. */
function stepClient(ros: Ros, profile: ReturnType<typeof loadProfile>) {
  const feedback: StepFeedback[] = [];
  const fb = new Topic<{ data: string }>({ ros, name: profile.ros.feedback.name, messageType: profile.ros.feedback.type });
  fb.subscribe((m) => feedback.push(StepFeedback.parse(JSON.parse(m.data))));
  const step = new Topic<{ data: string }>({ ros, name: profile.ros.stepCommand.name, messageType: profile.ros.stepCommand.type });
  const keyframe = new Topic<unknown>({ ros, name: profile.ros.keyframe.name, messageType: profile.ros.keyframe.type });
  return {
    feedback,
    send(command: StepCommand, png?: Uint8Array) {
      if (png) keyframe.publish(compressedImage(png, `${KEYFRAME_FRAME_PREFIX}${stepId(command.runId, command.stepIndex, command.attempt)}`, profile.ros.rosVersion));
      step.publish({ data: JSON.stringify(command) });
    },
    raw(data: string) {
      step.publish({ data });
    },
    async terminal(runId: string, stepIndex: number, attempt = 0, count = 1): Promise<StepFeedback> {
      const match = () => feedback.filter((f) => f.runId === runId && f.stepIndex === stepIndex && f.attempt === attempt && f.status !== 'accepted');
      await until(() => match().length >= count, 8000, `feedback for ${runId}/${stepIndex}/${attempt}`);
      return match()[count - 1]!;
    },
  };
}

describe('sim robot over rosbridge, driven by the real roslib client', () => {
  it('serves camera frames that decode to images at the profile resolution (sensor_msgs/Image, JSON and CBOR)', async () => {
    const { ros, profile } = await start('aloha-agilex', 'tshirt');
    const cam = profile.cameras.find((c) => c.name === 'camera_f')!;
    const viaJson = await nextMessage<{ encoding: string; width: number; height: number }>(ros, cam.topic, cam.type);
    expect(viaJson).toMatchObject({ encoding: 'rgb8', width: 640, height: 480 });
    const meta = await sharp(await imageToPng(viaJson)).metadata();
    expect([meta.width, meta.height]).toEqual([640, 480]);
    const viaCbor = await nextMessage<unknown>(ros, cam.topic, cam.type, { compression: 'cbor' });
    const png = await imageToPng(viaCbor);
    const stats = await sharp(png).stats();
    // Not a blank frame: the table, the shirt and the grippers give several distinct colours.
    expect(stats.channels.some((c) => c.stdev > 20)).toBe(true);
  });

  it('never publishes a frame of a scene that was reset while the frame rendered', async () => {
    // No periodic frames: only the resets publish. Two resets in one tick: the first one's render is
    // still in flight when the second changes the scene; its frame must be dropped, not sent with a
    // stamp after the second reset (a planner would take the old scene for the new episode).
    const { robot, ros, profile } = await start('agibot-g1', 'table', { cameraHz: 0 });
    const cam = profile.cameras.find((c) => c.name === profile.keyframeCamera)!;
    const frames: unknown[] = [];
    const topic = new Topic<unknown>({ ros, name: cam.topic, messageType: cam.type });
    topic.subscribe((m) => frames.push(m));
    await new Promise((r) => setTimeout(r, 300));
    frames.length = 0;
    robot.reset(1);
    const episode1 = robot.world.state;
    robot.reset(2);
    const first = await renderCamera(robot.world.scene, episode1, cam);
    const second = await renderCamera(robot.world.scene, robot.world.state, cam);
    expect(Buffer.from(first).equals(Buffer.from(second))).toBe(false);
    await until(() => frames.length >= 1, 5000, 'a frame after the resets');
    await new Promise((r) => setTimeout(r, 500));
    const pngs = await Promise.all(frames.map((f) => imageToPng(f as never)));
    expect(pngs.length).toBeGreaterThanOrEqual(1);
    for (const png of pngs) expect(Buffer.from(png).equals(Buffer.from(second))).toBe(true);
    topic.unsubscribe();
  });

  it('serves CompressedImage cameras and joint states with the profile names (ROS 2 types)', async () => {
    const { ros, profile } = await start('agibot-g1', 'table');
    const cam = profile.cameras.find((c) => c.type.endsWith('CompressedImage'))!;
    const msg = await nextMessage<{ format: string; data: unknown }>(ros, cam.topic, cam.type);
    expect(msg.format).toBe('png');
    const meta = await sharp(await imageToPng(msg)).metadata();
    expect([meta.width, meta.height]).toEqual([cam.resolution.width, cam.resolution.height]);
    const arm = profile.arms[1]!;
    const joints = await nextMessage<{ name: string[]; position: number[] }>(ros, arm.jointStates.name, arm.jointStates.type);
    // The arm's joints, then its gripper's, as a driver publishes them.
    expect(joints.name).toEqual([...arm.joints, arm.gripper.joint]);
    expect(arm.joints).toHaveLength(arm.dof);
    expect(joints.position).toHaveLength(arm.dof + 1);
  });

  it('executes a step sent as instruction + keyframe and reports accepted, then done', async () => {
    const { robot, ros, profile } = await start('aloha-agilex', 'tshirt');
    const client = stepClient(ros, profile);
    const [first] = robot.world.oracle();
    const keyframe = await renderCamera(robot.world.scene, first!.next, profile.cameras[0]!);
    client.send({ kind: 'execute', runId: 'r1', stepIndex: 0, attempt: 0, instruction: first!.instruction }, keyframe);
    const result = await client.terminal('r1', 0);
    expect(result.status).toBe('done');
    // Not exactly 0: the keyframe went through PNG, the candidates are rasterised straight from SVG.
    expect(result.keyframeDistance).toBeLessThan(0.01);
    expect(client.feedback.find((f) => f.status === 'accepted')).toBeDefined();
    expect(robot.world.state).toEqual(first!.next);
  });

  it('refuses a keyframe that shows another outcome than the instruction, and moves nothing', async () => {
    const { robot, ros, profile } = await start('aloha-agilex', 'tshirt');
    const client = stepClient(ros, profile);
    const plan = robot.world.oracle();
    const before = structuredClone(robot.world.state);
    // The instruction of step 1 with the keyframe of step 1 followed by step 2: a different outcome.
    const wrong = await renderCamera(robot.world.scene, plan[1]!.next, profile.cameras[0]!);
    client.send({ kind: 'execute', runId: 'r2', stepIndex: 0, attempt: 0, instruction: plan[0]!.instruction }, wrong);
    const result = await client.terminal('r2', 0);
    expect(result.status).toBe('miss');
    expect(result.reason).toMatch(/^keyframe unreachable/);
    expect(robot.world.state).toEqual(before);
  });

  it('rejects an unparseable instruction with its reason', async () => {
    const { ros, profile, robot } = await start('agibot-g1', 'table');
    const client = stepClient(ros, profile);
    const frame = await robot.world.observe();
    client.send({ kind: 'execute', runId: 'r3', stepIndex: 0, attempt: 0, instruction: 'juggle the flamingo' }, frame);
    const result = await client.terminal('r3', 0);
    expect(result.status).toBe('rejected');
    expect(result.reason).toContain('juggle');
  });

  it('runs a duplicate step id once and answers it with the first result', async () => {
    const { robot, ros, profile } = await start('agibot-g1', 'table');
    const client = stepClient(ros, profile);
    const [first] = robot.world.oracle();
    const keyframe = await renderCamera(robot.world.scene, first!.next, profile.cameras[0]!);
    const command: StepCommand = { kind: 'execute', runId: 'r4', stepIndex: 0, attempt: 0, instruction: first!.instruction };
    client.send(command, keyframe);
    await client.terminal('r4', 0);
    client.send(command, keyframe);
    const again = await client.terminal('r4', 0, 0, 2);
    expect(again.duplicate).toBe(true);
    expect(again.status).toBe('done');
    expect(robot.world.history.filter((h) => h.stepId === 'r4/0/0')).toHaveLength(1);
  });

  it('rejects a step whose keyframe never arrives, and a malformed command it can read ids from', async () => {
    const { ros, profile } = await start('aloha-agilex', 'tshirt');
    const client = stepClient(ros, profile);
    client.send({ kind: 'execute', runId: 'r5', stepIndex: 0, attempt: 0, instruction: 'tidy the collar with the right arm' });
    const lost = await client.terminal('r5', 0);
    expect(lost.status).toBe('rejected');
    expect(lost.reason).toContain('no keyframe arrived');
    client.raw(JSON.stringify({ kind: 'execute', runId: 'r6', stepIndex: 0, attempt: 0, instruction: 42 }));
    const bad = await client.terminal('r6', 0);
    expect(bad.status).toBe('rejected');
    expect(bad.reason).toContain('instruction');
    client.raw('{not json');
    // Still answering after garbage.
    const [first] = (await start('aloha-agilex', 'tshirt')).robot.world.oracle();
    expect(first).toBeDefined();
  });

  it('cancels a step that is still waiting for its keyframe', async () => {
    const { ros, profile, robot } = await start('aloha-agilex', 'tshirt', { keyframeWaitMs: 2000 });
    const client = stepClient(ros, profile);
    client.send({ kind: 'execute', runId: 'r7', stepIndex: 0, attempt: 0, instruction: 'tidy the collar with the right arm' });
    client.send({ kind: 'cancel', runId: 'r7', stepIndex: 0, attempt: 0, reason: 'operator abort' });
    const result = await client.terminal('r7', 0);
    expect(result.status).toBe('cancelled');
    expect(robot.world.history).toHaveLength(0);
  });

  it('offers reset, oracle and state services', async () => {
    const { ros, robot } = await start('aloha-agilex', 'tshirt');
    const call = <T>(name: string, type: string, args: object) =>
      new Promise<T>((resolve, reject) => new Service<object, T>({ ros, name, serviceType: type }).callService(args, resolve, reject));
    const oracle = await call<{ steps: { instruction: string; keyframe: string }[] }>('/keystep/sim/oracle', 'keystep/OraclePlan', {});
    expect(oracle.steps.map((s) => s.instruction)).toEqual(robot.world.oracle().map((s) => s.instruction));
    expect(oracle.steps).toHaveLength(7);
    const meta = await sharp(Buffer.from(oracle.steps[0]!.keyframe, 'base64')).metadata();
    expect(meta.format).toBe('png');
    const before = structuredClone(robot.world.state);
    await call('/keystep/sim/reset', 'keystep/SimReset', { seed: 99 });
    expect(robot.world.state).not.toEqual(before);
    const state = await call<{ goalReached: boolean; seed: number }>('/keystep/sim/state', 'keystep/SimState', {});
    expect(state).toMatchObject({ goalReached: false, seed: 99 });
  });

  it('on a ROS 1 profile refuses ROS 2 type spellings as the real ROS 1 rosbridge does: delivers nothing, logs why', async () => {
    const log: string[] = [];
    const { ros, profile } = await start('aloha-agilex', 'tshirt', { log: (l) => log.push(l) });
    const cam = profile.cameras.find((c) => c.name === profile.keyframeCamera)!;
    expect(cam.type).toBe('sensor_msgs/Image');
    const ros2 = cam.type.replace('/', '/msg/');
    await expect(nextMessage(ros, cam.topic, ros2, { timeoutMs: 1500 })).rejects.toThrow(/no message/);
    expect(log.join('\n')).toContain(`${ros2} is not a valid type string`);
    // The ROS 1 spelling on the same topic is served.
    await expect(nextMessage(ros, cam.topic, cam.type, { timeoutMs: 3000 })).resolves.toBeDefined();
  });

  it('with realErrors answers protocol errors as the real server: no status frames, only its log', async () => {
    const frames = async (realErrors: boolean) => {
      const log: string[] = [];
      const { robot } = await start('aloha-agilex', 'tshirt', { realErrors, log: (l) => log.push(l) });
      const ws = new WebSocket(robot.url);
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const got: unknown[] = [];
      ws.on('message', (data) => got.push(JSON.parse(String(data))));
      ws.send('not json');
      ws.send(JSON.stringify({ op: 'subscribe', id: 's1', topic: '/keystep/feedback', type: 'std_msgs/msg/String' }));
      ws.send(JSON.stringify({ op: 'call_service', id: 'c1', service: '/no/such/service' }));
      await until(() => log.filter((l) => l.startsWith('rosbridge error')).length >= 3, 3000, 'the errors in the log');
      await new Promise((r) => setTimeout(r, 200));
      ws.close();
      return got as { op: string; result?: boolean }[];
    };
    const spec = await frames(false);
    expect(spec.filter((f) => f.op === 'status').length).toBeGreaterThanOrEqual(3);
    const real = await frames(true);
    // A call to a missing service still gets its failed response; nothing else answers.
    expect(real).toEqual([expect.objectContaining({ op: 'service_response', result: false })]);
  });
});
