import type { OpId } from './protocol.js';

/**
 * One client's subscription to one topic, after rosbridge's Subscription + subscription_modifiers.
 *
 * A client may subscribe to a topic several times (roslib does, once per Topic object, each with
 * its own id). Like rosbridge, the server sends each message once per client and topic, with the
 * least restrictive settings of all those requests: the lowest throttle_rate, the lowest
 * queue_length, the smallest fragment_size, and the "strongest" compression.
 *
 * Delivery follows rosbridge's three MessageHandlers:
 * - throttle 0, queue 0: send at once;
 * - throttle T, queue 0: send if T ms passed since the last send, else drop;
 * - queue N: keep the newest N (dropping the oldest) and send from the head no faster than the
 *   throttle allows. Here the queue also absorbs a slow client: while its socket buffer is above
 *   the high-water mark the queue holds messages instead of piling them into the socket, so
 *   queue_length bounds how much a slow client buffers and it sees the newest data once it
 *   catches up. Without a queue a stalled client's messages are dropped past `maxBufferedBytes`.
 */

export type EffectiveCompression = 'none' | 'cbor' | 'png';

export interface SubscriptionRequest {
  readonly throttleRate: number;
  readonly queueLength: number;
  readonly fragmentSize: number | undefined;
  readonly compression: EffectiveCompression;
}

export interface SubscriptionTuning {
  /** Clock in ms; injectable for tests. */
  readonly now: () => number;
  /** Bytes the client's socket has not yet written. */
  readonly bufferedAmount: () => number;
  /** Queued delivery pauses above this many buffered bytes. */
  readonly highWaterMark: number;
  /** Unqueued delivery drops above this many buffered bytes. */
  readonly maxBufferedBytes: number;
  /** queue_length is capped here so a request cannot make the server hoard messages. */
  readonly maxQueueLength: number;
}

/** setTimeout's delay is a signed 32-bit int; larger values fire at once (with a warning). */
const MAX_DELAY_MS = 0x7fff_ffff;
/** How often a paused queue looks again at a slow client's socket buffer. */
const BACKPRESSURE_POLL_MS = 5;

const COMPRESSION_RANK: Record<EffectiveCompression, number> = { none: 0, png: 1, cbor: 2 };

export class TopicSubscription<T> {
  private readonly requests = new Map<OpId | undefined, SubscriptionRequest>();
  private effective: SubscriptionRequest = { throttleRate: 0, queueLength: 0, fragmentSize: undefined, compression: 'none' };
  private readonly queue: T[] = [];
  private lastSend = Number.NEGATIVE_INFINITY;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  /** Messages not sent because of throttling, a full queue or a stalled client. */
  dropped = 0;

  constructor(
    private readonly deliver: (item: T, params: SubscriptionRequest) => void,
    private readonly tuning: SubscriptionTuning,
  ) {}

  get params(): SubscriptionRequest {
    return this.effective;
  }

  get size(): number {
    return this.requests.size;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Adds or replaces the request with this id. */
  add(sid: OpId | undefined, request: SubscriptionRequest): void {
    this.requests.set(sid, {
      throttleRate: Math.min(Math.max(0, request.throttleRate), MAX_DELAY_MS),
      queueLength: Math.min(Math.max(0, request.queueLength), this.tuning.maxQueueLength),
      fragmentSize: request.fragmentSize,
      compression: request.compression,
    });
    this.recompute();
  }

  /** Removes one request, or all of them without an id (rosbridge's unsubscribe). Returns whether none is left. */
  remove(sid?: OpId): boolean {
    if (sid === undefined) this.requests.clear();
    else this.requests.delete(sid);
    if (this.requests.size === 0) this.dispose();
    else this.recompute();
    return this.requests.size === 0;
  }

  handle(item: T): void {
    if (this.disposed) return;
    const { throttleRate, queueLength } = this.effective;
    if (queueLength === 0) {
      if (throttleRate > 0 && this.tuning.now() - this.lastSend < throttleRate) {
        this.dropped++;
        return;
      }
      if (this.tuning.bufferedAmount() > this.tuning.maxBufferedBytes) {
        this.dropped++;
        return;
      }
      this.send(item);
      return;
    }
    this.queue.push(item);
    while (this.queue.length > queueLength) {
      this.queue.shift();
      this.dropped++;
    }
    this.drain();
  }

  dispose(): void {
    this.disposed = true;
    this.queue.length = 0;
    this.clearTimer();
  }

  private recompute(): void {
    const all = [...this.requests.values()];
    if (all.length === 0) return;
    const fragments = all.map((r) => r.fragmentSize).filter((f): f is number => f !== undefined);
    this.effective = {
      throttleRate: Math.min(...all.map((r) => r.throttleRate)),
      queueLength: Math.min(...all.map((r) => r.queueLength)),
      fragmentSize: fragments.length > 0 ? Math.min(...fragments) : undefined,
      compression: all.reduce<EffectiveCompression>(
        (best, r) => (COMPRESSION_RANK[r.compression] > COMPRESSION_RANK[best] ? r.compression : best),
        'none',
      ),
    };
    // Like rosbridge's handler transitions: leaving queue mode flushes what the throttle allows.
    while (this.queue.length > this.effective.queueLength && this.queue.length > 0) {
      if (this.effective.queueLength > 0) {
        this.queue.shift();
        this.dropped++;
      } else {
        this.handleUnqueued(this.queue.shift()!);
      }
    }
    this.clearTimer();
    this.drain();
  }

  private handleUnqueued(item: T): void {
    const { throttleRate } = this.effective;
    if (throttleRate > 0 && this.tuning.now() - this.lastSend < throttleRate) {
      this.dropped++;
      return;
    }
    this.send(item);
  }

  private drain(): void {
    if (this.disposed || this.timer !== undefined) return;
    while (this.queue.length > 0) {
      if (this.tuning.bufferedAmount() > this.tuning.highWaterMark) {
        this.schedule(BACKPRESSURE_POLL_MS);
        return;
      }
      const wait = this.lastSend + this.effective.throttleRate - this.tuning.now();
      if (this.effective.throttleRate > 0 && wait > 0) {
        this.schedule(wait);
        return;
      }
      this.send(this.queue.shift()!);
    }
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, Math.min(Math.ceil(ms), MAX_DELAY_MS));
    // Never keep the process alive just to flush a throttled queue.
    this.timer.unref?.();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private send(item: T): void {
    this.lastSend = this.tuning.now();
    this.deliver(item, this.effective);
  }
}
