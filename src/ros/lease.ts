import { EventEmitter } from 'node:events';
import { Topic } from 'roslib';
import { LeaseRequest, LeaseState, leaseTopics, type RobotProfile } from '../schema/index.js';
import type { RosConnection } from './connection.js';
import { LeaseRefusedError, LeaseUnansweredError } from './errors.js';
import { StringMsg } from './messages.js';

export interface LeaseOptions {
  /** How long a grant holds on the robot without renewal; renewed three times per ttl. */
  ttlMs?: number;
  /** How long to wait for the robot's answer to the first request. */
  answerTimeoutMs?: number;
  /** How often an unanswered request is sent again (a ROS 1 subscriber may miss the first ones). */
  retryMs?: number;
}

export const DEFAULT_LEASE: Required<LeaseOptions> = { ttlMs: 10_000, answerTimeoutMs: 3000, retryMs: 250 };

type LeaseEvents = {
  /** The robot refused a renewal: another run holds it now (ours expired, e.g. over a long drop). */
  lost: [holder: string | null];
};

/**
 * keystep's side of the robot lease (schema/lease.ts): takes it before a run moves anything, renews it
 * while the run lasts (and at once after a reconnect), hands it back at the end. The robot keeps it;
 * this class only asks and listens.
 */
export class RobotLease extends EventEmitter<LeaseEvents> {
  private readonly request: Topic<{ data: string }>;
  private readonly state: Topic<unknown>;
  private readonly options: Required<LeaseOptions>;
  private seq = 0;
  private readonly answers = new Map<number, (s: LeaseState) => void>();
  private renewTimer: NodeJS.Timeout | undefined;
  private held = false;
  private readonly renewNow = () => {
    if (this.held) this.send('acquire');
  };

  constructor(
    private readonly connection: RosConnection,
    profile: RobotProfile,
    readonly runId: string,
    options: LeaseOptions = {},
  ) {
    super();
    this.options = { ...DEFAULT_LEASE, ...options };
    const topics = leaseTopics(profile.ros);
    this.leaseTopics = topics;
    this.topics = { request: topics.request.name, state: topics.state.name };
    this.request = new Topic({ ros: connection.ros, name: topics.request.name, messageType: topics.request.type });
    this.state = new Topic({ ros: connection.ros, name: topics.state.name, messageType: topics.state.type, queue_length: 10 });
    this.request.advertise();
    this.state.subscribe((m) => this.onState(m));
  }

  readonly topics: { request: string; state: string };
  private readonly leaseTopics: ReturnType<typeof leaseTopics>;

  /**
   * Takes the lease or throws: LeaseRefusedError naming the holder, LeaseUnansweredError when the
   * robot does not answer. Once held, it is renewed until `release()`.
   */
  async acquire(signal?: AbortSignal): Promise<void> {
    const answer = await this.ask('acquire', signal);
    // Stopped before the robot answered: the run is being aborted and will move nothing.
    if (answer === undefined && signal?.aborted) return;
    if (answer === undefined) throw new LeaseUnansweredError(this.leaseTopics.request, this.leaseTopics.state, this.options.answerTimeoutMs);
    if (!answer.answer?.granted) throw new LeaseRefusedError(this.runId, answer.holder ?? '?', answer.expiresInMs);
    this.held = true;
    this.renewTimer = setInterval(this.renewNow, Math.max(100, Math.floor(this.options.ttlMs / 3)));
    this.connection.on('connected', this.renewNow);
  }

  /** Who holds the robot now, without taking it; undefined when the robot does not answer. */
  query(signal?: AbortSignal): Promise<LeaseState | undefined> {
    return this.ask('query', signal);
  }

  /** Hands the lease back (waits briefly for the robot's answer) and stops listening. */
  async release(): Promise<void> {
    const wasHeld = this.held;
    this.held = false;
    clearInterval(this.renewTimer);
    this.connection.off('connected', this.renewNow);
    if (wasHeld && this.connection.connected) await this.ask('release', undefined, 1000);
    this.close();
  }

  close(): void {
    this.held = false;
    clearInterval(this.renewTimer);
    this.connection.off('connected', this.renewNow);
    this.state.unsubscribe();
    this.request.unadvertise();
  }

  /** Sends a request again every retryMs until the robot answers it or `timeoutMs` passes. */
  private ask(kind: LeaseRequest['kind'], signal?: AbortSignal, timeoutMs = this.options.answerTimeoutMs): Promise<LeaseState | undefined> {
    return new Promise((resolve) => {
      const sent: number[] = [];
      const finish = (s: LeaseState | undefined) => {
        clearInterval(retry);
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
        sent.forEach((seq) => this.answers.delete(seq));
        resolve(s);
      };
      const abort = () => finish(undefined);
      const again = () => {
        const seq = this.send(kind);
        sent.push(seq);
        this.answers.set(seq, finish);
      };
      const retry = setInterval(again, this.options.retryMs);
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      if (signal?.aborted) return abort();
      signal?.addEventListener('abort', abort, { once: true });
      again();
    });
  }

  private send(kind: LeaseRequest['kind']): number {
    const seq = this.seq++;
    const request: LeaseRequest = { kind, runId: this.runId, seq, ...(kind === 'acquire' ? { ttlMs: this.options.ttlMs } : {}) };
    this.request.publish({ data: JSON.stringify(request) });
    return seq;
  }

  private onState(message: unknown): void {
    const outer = StringMsg.safeParse(message);
    if (!outer.success) return;
    let parsed: ReturnType<typeof LeaseState.safeParse>;
    try {
      parsed = LeaseState.safeParse(JSON.parse(outer.data.data));
    } catch {
      return;
    }
    if (!parsed.success) return;
    const state = parsed.data;
    // Every executor hears every answer: only ours count.
    if (state.answer?.runId !== this.runId) return;
    const waiter = this.answers.get(state.answer.seq);
    if (waiter) return waiter(state);
    if (this.held && state.answer.kind === 'acquire' && !state.answer.granted) {
      this.held = false;
      clearInterval(this.renewTimer);
      this.emit('lost', state.holder);
    }
  }
}
