import { Topic } from 'roslib';
import { StepCommand, StepFeedback, KEYFRAME_FRAME_PREFIX, stepId, type RobotProfile } from '../schema/index.js';
import { CameraFeed, type CameraContext } from './camera-feed.js';
import type { RosConnection } from './connection.js';
import { compressedImage, StringMsg } from './messages.js';

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

/** How long keystep waits for the first camera frame unless told otherwise (--camera-timeout). */
export const DEFAULT_CAMERA_TIMEOUT_MS = 10_000;

/**
 * keystep's side of a robot's ROS interface (from its profile): publishes step commands with their
 * keyframes, reads feedback, keeps the latest keyframe-camera frame for replanning. Every incoming
 * message is parsed at this boundary; a bad one is counted, reported and ignored, never trusted.
 */
export class RobotChannel {
  private readonly stepTopic: Topic<{ data: string }>;
  private readonly keyframeTopic: Topic<unknown>;
  private readonly feedbackTopic: Topic<unknown>;
  /** The keyframe camera: plans are drawn from its latest frame. */
  readonly camera: CameraFeed;
  private readonly waiters = new Map<string, Set<(f: StepFeedback) => void>>();
  /** Terminal feedback by step id, so a late waiter (after a reconnect) still gets the result. */
  private readonly results = new Map<string, StepFeedback>();
  /** Step ids the robot answered `accepted` for: a timeout after it is the robot's, before it the link's. */
  private readonly accepted = new Set<string>();
  /** Messages that arrived on the feedback topic, good or bad: none at all points at the topic. */
  feedbackMessages = 0;
  badMessages = 0;

  constructor(
    readonly connection: RosConnection,
    readonly profile: RobotProfile,
    private readonly hooks: { onBadMessage?: (m: BadMessage) => void; onFeedback?: (f: StepFeedback) => void } = {},
    options: { cameraTimeoutMs?: number } = {},
  ) {
    const ros = connection.ros;
    const { stepCommand, keyframe, feedback } = profile.ros;
    this.stepTopic = new Topic({ ros, name: stepCommand.name, messageType: stepCommand.type });
    this.keyframeTopic = new Topic({ ros, name: keyframe.name, messageType: keyframe.type });
    this.feedbackTopic = new Topic({ ros, name: feedback.name, messageType: feedback.type, queue_length: 100 });
    this.cameraTimeoutMs = options.cameraTimeoutMs ?? DEFAULT_CAMERA_TIMEOUT_MS;
    const camera = profile.cameras.find((c) => c.name === profile.keyframeCamera)!;
    const context: CameraContext = { robot: profile.id, url: connection.url, rosVersion: profile.ros.rosVersion };
    this.camera = new CameraFeed(connection, camera, context, (topic, reason) => this.bad(topic, reason, undefined));
    this.stepTopic.advertise();
    this.keyframeTopic.advertise();
    this.feedbackTopic.subscribe((m) => this.onFeedback(m));
  }

  private readonly cameraTimeoutMs: number;

  /** Whether the robot answered `accepted` for a step id. */
  wasAccepted(id: string): boolean {
    return this.accepted.has(id);
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

  /** The latest keyframe-camera frame as PNG; waits up to the camera timeout for the first one. */
  latestFrame(): Promise<Uint8Array> {
    return this.camera.latestPng(this.cameraTimeoutMs);
  }

  /**
   * A frame taken at or after `sinceMs` on the robot's clock (e.g. the scene after the step whose
   * feedback carried that stamp), or, if none comes within `freshMs`, the latest one there is
   * (CameraTimeoutError when none came within the camera timeout at all).
   */
  frameAfter(sinceMs: number, freshMs: number): Promise<Uint8Array> {
    return this.camera.frameAfter(sinceMs, freshMs, Math.max(freshMs, this.cameraTimeoutMs));
  }

  close(): void {
    this.feedbackTopic.unsubscribe();
    this.camera.close();
    this.stepTopic.unadvertise();
    this.keyframeTopic.unadvertise();
  }

  private bad(topic: string, reason: string, raw: unknown): void {
    this.badMessages++;
    this.hooks.onBadMessage?.({ topic, reason, raw });
  }

  private onFeedback(message: unknown): void {
    this.feedbackMessages++;
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
    const id = stepId(feedback.runId, feedback.stepIndex, feedback.attempt);
    if (feedback.status === 'accepted') this.accepted.add(id);
    if (!TERMINAL.has(feedback.status)) return;
    this.results.set(id, feedback);
    const waiting = this.waiters.get(id);
    this.waiters.delete(id);
    waiting?.forEach((w) => w(feedback));
  }
}
