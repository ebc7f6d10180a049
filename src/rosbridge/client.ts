import { encodeJson, newCborDecoder, type CborDecoder } from './codec.js';
import { FragmentAssembler, splitFragments, type FragmentLimits } from './fragments.js';
import type { OutgoingMessage } from './outgoing.js';
import type { OpId, OutgoingOp, StatusLevelSetting, StatusOut } from './protocol.js';
import type { SubscriptionRequest, TopicSubscription } from './subscription.js';

/**
 * One connected client: its socket, its status level and everything it registered, so that a
 * disconnect can undo exactly what this client did and nothing of anyone else's.
 */

/** The transport the server needs; `ws` is one implementation (see listen.ts), tests can bring others. */
export interface RosbridgeSocket {
  /** A string goes out as a text frame, bytes as a binary frame. */
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  on<E extends keyof RosbridgeSocketEvents>(event: E, listener: RosbridgeSocketEvents[E]): void;
  /** Bytes queued but not yet written; enables backpressure. Absent means "never behind". */
  readonly bufferedAmount?: number;
}

export interface RosbridgeSocketEvents {
  /** A text frame arrives as a string, a binary frame as bytes. */
  message: (data: string | Uint8Array) => void;
  close: () => void;
}

/** Counters shared by all sessions of one server. */
export interface TrafficCounters {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  statusErrors: number;
  statusWarnings: number;
  droppedMessages: number;
}

const LEVEL_RANK: Record<StatusLevelSetting, number> = { info: 0, warning: 1, error: 2, none: 3 };

export interface ClientSubscription {
  /** Resolved topic name in the graph. */
  readonly topic: string;
  readonly sinkId: string;
  readonly queue: TopicSubscription<OutgoingMessage>;
}

export class ClientSession {
  /** Spec 3.2: rosbridge reports errors only until told otherwise. */
  level: StatusLevelSetting;
  closed = false;
  /** Keyed by the topic name as this client wrote it: replies must echo that spelling. */
  readonly subscriptions = new Map<string, ClientSubscription>();
  /** Resolved topic → advertise ids still open (undefined for an advertise without id). */
  readonly advertisements = new Map<string, Set<OpId | undefined>>();
  /** Topics this client published on without advertising first (rosbridge registers it implicitly). */
  readonly implicitPublishers = new Set<string>();
  readonly fragments: FragmentAssembler;
  /** Per connection: cbor-x remembers record definitions between frames. */
  readonly cbor: CborDecoder = newCborDecoder();
  private nextFragmentId = 0;

  constructor(
    readonly id: string,
    readonly name: string,
    private readonly socket: RosbridgeSocket,
    private readonly counters: TrafficCounters,
    fragmentLimits: FragmentLimits,
    now: () => number,
    defaultLevel: StatusLevelSetting,
    private readonly maxFragmentsPerMessage: number,
    private readonly onStatus: (client: ClientSession, status: StatusOut, sent: boolean) => void,
    private readonly onSendError: (client: ClientSession, err: unknown) => void,
  ) {
    this.level = defaultLevel;
    this.fragments = new FragmentAssembler(fragmentLimits, now);
  }

  /** The graph identity of this client as a publisher. */
  get publisherId(): string {
    return `client:${this.id}`;
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount ?? 0;
  }

  /** Never throws: sends happen from timers and other clients' turns, where a throw would crash. */
  send(data: string | Uint8Array): void {
    if (this.closed) return;
    this.counters.framesOut++;
    this.counters.bytesOut += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    try {
      this.socket.send(data);
    } catch (err) {
      this.onSendError(this, err);
    }
  }

  /** Sends an op as JSON, cut into fragments when longer than `fragmentSize`. */
  sendOp(op: OutgoingOp, fragmentSize?: number): void {
    this.sendJson(encodeJson(op), fragmentSize);
  }

  sendJson(text: string, fragmentSize?: number): void {
    if (fragmentSize === undefined || text.length <= fragmentSize) {
      this.send(text);
      return;
    }
    // roslib drops fragments whose id is falsy, so never use rosbridge's numeric seed 0.
    const id = `fragment:${this.id}:${++this.nextFragmentId}`;
    for (const fragment of splitFragments(text, fragmentSize, id, this.maxFragmentsPerMessage)) this.send(encodeJson(fragment));
  }

  /** One topic message in the wire form this client's subscription asked for. */
  sendPublish(topic: string, message: OutgoingMessage, params: SubscriptionRequest): void {
    switch (params.compression) {
      case 'cbor':
        // rosbridge never fragments CBOR: it is one binary frame.
        this.send(message.cbor(topic));
        return;
      case 'png':
        this.sendOp({ op: 'png', data: message.png(topic) }, params.fragmentSize);
        return;
      case 'none':
        this.sendJson(message.json(topic), params.fragmentSize);
        return;
    }
  }

  status(level: StatusOut['level'], msg: string, id?: OpId): void {
    if (level === 'error') this.counters.statusErrors++;
    if (level === 'warning') this.counters.statusWarnings++;
    const status: StatusOut = id === undefined ? { op: 'status', level, msg } : { op: 'status', level, msg, id };
    const sent = !this.closed && this.level !== 'none' && LEVEL_RANK[level] >= LEVEL_RANK[this.level];
    if (sent) this.sendOp(status);
    this.onStatus(this, status, sent);
  }

  close(code?: number, reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.socket.close(code, reason);
    } catch {
      // Already gone; nothing left to tell it.
    }
  }
}
