import { EventEmitter } from 'node:events';
import { Ros } from 'roslib';
import { Rng } from '../util/rng.js';
import { classifyConnectFailure, ConnectError, ConnectTimeoutError, PERMANENT_FAILURES, ReconnectLimitError, type ConnectFailure } from './errors.js';

export { ConnectTimeoutError };

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

type ConnectionEvents = {
  connected: [];
  disconnected: [];
  /** Retry `attempt` (1-based, counted since the last connection) starts in `delayMs`. */
  reconnecting: [attempt: number, delayMs: number, lastFailure: ConnectFailure | undefined];
  /** The connection dropped and `reconnectLimit` retries did not bring it back; the connection is closed. */
  gaveUp: [error: ReconnectLimitError];
};

export interface ConnectionOptions {
  /** Retries after a drop before giving up ('gaveUp'); counted from the last good connection. Default: no limit. */
  reconnectLimit?: number;
  /** One connection attempt that neither opens nor fails within this long is abandoned and retried. */
  attemptTimeoutMs?: number;
}

/**
 * A roslib connection that stays up: after the socket closes it reconnects with backoff until
 * `close()` or the reconnect limit. roslib itself re-sends subscribe/advertise for topics on reconnect
 * and queues publishes made while disconnected; what it lacks is the retry loop, which lives here.
 */
export class RosConnection extends EventEmitter<ConnectionEvents> {
  readonly ros = new Ros({});
  private closing = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private attemptTimer: NodeJS.Timeout | undefined;
  private readonly rng: Rng;
  /** Times the connection came back after a drop. */
  reconnects = 0;
  private everConnected = false;
  /** How the latest attempt failed, from the socket's error. */
  lastFailure: ConnectFailure | undefined;
  /** Set by start(): the first connection's timeout, or ConnectionOptions.attemptTimeoutMs if shorter. */
  private attemptTimeoutMs = 10_000;

  constructor(
    readonly url: string,
    private readonly backoff: BackoffOptions = DEFAULT_BACKOFF,
    private readonly options: ConnectionOptions = {},
  ) {
    super();
    this.rng = new Rng(backoff.seed);
    this.ros.on('connection', () => {
      clearTimeout(this.attemptTimer);
      if (this.everConnected) this.reconnects++;
      this.everConnected = true;
      this.attempt = 0;
      this.lastFailure = undefined;
      this.emit('connected');
    });
    this.ros.on('close', () => {
      clearTimeout(this.attemptTimer);
      this.emit('disconnected');
      this.scheduleReconnect();
    });
    // roslib emits 'error' (ws's ErrorEvent) before 'close': it says which failure it was.
    this.ros.on('error', (e: unknown) => {
      const failure = classifyConnectFailure(e);
      // Our own abandoning of a hung attempt (below) is not news: keep the reason we gave.
      if (!/closed before the connection was established/.test(failure.detail)) this.lastFailure = failure;
    });
  }

  get reconnectLimit(): number {
    return this.options.reconnectLimit ?? Number.POSITIVE_INFINITY;
  }

  get connected(): boolean {
    return this.ros.isConnected;
  }

  /**
   * Connects and resolves once connected. A failure waiting cannot fix (refused, unknown host, an
   * HTTP server, TLS, a bad URL) rejects at once with a ConnectError naming it; others are retried
   * with backoff until `timeoutMs`, then rejected with ConnectTimeoutError and the last failure.
   */
  async start(timeoutMs = 10_000): Promise<this> {
    let onFailure: (() => void) | undefined;
    const up = new Promise<void>((resolve, reject) => {
      if (this.ros.isConnected) return resolve();
      this.ros.once('connection', () => resolve());
      onFailure = () => {
        const failure = this.lastFailure;
        if (failure && PERMANENT_FAILURES.has(failure.kind)) reject(new ConnectError(this.url, failure));
      };
      this.on('reconnecting', onFailure);
    });
    this.attemptTimeoutMs = Math.min(this.options.attemptTimeoutMs ?? timeoutMs, timeoutMs);
    this.open();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectTimeoutError(this.url, timeoutMs, this.lastFailure)), timeoutMs);
    });
    try {
      await Promise.race([up, timeout]);
    } catch (e) {
      this.close();
      throw e;
    } finally {
      clearTimeout(timer);
      if (onFailure) this.off('reconnecting', onFailure);
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
    clearTimeout(this.attemptTimer);
    this.ros.close();
  }

  private open(): void {
    this.ros.connect(this.url).catch((e: unknown) => {
      // ws throws at once for a URL it cannot open: no socket, so no 'close' to retry from.
      this.lastFailure = classifyConnectFailure(e);
      this.scheduleReconnect();
    });
    // A SYN nobody answers can take minutes to fail: give the attempt up and count it.
    clearTimeout(this.attemptTimer);
    this.attemptTimer = setTimeout(() => {
      if (!this.ros.isConnected && !this.closing) {
        this.lastFailure = { kind: 'unreachable', detail: `no answer within ${this.attemptTimeoutMs} ms` };
        this.ros.close();
      }
    }, this.attemptTimeoutMs);
  }

  private scheduleReconnect(): void {
    if (this.closing || this.timer !== undefined) return;
    if (this.everConnected && this.attempt >= this.reconnectLimit) {
      const error = new ReconnectLimitError(this.url, this.attempt, this.lastFailure);
      this.close();
      this.emit('gaveUp', error);
      return;
    }
    const delay = backoffDelay(this.attempt++, this.backoff, this.rng);
    this.emit('reconnecting', this.attempt, delay, this.lastFailure);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closing) this.open();
    }, delay);
  }
}
