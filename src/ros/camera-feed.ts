import { Topic } from 'roslib';
import type { Camera } from '../schema/index.js';
import type { RosConnection } from './connection.js';
import { CameraTimeoutError } from './errors.js';
import { readImage } from './messages.js';

/** A camera frame: its robot-clock stamp, and its PNG encoding, made on first use. */
export interface Frame {
  stampMs: number;
  /** The frame carried a header stamp (else stampMs is when it arrived here). */
  stamped: boolean;
  png: () => Promise<Uint8Array>;
  /** The frame before, kept only until this one is encoded, to stand in if it fails to decode. */
  previous?: Frame | undefined;
}

/** Who the timeout error names, when no frame comes. */
export interface CameraContext {
  robot: string;
  url: string;
  rosVersion: 1 | 2;
}

/**
 * One camera's frames over rosbridge. Frames are checked as they arrive but encoded to PNG only when
 * asked for, once: a camera streams far more frames than planning ever looks at. Every wait for a
 * frame is bounded; the error names the topic, its type and what to check.
 */
export class CameraFeed {
  private readonly topic: Topic<unknown>;
  private latest: Frame | undefined;
  private frameWaiters: ((frame: Frame) => void)[] = [];
  /** Frames that passed the checks. */
  frames = 0;

  constructor(
    connection: RosConnection,
    readonly camera: Camera,
    private readonly context: CameraContext,
    private readonly onBad: (topic: string, reason: string) => void = () => undefined,
    options: { throttleMs?: number } = {},
  ) {
    // Frames are only needed when (re)planning: throttle them so a 30 Hz camera does not flood the socket.
    // CBOR carries the pixels as bytes instead of base64 text: a 640x480 rgb8 frame is 0.9 MB, not 1.2 MB of JSON.
    this.topic = new Topic({
      ros: connection.ros,
      name: camera.topic,
      messageType: camera.type,
      throttle_rate: options.throttleMs ?? 200,
      queue_length: 1,
      compression: 'cbor',
    });
    this.topic.subscribe((m) => this.onFrame(m));
  }

  /** The latest frame, or the first one to come within `timeoutMs` (else CameraTimeoutError). */
  async firstFrame(timeoutMs: number, signal?: AbortSignal): Promise<Frame> {
    if (this.latest) return this.latest;
    return this.nextFrame(() => true, timeoutMs, signal);
  }

  /** The latest keyframe-camera frame as PNG; waits up to `timeoutMs` for the first one. */
  async latestPng(timeoutMs: number): Promise<Uint8Array> {
    return (await this.firstFrame(timeoutMs)).png();
  }

  /**
   * A frame taken at or after `sinceMs` on the robot's clock (e.g. the scene after the step whose
   * feedback carried that stamp), or, if none comes within `freshMs`, the latest one there is; if
   * there is none at all, waits for the first until `timeoutMs`.
   */
  async frameAfter(sinceMs: number, freshMs: number, timeoutMs: number): Promise<Uint8Array> {
    if (this.latest && this.latest.stampMs >= sinceMs) return this.latest.png();
    try {
      return await (await this.nextFrame((f) => f.stampMs >= sinceMs, freshMs)).png();
    } catch (e) {
      if (!(e instanceof CameraTimeoutError)) throw e;
      if (this.latest) return this.latest.png();
      return (await this.firstFrame(Math.max(0, timeoutMs - freshMs))).png();
    }
  }

  close(): void {
    this.topic.unsubscribe();
  }

  private nextFrame(accept: (f: Frame) => boolean, timeoutMs: number, signal?: AbortSignal): Promise<Frame> {
    return new Promise<Frame>((resolve, reject) => {
      const waiter = (f: Frame) => {
        if (!accept(f)) return void this.frameWaiters.push(waiter);
        settle();
        resolve(f);
      };
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
        this.frameWaiters = this.frameWaiters.filter((w) => w !== waiter);
      };
      const abort = () => {
        settle();
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      const timer = setTimeout(() => {
        settle();
        reject(new CameraTimeoutError(this.camera.topic, this.camera.type, timeoutMs, this.context));
      }, timeoutMs);
      if (signal?.aborted) return abort();
      signal?.addEventListener('abort', abort, { once: true });
      this.frameWaiters.push(waiter);
    });
  }

  private onFrame(message: unknown): void {
    let encode: () => Promise<Uint8Array>;
    try {
      encode = readImage(message);
    } catch (e) {
      this.onBad(this.camera.topic, (e as Error).message);
      return;
    }
    // Never let an older frame replace a newer one.
    const stamp = stampMs(message);
    const at = stamp ?? Date.now();
    if (this.latest && this.latest.stampMs > at) return;
    this.frames++;
    // A frame that passes the checks can still fail to decode (a corrupt JPEG): then it counts as a
    // bad message and the frame before it stands in, as if the bad one had never arrived.
    // Unlinked as soon as a newer frame arrives, so frames never chain up in memory.
    if (this.latest) this.latest.previous = undefined;
    let png: Promise<Uint8Array> | undefined;
    const frame: Frame = {
      stampMs: at,
      stamped: stamp !== undefined,
      previous: this.latest,
      png: () =>
        (png ??= encode().catch((e: unknown) => {
          this.onBad(this.camera.topic, (e as Error).message);
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

/** header.stamp in ms since the epoch, ROS 1 (secs/nsecs) or ROS 2 (sec/nanosec); undefined if absent. */
export function stampMs(message: unknown): number | undefined {
  const stamp = (message as { header?: { stamp?: { secs?: number; nsecs?: number; sec?: number; nanosec?: number } } })?.header?.stamp;
  if (!stamp) return undefined;
  const sec = stamp.sec ?? stamp.secs;
  const nsec = stamp.nanosec ?? stamp.nsecs ?? 0;
  if (typeof sec !== 'number' || sec <= 0) return undefined;
  return sec * 1000 + nsec / 1e6;
}
