import { EventEmitter } from 'node:events';
import { Ros } from 'roslib';
import { Rng } from '../util/rng.js';

export interface BackoffOptions {
  /** First retry delay. */
  initialMs: number;
  /** Longest delay between retries. */
  maxMs: number;
  factor: number;
  /** Share of each delay that is randomised (0..1), so many clients do not retry in lockstep. */
  jitter: number;
  /** Seed of the jitter, like every random choice in keystep. */
  seed: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 5000, factor: 2, jitter: 0.2, seed: 0 };

/** The delay before retry number `attempt` (0-based): exponential, capped, jittered. */
export function backoffDelay(attempt: number, options: BackoffOptions, rng: Rng): number {
  const base = Math.min(options.maxMs, options.initialMs * options.factor ** attempt);
  return Math.round(base * (1 - options.jitter + 2 * options.jitter * rng.float()));
}

export class ConnectTimeoutError extends Error {
  override readonly name = 'ConnectTimeoutError' as const;
  constructor(readonly url: string, readonly timeoutMs: number) {
    super(`could not connect to rosbridge at ${url} within ${timeoutMs} ms; is rosbridge_server (or keystep sim) running there?`);
  }
}

type ConnectionEvents = {
  connected: [];
  disconnected: [];
  reconnecting: [attempt: number, delayMs: number];
};

/**
 * A roslib connection that stays up: after the socket closes it reconnects with backoff until
 * `close()`. roslib itself re-sends subscribe/advertise for topics on reconnect (reconnect_on_close)
 * and queues publishes made while disconnected; what it lacks is the retry loop, which lives here.
 */
export class RosConnection extends EventEmitter<ConnectionEvents> {
  readonly ros = new Ros({});
  private closing = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly rng: Rng;
  /** Times the connection came back after a drop. */
  reconnects = 0;
  private everConnected = false;

  constructor(
    readonly url: string,
    private readonly backoff: BackoffOptions = DEFAULT_BACKOFF,
  ) {
    super();
    this.rng = new Rng(backoff.seed);
    this.ros.on('connection', () => {
      if (this.everConnected) this.reconnects++;
      this.everConnected = true;
      this.attempt = 0;
      this.emit('connected');
    });
    this.ros.on('close', () => {
      this.emit('disconnected');
      this.scheduleReconnect();
    });
    // roslib emits 'error' before 'close'; without a listener EventEmitter would throw.
    this.ros.on('error', () => undefined);
  }

  get connected(): boolean {
    return this.ros.isConnected;
  }

  /** Connects, retrying with backoff, and resolves once connected (or rejects after `timeoutMs`). */
  async start(timeoutMs = 10_000): Promise<this> {
    const up = new Promise<void>((resolve) => {
      if (this.ros.isConnected) resolve();
      else this.ros.once('connection', () => resolve());
    });
    this.open();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectTimeoutError(this.url, timeoutMs)), timeoutMs);
    });
    try {
      await Promise.race([up, timeout]);
    } catch (e) {
      this.close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return this;
  }

  /** Resolves on the next (re)connection, or at once when connected. */
  waitConnected(): Promise<void> {
    if (this.ros.isConnected) return Promise.resolve();
    return new Promise((resolve) => this.ros.once('connection', () => resolve()));
  }

  close(): void {
    this.closing = true;
    clearTimeout(this.timer);
    this.ros.close();
  }

  private open(): void {
    this.ros.connect(this.url).catch(() => this.scheduleReconnect());
  }

  private scheduleReconnect(): void {
    if (this.closing || this.timer !== undefined) return;
    const delay = backoffDelay(this.attempt++, this.backoff, this.rng);
    this.emit('reconnecting', this.attempt, delay);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closing) this.open();
    }, delay);
  }
}
