import sharp from 'sharp';
import { parseTypeName, sameType } from '../rosbridge/message-types.js';
import { leaseTopics, type RobotProfile } from '../schema/index.js';
import { CameraFeed } from './camera-feed.js';
import { RosConnection } from './connection.js';
import { CameraTimeoutError, ConnectError, ConnectTimeoutError, describeFailure } from './errors.js';
import { RobotLease } from './lease.js';
import { callIdempotentService } from './service-call.js';

/**
 * `keystep doctor`: everything a run needs from a robot, checked before anything moves, as rows of
 * data (the CLI prints them as a table). Nothing is sent that a robot acts on: the graph is read
 * through rosapi, the lease is only queried, the cameras are only watched.
 */

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckRow {
  check: string;
  status: CheckStatus;
  /** What was found. */
  detail: string;
  /** What to do about it (absent when ok). */
  fix?: string;
}

export interface RobotCheckOptions {
  url: string;
  profile: RobotProfile;
  connectTimeoutMs?: number;
  /** How long each camera gets to deliver a frame. */
  cameraTimeoutMs?: number;
  /** Robot clock against this machine's beyond this is reported. */
  clockToleranceMs?: number;
}

/** The rosapi services the checks read the graph with (rosbridge_websocket.launch starts rosapi). */
const ROSAPI_SERVICE = {
  topics: ['/rosapi/topics', 'rosapi/Topics'],
  publishers: ['/rosapi/publishers', 'rosapi/Publishers'],
  subscribers: ['/rosapi/subscribers', 'rosapi/Subscribers'],
  getTime: ['/rosapi/get_time', 'rosapi/GetTime'],
} as const;

/** Who must be on the other end of each topic for a run to work. */
interface TopicRole {
  check: string;
  name: string;
  type: string;
  /** The robot publishes it (cameras, joints, feedback) or listens to it (steps, keyframes). */
  robot: 'publishes' | 'subscribes';
  path: string;
  /** A run cannot work without it (else a warning). */
  required: boolean;
}

function roles(profile: RobotProfile): TopicRole[] {
  const { ros } = profile;
  const lease = leaseTopics(ros);
  return [
    { check: 'step commands', ...ros.stepCommand, robot: 'subscribes', path: 'ros.stepCommand', required: true },
    { check: 'keyframes', ...ros.keyframe, robot: 'subscribes', path: 'ros.keyframe', required: true },
    { check: 'feedback', ...ros.feedback, robot: 'publishes', path: 'ros.feedback', required: true },
    { check: 'lease requests', ...lease.request, robot: 'subscribes', path: 'ros.lease.request', required: true },
    { check: 'lease state', ...lease.state, robot: 'publishes', path: 'ros.lease.state', required: true },
    ...profile.cameras.map((c, i) => ({
      check: `camera ${c.name}`,
      name: c.topic,
      type: c.type,
      robot: 'publishes' as const,
      path: `cameras[${i}]`,
      required: c.name === profile.keyframeCamera,
    })),
    ...profile.arms.map((a, i) => ({ check: `joints ${a.name}`, ...a.jointStates, robot: 'publishes' as const, path: `arms[${i}].jointStates`, required: false })),
  ];
}

export async function checkRobot(options: RobotCheckOptions): Promise<CheckRow[]> {
  const { profile, url } = options;
  const rows: CheckRow[] = [];
  const started = performance.now();
  let connection: RosConnection;
  try {
    connection = await new RosConnection(url).start(options.connectTimeoutMs ?? 5000);
  } catch (e) {
    if (!(e instanceof ConnectError || e instanceof ConnectTimeoutError)) throw e;
    const fix = e instanceof ConnectError ? describeFailure(url, e.failure) : e.message;
    return [{ check: 'connection', status: 'fail', detail: `no connection to ${url}`, fix }];
  }
  rows.push({ check: 'connection', status: 'ok', detail: `rosbridge at ${url} (${Math.round(performance.now() - started)} ms)` });
  const call = <Res>(service: readonly [string, string], request: unknown) => callIdempotentService<unknown, Res>(connection, service[0], service[1], request, { timeoutMs: 3000 });
  try {
    // The graph first, before this check subscribes or advertises anything of its own.
    let graph: Map<string, string> | undefined;
    try {
      const listed = await call<{ topics: string[]; types: string[] }>(ROSAPI_SERVICE.topics, {});
      graph = new Map(listed.topics.map((t, i) => [t, listed.types[i] ?? '']));
      rows.push({ check: 'rosapi', status: 'ok', detail: `${listed.topics.length} topics in the ROS graph` });
    } catch (e) {
      rows.push({
        check: 'rosapi',
        status: 'warn',
        detail: `/rosapi/topics did not answer (${(e as Error).message}): topics, types, publishers and subscribers were not checked`,
        fix: 'start rosapi beside rosbridge (roslaunch rosbridge_server rosbridge_websocket.launch starts both)',
      });
    }
    if (graph) {
      for (const role of roles(profile)) rows.push(await checkTopic(role, graph, call));
    }
    rows.push(await checkLease(connection, profile));
    rows.push(...(await checkCameras(connection, profile, options, call)));
  } finally {
    connection.close();
  }
  return rows;
}

async function checkTopic(
  role: TopicRole,
  graph: Map<string, string>,
  call: <Res>(service: readonly [string, string], request: unknown) => Promise<Res>,
): Promise<CheckRow> {
  const check = `${role.check} ${role.name}`;
  const missing: CheckStatus = role.required ? 'fail' : 'warn';
  const who = role.robot === 'publishes' ? 'publishers' : 'subscribers';
  let nodes: string[];
  try {
    const answer = await call<Record<string, string[]>>(role.robot === 'publishes' ? ROSAPI_SERVICE.publishers : ROSAPI_SERVICE.subscribers, { topic: role.name });
    nodes = answer[who] ?? [];
  } catch (e) {
    return { check, status: 'warn', detail: `rosapi could not list its ${who}: ${(e as Error).message}` };
  }
  const actual = graph.get(role.name);
  if (actual !== undefined && actual !== '' && !sameType(parseTypeName(actual), parseTypeName(role.type))) {
    return {
      check,
      status: 'fail',
      detail: `the topic's type is ${actual}, the profile says ${role.type}: a subscription with the wrong type gets nothing`,
      fix: `set ${role.path} type to "${actual}" in the profile, or point it at the topic you mean`,
    };
  }
  if (nodes.length === 0) {
    const near = [...graph.keys()].filter((t) => t !== role.name && similar(t, role.name)).slice(0, 3);
    const seen = actual === undefined ? 'not in the ROS graph' : `in the ROS graph, but nobody ${role.robot === 'publishes' ? 'publishes on' : 'subscribes to'} it`;
    return {
      check,
      status: missing,
      detail: `${seen}${near.length > 0 ? `; similar topics: ${near.join(', ')}` : ''}`,
      fix:
        role.robot === 'publishes'
          ? `start the node that publishes ${role.name}, or fix ${role.path} in the profile`
          : `start the robot node that subscribes to ${role.name} (robot-kit/keystep_robot.py), or fix ${role.path} in the profile`,
    };
  }
  return { check, status: 'ok', detail: `${role.type}, ${who}: ${nodes.join(', ')}` };
}

async function checkLease(connection: RosConnection, profile: RobotProfile): Promise<CheckRow> {
  const lease = new RobotLease(connection, profile, 'keystep-doctor');
  try {
    const state = await lease.query();
    if (state === undefined) {
      return {
        check: 'lease',
        status: 'fail',
        detail: `no answer on ${lease.topics.state} to a query on ${lease.topics.request}`,
        fix: 'the robot node must answer lease requests (see "The robot contract" in the README); keystep run --no-lease runs without one',
      };
    }
    if (state.holder !== null) {
      return {
        check: 'lease',
        status: 'fail',
        detail: `held by run "${state.holder}" for ${Math.ceil((state.expiresInMs ?? 0) / 1000)} s more unless renewed`,
        fix: 'wait for that run to finish, or stop it: one executor drives a robot at a time',
      };
    }
    return { check: 'lease', status: 'ok', detail: 'free: a run can take the robot' };
  } finally {
    lease.close();
  }
}

async function checkCameras(
  connection: RosConnection,
  profile: RobotProfile,
  options: RobotCheckOptions,
  call: <Res>(service: readonly [string, string], request: unknown) => Promise<Res>,
): Promise<CheckRow[]> {
  const timeoutMs = options.cameraTimeoutMs ?? 10_000;
  const context = { robot: profile.id, url: options.url, rosVersion: profile.ros.rosVersion };
  const feeds = profile.cameras.map((camera) => new CameraFeed(connection, camera, context, undefined, { throttleMs: 0 }));
  const rows: CheckRow[] = [];
  try {
    const results = await Promise.all(
      feeds.map(async (feed) => {
        const frame = await feed.firstFrame(timeoutMs).then(
          (f) => ({ f, at: Date.now() }),
          (e: unknown) => e as Error,
        );
        return { feed, frame };
      }),
    );
    let clockRow: CheckRow | undefined;
    for (const { feed, frame } of results) {
      const { camera } = feed;
      const keyframe = camera.name === profile.keyframeCamera;
      const check = `frames ${camera.name}${keyframe ? ' (keyframe camera)' : ''}`;
      if (frame instanceof Error) {
        if (!(frame instanceof CameraTimeoutError)) throw frame;
        rows.push({ check, status: keyframe ? 'fail' : 'warn', detail: `no frame on ${camera.topic} (${camera.type}) within ${timeoutMs} ms`, fix: frame.message.replace(/^.*?Check: /, 'check: ').replace(/\. keystep doctor.*$/, '') });
        continue;
      }
      let size: { width?: number | undefined; height?: number | undefined };
      try {
        size = await sharp(await frame.f.png()).metadata();
      } catch (e) {
        rows.push({ check, status: 'fail', detail: `a frame came but does not decode: ${(e as Error).message}`, fix: 'check the camera driver\'s encoding (rgb8, bgr8, rgba8, bgra8, mono8, or PNG/JPEG compressed)' });
        continue;
      }
      const want = camera.resolution;
      if (size.width !== want.width || size.height !== want.height) {
        rows.push({
          check,
          status: keyframe ? 'fail' : 'warn',
          detail: `frames are ${size.width}x${size.height}, the profile says ${want.width}x${want.height}`,
          fix: `set cameras[${profile.cameras.indexOf(camera)}].resolution to ${size.width}x${size.height}, or check that ${camera.topic} is the camera you mean`,
        });
      } else {
        rows.push({ check, status: 'ok', detail: `${size.width}x${size.height} on ${camera.topic}` });
      }
      if (keyframe) clockRow = await checkClock(frame.f, frame.at, options.clockToleranceMs ?? 2000, call);
    }
    if (clockRow) rows.push(clockRow);
  } finally {
    feeds.forEach((f) => f.close());
  }
  return rows;
}

/**
 * keystep waits for a camera frame stamped after a step's feedback stamp before it replans: both must
 * come from one clock (the robot's ROS time), and frames must carry stamps at all. How far this
 * machine's clock is from the robot's does not matter to a run; it is shown for reading logs side by side.
 */
async function checkClock(
  frame: { stampMs: number; stamped: boolean },
  arrivedAt: number,
  toleranceMs: number,
  call: <Res>(service: readonly [string, string], request: unknown) => Promise<Res>,
): Promise<CheckRow> {
  if (!frame.stamped) {
    return {
      check: 'clock',
      status: 'warn',
      detail: 'keyframe-camera frames carry no header.stamp: keystep takes their arrival time, so a replan may see a frame taken before the step ended',
      fix: 'stamp the frames in the camera driver',
    };
  }
  let skew: number | undefined;
  try {
    const asked = Date.now();
    const { time } = await call<{ time: { secs?: number; nsecs?: number; sec?: number; nanosec?: number } }>(ROSAPI_SERVICE.getTime, {});
    const answered = Date.now();
    const robotMs = (time.sec ?? time.secs ?? 0) * 1000 + (time.nanosec ?? time.nsecs ?? 0) / 1e6;
    skew = robotMs - (asked + answered) / 2;
  } catch {
    skew = undefined;
  }
  // The frame's stamp against the robot's ROS time when it arrived (this machine's time if rosapi is not there).
  const robotAtArrival = arrivedAt + (skew ?? 0);
  const age = robotAtArrival - frame.stampMs;
  const fmt = (ms: number) => `${ms >= 0 ? '+' : ''}${(ms / 1000).toFixed(2)} s`;
  const detail = `newest frame stamped ${(age / 1000).toFixed(2)} s before it arrived${skew !== undefined ? `; robot ROS time vs this machine ${fmt(skew)}` : ''}`;
  // A scene that does not change may well show an old frame; an hour, or a stamp from the future, is another clock.
  if (age < -toleranceMs || age > 3_600_000) {
    return {
      check: 'clock',
      status: 'warn',
      detail,
      fix: "frame stamps and the robot's feedback stamps must come from one clock: check use_sim_time and that the camera driver stamps with ROS time",
    };
  }
  return { check: 'clock', status: 'ok', detail };
}

/** Topic names a typo or a namespace away from each other. */
function similar(a: string, b: string): boolean {
  const last = (t: string) => t.split('/').filter(Boolean).at(-1) ?? t;
  return last(a) === last(b) || a.endsWith(b) || b.endsWith(a);
}
