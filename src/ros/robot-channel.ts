import { Topic } from 'roslib';
import { StepCommand, StepFeedback, KEYFRAME_FRAME_PREFIX, stepId, type RobotProfile } from '../schema/index.js';
import type { RosConnection } from './connection.js';
import { compressedImage, readImage, StringMsg } from './messages.js';

export type ExecuteCommand = Extract<StepCommand, { kind: 'execute' }>;

/** A message on the feedback topic that keystep refused to trust, with why. */
export interface BadMessage {
  topic: string;
  reason: string;
  raw: unknown;
}

export class StepCancelledError extends Error {
  override readonly name = 'StepCancelledError' as const;
  constructor(readonly stepId: string) {
    super(`step ${stepId} was cancelled while waiting for its feedback`);
  }
}

const TERMINAL = new Set<StepFeedback['status']>(['done', 'miss', 'rejected', 'cancelled']);

/**
 * keystep's side of a robot's ROS interface (from its profile): publishes step commands with their
 * keyframes, reads feedback, keeps the latest keyframe-camera frame for replanning. Every incoming
 * message is parsed at this boundary; a bad one is counted, reported and ignored, never trusted.
 */
export class RobotChannel {
  private readonly stepTopic: Topic<{ data: string }>;
  private readonly keyframeTopic: Topic<unknown>;
  private readonly feedbackTopic: Topic<unknown>;
  private readonly cameraTopic: Topic<unknown>;
  private readonly waiters = new Map<string, Set<(f: StepFeedback) => void>>();
  /** Terminal feedback by step id, so a late waiter (after a reconnect) still gets the result. */
  private readonly results = new Map<string, StepFeedback>();
  /**
   * Latest frame and its time on the robot's clock (header stamp, else when it arrived). Frames are
   * checked as they arrive but encoded to PNG only when asked for, once: a camera streams far more
   * frames than planning ever looks at.
   */
  private latest: Frame | undefined;
  private frameWaiters: ((frame: Frame) => void)[] = [];
  badMessages = 0;

  constructor(
    readonly connection: RosConnection,
    readonly profile: RobotProfile,
    private readonly hooks: { onBadMessage?: (m: BadMessage) => void; onFeedback?: (f: StepFeedback) => void } = {},
  ) {
    const ros = connection.ros;
    const { stepCommand, keyframe, feedback } = profile.ros;
    this.stepTopic = new Topic({ ros, name: stepCommand.name, messageType: stepCommand.type });
    this.keyframeTopic = new Topic({ ros, name: keyframe.name, messageType: keyframe.type });
    this.feedbackTopic = new Topic({ ros, name: feedback.name, messageType: feedback.type, queue_length: 100 });
    const camera = profile.cameras.find((c) => c.name === profile.keyframeCamera)!;
    // Frames are only needed when replanning: throttle them so a 30 Hz camera does not flood the socket.
    // CBOR carries the pixels as bytes instead of base64 text: a 640x480 rgb8 frame is 0.9 MB, not 1.2 MB of JSON.
    this.cameraTopic = new Topic({ ros, name: camera.topic, messageType: camera.type, throttle_rate: 200, queue_length: 1, compression: 'cbor' });
    this.stepTopic.advertise();
    this.keyframeTopic.advertise();
    this.feedbackTopic.subscribe((m) => this.onFeedback(m));
    this.cameraTopic.subscribe((m) => this.onFrame(m));
  }

  /** Publishes the keyframe, then the command that refers to it by step id. */
  send(command: ExecuteCommand, keyframePng: Uint8Array): string {
    const id = stepId(command.runId, command.stepIndex, command.attempt);
    this.keyframeTopic.publish(compressedImage(keyframePng, `${KEYFRAME_FRAME_PREFIX}${id}`, this.profile.ros.rosVersion));
    this.stepTopic.publish({ data: JSON.stringify(command) });
    return id;
  }

  /** Tells the robot to drop a step (in flight or queued). */
  cancel(ids: { runId: string; stepIndex: number; attempt: number }, reason: string): void {
    const command: StepCommand = { kind: 'cancel', ...ids, reason };
    this.stepTopic.publish({ data: JSON.stringify(command) });
  }

  /** Resolves with the terminal feedback (done, miss, rejected, cancelled) of a step id. */
  waitFeedback(id: string, signal?: AbortSignal): Promise<StepFeedback> {
    const known = this.results.get(id);
    if (known) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      const set = this.waiters.get(id) ?? new Set();
      const done = (f: StepFeedback) => {
        signal?.removeEventListener('abort', abort);
        resolve(f);
      };
      const abort = () => {
        set.delete(done);
        reject(new StepCancelledError(id));
      };
      if (signal?.aborted) return abort();
      signal?.addEventListener('abort', abort, { once: true });
      set.add(done);
      this.waiters.set(id, set);
    });
  }

  /** The latest keyframe-camera frame as PNG; waits for the first one if none has come yet. */
  latestFrame(): Promise<Uint8Array> {
    if (this.latest) return this.latest.png();
    return new Promise((resolve, reject) => this.frameWaiters.push((f) => f.png().then(resolve, reject)));
  }

  /**
   * A frame taken at or after `sinceMs` on the robot's clock (e.g. the scene after the step whose
   * feedback carried that stamp), or, if none comes within `timeoutMs`, the latest one there is.
   */
  async frameAfter(sinceMs: number, timeoutMs: number): Promise<Uint8Array> {
    if (this.latest && this.latest.stampMs >= sinceMs) return this.latest.png();
    let timer: NodeJS.Timeout | undefined;
    let waiter: ((f: Frame) => void) | undefined;
    const fresh = new Promise<Uint8Array>((resolve, reject) => {
      waiter = (f) => {
        if (f.stampMs >= sinceMs) f.png().then(resolve, reject);
        else this.frameWaiters.push(waiter!);
      };
      this.frameWaiters.push(waiter);
    });
    const fallback = new Promise<Uint8Array | undefined>((resolve, reject) => {
      timer = setTimeout(() => (this.latest ? this.latest.png().then(resolve, reject) : resolve(undefined)), timeoutMs);
    });
    try {
      return (await Promise.race([fresh, fallback])) ?? (await fresh);
    } finally {
      clearTimeout(timer);
      this.frameWaiters = this.frameWaiters.filter((w) => w !== waiter);
    }
  }

  close(): void {
    this.feedbackTopic.unsubscribe();
    this.cameraTopic.unsubscribe();
    this.stepTopic.unadvertise();
    this.keyframeTopic.unadvertise();
  }

  private bad(topic: string, reason: string, raw: unknown): void {
    this.badMessages++;
    this.hooks.onBadMessage?.({ topic, reason, raw });
  }

  private onFeedback(message: unknown): void {
    const topic = this.profile.ros.feedback.name;
    const outer = StringMsg.safeParse(message);
    if (!outer.success) return this.bad(topic, 'not a std_msgs/String', message);
    let json: unknown;
    try {
      json = JSON.parse(outer.data.data);
    } catch {
      return this.bad(topic, 'data is not JSON', message);
    }
    const parsed = StepFeedback.safeParse(json);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      return this.bad(topic, `not a StepFeedback (${why})`, json);
    }
    const feedback = parsed.data;
    this.hooks.onFeedback?.(feedback);
    if (!TERMINAL.has(feedback.status)) return;
    const id = stepId(feedback.runId, feedback.stepIndex, feedback.attempt);
    this.results.set(id, feedback);
    const waiting = this.waiters.get(id);
    this.waiters.delete(id);
    waiting?.forEach((w) => w(feedback));
  }

  private onFrame(message: unknown): void {
    let encode: () => Promise<Uint8Array>;
    try {
      encode = readImage(message);
    } catch (e) {
      this.bad(this.cameraTopic.name, (e as Error).message, undefined);
      return;
    }
    // Never let an older frame replace a newer one.
    const stamp = stampMs(message) ?? Date.now();
    if (this.latest && this.latest.stampMs > stamp) return;
    // A frame that passes the checks can still fail to decode (a corrupt JPEG): then it counts as a
    // bad message and the frame before it stands in, as if the bad one had never arrived.
    // Unlinked as soon as a newer frame arrives, so frames never chain up in memory.
    if (this.latest) this.latest.previous = undefined;
    let png: Promise<Uint8Array> | undefined;
    const frame: Frame = {
      stampMs: stamp,
      previous: this.latest,
      png: () =>
        (png ??= encode().catch((e: unknown) => {
          this.bad(this.cameraTopic.name, (e as Error).message, undefined);
          const fallback = frame.previous;
          frame.previous = undefined;
          if (fallback) return fallback.png();
          throw e;
        })),
    };
    this.latest = frame;
    const waiting = this.frameWaiters;
    this.frameWaiters = [];
    waiting.forEach((w) => w(frame));
  }
}

/** A camera frame: its robot-clock stamp, and its PNG encoding, made on first use. */
interface Frame {
  stampMs: number;
  png: () => Promise<Uint8Array>;
  /** The frame before, kept only until this one is encoded, to stand in if it fails to decode. */
  previous?: Frame | undefined;
}

/** header.stamp in ms since the epoch, ROS 1 (secs/nsecs) or ROS 2 (sec/nanosec); undefined if absent. */
function stampMs(message: unknown): number | undefined {
  const stamp = (message as { header?: { stamp?: { secs?: number; nsecs?: number; sec?: number; nanosec?: number } } })?.header?.stamp;
  if (!stamp) return undefined;
  const sec = stamp.sec ?? stamp.secs;
  const nsec = stamp.nanosec ?? stamp.nsecs ?? 0;
  if (typeof sec !== 'number' || sec <= 0) return undefined;
  return sec * 1000 + nsec / 1e6;
}
