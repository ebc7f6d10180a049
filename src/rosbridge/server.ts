import { EventEmitter } from 'node:events';
import { ClientSession, type RosbridgeSocket, type TrafficCounters } from './client.js';
import { decodeCbor, decodeJson } from './codec.js';
import { errorText, InvalidArgumentError, InvalidTypeStringError, ProtocolStateError, RosbridgeError, ServiceFailedError, ServiceNotFoundError } from './errors.js';
import { DEFAULT_FRAGMENT_LIMITS, type FragmentLimits } from './fragments.js';
import { parseTypeName, type RosTypeName } from './message-types.js';
import { resolveName } from './names.js';
import type { OutgoingMessage } from './outgoing.js';
import {
  parseIncoming,
  STATUS_LEVELS,
  type IncomingOp,
  type Op,
  type OpId,
  type OpMessage,
  type StatusLevelSetting,
  type StatusOut,
} from './protocol.js';
import { ServiceRegistry, type ServiceCallMeta, type ServiceInfo } from './services.js';
import { TopicSubscription, type EffectiveCompression, type SubscriptionTuning } from './subscription.js';
import { TopicGraph, type TopicInfo, type TopicSink } from './topics.js';

/**
 * A rosbridge v2 server, protocol only: it does not own a listener. Hand it connected sockets with
 * {@link RosbridgeServer.handleConnection} (see listen.ts for `ws`), and use its in-process API to
 * publish, subscribe and serve as the robot side of the bridge.
 *
 * Clients get rosbridge_server's behaviour and wording. Every client frame is handled inside a
 * guard: a bad frame costs its sender a `status` reply and never reaches another client or throws
 * out of the server.
 */

export interface RosbridgeServerOptions {
  /** Incomplete incoming fragmented messages expire after this long idle (rosbridge: 600 s). */
  readonly fragmentTimeoutMs?: number;
  readonly fragmentLimits?: Partial<Omit<FragmentLimits, 'timeoutMs'>>;
  /** A fragment_size this small would flood the client; messages never split into more frames. */
  readonly maxFragmentsPerMessage?: number;
  /** Queued subscriptions pause while a client has more than this many bytes unsent. */
  readonly highWaterMarkBytes?: number;
  /** Unqueued subscriptions drop messages while a client has more than this many bytes unsent. */
  readonly maxBufferedBytes?: number;
  readonly maxQueueLength?: number;
  /** Timeout for service calls that do not bring their own; 0 waits forever, like rosbridge. */
  readonly serviceTimeoutMs?: number;
  /** Status level of new connections (spec: error). */
  readonly defaultStatusLevel?: StatusLevelSetting;
  /** Monotonic clock in ms, for throttling and fragment expiry. */
  readonly now?: () => number;
  /**
   * 1: refuse ROS 2 type spellings (`pkg/msg/Name`) from clients, as rosbridge_server on ROS 1 does
   * ("not a valid type string"; nothing is advertised, subscribed or delivered). Default: accept both.
   */
  readonly rosVersion?: 1 | 2;
  /**
   * false: send no `status` frames at all, as the real rosbridge_server (which only logs; a missing
   * service still gets its failed service_response). They are still emitted as 'status' events.
   */
  readonly statusMessages?: boolean;
}

export interface ClientInfo {
  readonly id: string;
  readonly name: string;
}

export interface StatusEvent {
  readonly client: ClientInfo;
  readonly status: StatusOut;
  /** False when the client's status level filtered it out. */
  readonly sent: boolean;
}

export interface RosbridgeServerEvents {
  connection: [client: ClientInfo];
  disconnection: [client: ClientInfo];
  /** Every status the server produced for a client, sent or filtered: the server's log. */
  status: [event: StatusEvent];
  /** A bug, or an in-process topic handler that threw; the server carried on. */
  internalError: [error: unknown, context: string];
}

export interface RosbridgeStats {
  readonly clients: number;
  readonly framesIn: number;
  readonly framesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Status messages of level error produced (sent or filtered). */
  readonly errors: number;
  readonly warnings: number;
  readonly internalErrors: number;
  /** Messages a subscription did not send: throttled, pushed out of its queue, or client stalled. */
  readonly droppedMessages: number;
  readonly topics: number;
  readonly services: number;
  readonly pendingServiceCalls: number;
  readonly pendingFragmentedMessages: number;
}

export interface Publisher<T> {
  readonly topic: string;
  readonly type: string;
  /** Clients and in-process handlers listening now; lets a camera skip rendering for nobody. */
  subscriberCount(): number;
  /**
   * Throws {@link MessageFieldError} if `msg` does not fit a known type. A no-op once
   * unadvertised. Byte arrays are not copied: do not reuse them for the next frame, since a
   * throttled subscriber may still hold this one.
   */
  publish(msg: T): void;
  unadvertise(): void;
}

export interface MessageMeta {
  /** `client:<id>` or `server:<n>`. */
  readonly publisher: string;
}

export interface LocalSubscription {
  unsubscribe(): void;
}

export interface LocalService {
  unadvertise(): void;
}

type Handlers = { [K in Op]: (client: ClientSession, msg: OpMessage<K>) => void };

/** Guards against fragments of fragments of ... */
const MAX_FRAME_DEPTH = 2;

function compressionOf(value: string | undefined, warn: (msg: string) => void): EffectiveCompression {
  switch (value) {
    case undefined:
    case 'none':
      return 'none';
    case 'cbor':
      return 'cbor';
    case 'cbor-raw':
      // cbor-raw needs ROS's own serialisation, which a bridge without ROS cannot produce.
      warn('Compression cbor-raw is not supported by this bridge; sending cbor instead');
      return 'cbor';
    case 'png':
      return 'png';
    default:
      warn(`Unknown compression ${value}; sending uncompressed`);
      return 'none';
  }
}

export class RosbridgeServer extends EventEmitter<RosbridgeServerEvents> {
  private readonly clients = new Map<string, ClientSession>();
  private readonly graph: TopicGraph;
  private readonly registry: ServiceRegistry;
  private readonly counters: TrafficCounters = {
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    statusErrors: 0,
    statusWarnings: 0,
    droppedMessages: 0,
  };
  private internalErrors = 0;
  private nextClient = 0;
  private nextLocal = 0;
  private closed = false;
  private readonly closeHooks: Array<() => void | Promise<void>> = [];
  private readonly sweeper: ReturnType<typeof setInterval>;
  private readonly fragmentLimits: FragmentLimits;
  private readonly tuning: Omit<SubscriptionTuning, 'bufferedAmount'>;
  private readonly now: () => number;

  constructor(private readonly options: RosbridgeServerOptions = {}) {
    super();
    this.now = options.now ?? (() => performance.now());
    this.fragmentLimits = { ...DEFAULT_FRAGMENT_LIMITS, ...options.fragmentLimits };
    if (options.fragmentTimeoutMs !== undefined) this.fragmentLimits = { ...this.fragmentLimits, timeoutMs: options.fragmentTimeoutMs };
    this.tuning = {
      now: this.now,
      highWaterMark: options.highWaterMarkBytes ?? 1024 * 1024,
      maxBufferedBytes: options.maxBufferedBytes ?? 16 * 1024 * 1024,
      maxQueueLength: options.maxQueueLength ?? 1000,
    };
    this.graph = new TopicGraph((sink, err) => this.internalError(err, `delivering to ${sink.id}`));
    this.registry = new ServiceRegistry((service, err) => this.internalError(err, `service handler ${service}`));
    const sweepEvery = Math.max(10, Math.min(5_000, Math.floor(this.fragmentLimits.timeoutMs / 4)));
    this.sweeper = setInterval(() => this.guard('fragment sweep', () => this.sweepFragments()), sweepEvery);
    this.sweeper.unref();
  }

  // -------------------------------------------------------------------------------------------
  // Connections

  /** Takes over a connected socket. `name` labels it in events (e.g. the remote address). */
  handleConnection(socket: RosbridgeSocket, name = 'client'): ClientInfo {
    const id = String(++this.nextClient);
    const info: ClientInfo = { id, name };
    if (this.closed) {
      socket.close(1001, 'rosbridge server is closed');
      return info;
    }
    const client = new ClientSession(
      id,
      name,
      socket,
      this.counters,
      this.fragmentLimits,
      this.now,
      this.options.statusMessages === false ? 'none' : (this.options.defaultStatusLevel ?? 'error'),
      this.options.maxFragmentsPerMessage ?? 10_000,
      (c, status, sent) => this.emitSafely('status', { client: { id: c.id, name: c.name }, status, sent }),
      (c, err) => this.internalError(err, `sending to client ${c.id}`),
    );
    this.clients.set(id, client);
    socket.on('message', (data) => this.guard(`frame from client ${id}`, () => this.onFrame(client, data, 0)));
    socket.on('close', () => this.guard(`close of client ${id}`, () => this.disconnect(client)));
    this.emitSafely('connection', info);
    return info;
  }

  private disconnect(client: ClientSession): void {
    if (!this.clients.delete(client.id)) return;
    client.closed = true;
    for (const sub of client.subscriptions.values()) this.dropSubscription(sub.topic, sub.sinkId, sub.queue);
    client.subscriptions.clear();
    for (const topic of new Set([...client.advertisements.keys(), ...client.implicitPublishers])) {
      this.graph.removePublisher(topic, client.publisherId);
    }
    client.advertisements.clear();
    client.implicitPublishers.clear();
    this.registry.removeClient(client.id);
    client.fragments.clear();
    this.emitSafely('disconnection', { id: client.id, name: client.name });
  }

  // -------------------------------------------------------------------------------------------
  // Incoming frames

  private onFrame(client: ClientSession, data: string | Uint8Array, depth: number): void {
    if (client.closed) return;
    if (depth === 0) {
      this.counters.framesIn++;
      this.counters.bytesIn += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    }
    const decoded = typeof data === 'string' ? decodeJson(data) : decodeCbor(client.cbor, data);
    if (!decoded.ok) {
      const what = typeof data === 'string' ? `message from client: ${preview(data)}` : `CBOR message from client (${data.byteLength} bytes)`;
      client.status('error', `Unable to deserialize ${what}. Exception was: ${decoded.error}`);
      return;
    }
    const parsed = parseIncoming(decoded.value, () => (typeof data === 'string' ? data : `<${data.byteLength} bytes of CBOR>`));
    if (!parsed.ok) {
      client.status('error', parsed.message, parsed.id);
      return;
    }
    this.dispatch(client, parsed.op, depth);
  }

  private dispatch(client: ClientSession, msg: IncomingOp, depth: number): void {
    const outer = this.frameDepth;
    this.frameDepth = depth;
    try {
      (this.handlers[msg.op] as (client: ClientSession, msg: IncomingOp) => void)(client, msg);
    } catch (err) {
      if (err instanceof RosbridgeError) {
        client.status(err.level, `${msg.op}: ${err.message}`, msg.id);
      } else {
        this.internalError(err, `${msg.op} from client ${client.id}`);
        client.status('error', `${msg.op}: ${errorText(err)}`, msg.id);
      }
    } finally {
      this.frameDepth = outer;
    }
  }

  /** Depth of the frame being dispatched: a reassembled fragment is handled one level down. */
  private frameDepth = 0;

  /** The op table: adding an op to protocol.ts without a handler here does not compile. */
  private readonly handlers: Handlers = {
    advertise: (c, m) => this.onAdvertise(c, m),
    unadvertise: (c, m) => this.onUnadvertise(c, m),
    publish: (c, m) => this.onPublish(c, m),
    subscribe: (c, m) => this.onSubscribe(c, m),
    unsubscribe: (c, m) => this.onUnsubscribe(c, m),
    call_service: (c, m) => this.onCallService(c, m),
    advertise_service: (c, m) => this.onAdvertiseService(c, m),
    unadvertise_service: (c, m) => this.onUnadvertiseService(c, m),
    service_response: (c, m) => this.onServiceResponse(c, m),
    fragment: (c, m) => this.onFragment(c, m),
    // Clients have no business sending status; it is accepted (it is a valid op) and ignored.
    status: () => undefined,
    set_level: (c, m) => {
      if (this.options.statusMessages === false) return;
      // Spec 3.2.1: "If a bad string is specified, the message is dropped."
      if ((STATUS_LEVELS as readonly string[]).includes(m.level)) c.level = m.level as StatusLevelSetting;
    },
  };

  /** A type string from a client, refused in a ROS 2 spelling when this server plays ROS 1. */
  private clientType(type: string, kind: 'msg' | 'srv' = 'msg'): RosTypeName {
    const parsed = parseTypeName(type, kind);
    if (this.options.rosVersion === 1 && type.split('/').filter((p) => p.length > 0).length === 3) throw new InvalidTypeStringError(type);
    return parsed;
  }

  private onAdvertise(client: ClientSession, m: OpMessage<'advertise'>): void {
    const topic = resolveName('topic', m.topic);
    const type = this.clientType(m.type);
    this.graph.addPublisher(topic, type, client.publisherId, m.latch ?? false);
    let ids = client.advertisements.get(topic);
    if (ids === undefined) client.advertisements.set(topic, (ids = new Set()));
    ids.add(m.id);
  }

  private onUnadvertise(client: ClientSession, m: OpMessage<'unadvertise'>): void {
    const topic = resolveName('topic', m.topic);
    const ids = client.advertisements.get(topic);
    if (ids === undefined) {
      throw new ProtocolStateError(`Topic ${m.topic} is not advertised by this client`, 'warning');
    }
    if (m.id === undefined) ids.clear();
    else ids.delete(m.id);
    if (ids.size > 0) return;
    client.advertisements.delete(topic);
    client.implicitPublishers.delete(topic);
    this.graph.removePublisher(topic, client.publisherId);
  }

  private onPublish(client: ClientSession, m: OpMessage<'publish'>): void {
    const topic = resolveName('topic', m.topic);
    const type = m.type === undefined ? undefined : this.clientType(m.type);
    this.graph.checkType(topic, type);
    // Check the message before registering anything: a refused publish leaves no trace.
    const msg = this.graph.normalise(topic, m.msg ?? {}, type);
    if (!this.graph.isPublisher(topic, client.publisherId)) {
      this.graph.addPublisher(topic, type, client.publisherId, false);
      client.implicitPublishers.add(topic);
    }
    this.graph.publishNormalised(topic, client.publisherId, msg, m.latch ?? false);
  }

  private onSubscribe(client: ClientSession, m: OpMessage<'subscribe'>): void {
    const topic = resolveName('topic', m.topic);
    const type = m.type === undefined ? undefined : this.clientType(m.type);
    if (m.fragment_size !== undefined && m.fragment_size < 1) {
      throw new InvalidArgumentError(`Expected field fragment_size to be a positive int. Invalid value: ${m.fragment_size}`);
    }
    const compression = compressionOf(m.compression, (msg) => client.status('warning', msg, m.id));
    const request = {
      throttleRate: m.throttle_rate ?? 0,
      queueLength: m.queue_length ?? 0,
      fragmentSize: m.fragment_size,
      compression,
    };
    const existing = client.subscriptions.get(m.topic);
    if (existing !== undefined) {
      this.graph.checkType(topic, type);
      existing.queue.add(m.id, request);
    } else {
      const given = m.topic;
      const queue = new TopicSubscription<OutgoingMessage>((message, params) => {
        try {
          client.sendPublish(given, message, params);
        } catch (err) {
          // rosbridge: "Unable to serialize message". The subscriber is told; the publisher already moved on.
          this.internalError(err, `encoding ${given} for client ${client.id}`);
          client.status('error', `Unable to serialize message on topic ${given}: ${errorText(err)}`);
        }
      }, { ...this.tuning, bufferedAmount: () => client.bufferedAmount });
      queue.add(m.id, request);
      const sinkId = `client:${client.id}:${given}`;
      const sink: TopicSink = { id: sinkId, kind: 'client', deliver: (message) => queue.handle(message) };
      client.subscriptions.set(given, { topic, sinkId, queue });
      try {
        this.graph.addSink(topic, type, sink);
      } catch (err) {
        client.subscriptions.delete(given);
        queue.dispose();
        throw err;
      }
    }
    client.status('info', `Subscribed to ${m.topic}`, m.id);
  }

  private onUnsubscribe(client: ClientSession, m: OpMessage<'unsubscribe'>): void {
    const sub = client.subscriptions.get(m.topic);
    if (sub === undefined) throw new ProtocolStateError(`Topic ${m.topic} is not subscribed by this client`, 'warning');
    const before = sub.queue.dropped;
    if (sub.queue.remove(m.id)) {
      this.counters.droppedMessages += before;
      this.graph.removeSink(sub.topic, sub.sinkId);
      client.subscriptions.delete(m.topic);
    }
    client.status('info', `Unsubscribed from ${m.topic}`, m.id);
  }

  private dropSubscription(topic: string, sinkId: string, queue: TopicSubscription<OutgoingMessage>): void {
    this.counters.droppedMessages += queue.dropped;
    queue.dispose();
    this.graph.removeSink(topic, sinkId);
  }

  private onCallService(client: ClientSession, m: OpMessage<'call_service'>): void {
    const service = resolveName('service', m.service);
    const fragmentSize = typeof m.fragment_size === 'number' && m.fragment_size > 0 ? m.fragment_size : undefined;
    const respond = (result: boolean, values: unknown) => {
      if (client.closed) return;
      if (!result) client.status('error', `call_service ${m.service}: ${errorText(values)}`, m.id);
      const response = { op: 'service_response' as const, service: m.service, values, result, ...(m.id === undefined ? {} : { id: m.id }) };
      try {
        client.sendOp(response, fragmentSize);
      } catch (err) {
        this.internalError(err, `encoding service_response for ${m.service}`);
        client.sendOp({ ...response, values: `Unable to serialize service response: ${errorText(err)}`, result: false }, fragmentSize);
      }
    };
    const timeoutMs = m.timeout !== undefined && m.timeout > 0 ? m.timeout * 1000 : (this.options.serviceTimeoutMs ?? 0);
    try {
      this.registry.call(service, m.service, m.args, client.id, respond, timeoutMs);
    } catch (err) {
      if (!(err instanceof ServiceNotFoundError)) throw err;
      // rosbridge answers a call to nowhere twice: an error status and a failed service_response.
      client.status('error', `call_service ${err.name}: ${err.message}`, m.id);
      client.sendOp({ op: 'service_response', service: m.service, values: err.message, result: false, ...(m.id === undefined ? {} : { id: m.id }) }, fragmentSize);
    }
  }

  private onAdvertiseService(client: ClientSession, m: OpMessage<'advertise_service'>): void {
    const service = resolveName('service', m.service);
    const type = this.clientType(m.type, 'srv');
    const replaced = this.registry.advertise(service, type, {
      kind: 'client',
      clientId: client.id,
      advertisedAs: m.service,
      send: (op) => client.sendOp(op),
    });
    if (replaced) client.status('warning', `Duplicate service advertised. Overwriting ${m.service}.`, m.id);
    client.status('info', `Advertised service ${m.service}`, m.id);
  }

  private onUnadvertiseService(client: ClientSession, m: OpMessage<'unadvertise_service'>): void {
    const service = resolveName('service', m.service);
    if (!this.registry.unadvertise(service, client.id)) {
      throw new ProtocolStateError(`Service ${m.service} has not been advertised via rosbridge, can't unadvertise.`);
    }
    client.status('info', `Unadvertised service ${m.service}`, m.id);
  }

  private onServiceResponse(client: ClientSession, m: OpMessage<'service_response'>): void {
    this.registry.respond(client.id, m.service, m.id, m.result, m.values);
  }

  private onFragment(client: ClientSession, m: OpMessage<'fragment'>): void {
    for (const warning of client.fragments.expire()) client.status('warning', warning);
    const result = client.fragments.add(m);
    if (result.kind === 'rejected') throw new ProtocolStateError(result.message);
    if (result.kind === 'complete') {
      if (this.frameDepth >= MAX_FRAME_DEPTH) throw new ProtocolStateError(`reconstructed message ${m.id} is itself fragmented too deeply`);
      this.onFrame(client, result.text, this.frameDepth + 1);
    }
  }

  private sweepFragments(): void {
    for (const client of this.clients.values()) {
      if (client.fragments.pendingMessages === 0) continue;
      for (const warning of client.fragments.expire()) client.status('warning', warning);
    }
  }

  // -------------------------------------------------------------------------------------------
  // In-process API (the robot side)

  /**
   * Advertises a topic from the server itself. Throws {@link TypeConflictError} if the topic has
   * another type, {@link InvalidTypeStringError} / {@link InvalidNameError} for bad names.
   * A latched topic hands its last message to every later subscriber.
   */
  advertise<T = unknown>(topic: string, type: string, options: { latch?: boolean } = {}): Publisher<T> {
    this.assertOpen();
    const resolved = resolveName('topic', topic);
    const typeName = parseTypeName(type);
    const publisherId = `server:${++this.nextLocal}`;
    this.graph.addPublisher(resolved, typeName, publisherId, options.latch ?? false);
    let active = true;
    return {
      topic: resolved,
      type,
      subscriberCount: () => this.graph.info(resolved)?.subscribers ?? 0,
      publish: (msg: T) => {
        if (!active || this.closed) return;
        this.graph.publish(resolved, publisherId, msg);
      },
      unadvertise: () => {
        if (!active) return;
        active = false;
        this.graph.removePublisher(resolved, publisherId);
      },
    };
  }

  /**
   * Receives what anyone publishes on `topic` (clients and in-process publishers). Messages of
   * known types arrive normalised (e.g. image `data` as a Uint8Array). The message object is
   * shared with every other subscriber: read it, do not modify it. The handler runs synchronously
   * in the publisher's turn; what it throws is reported as `internalError`.
   */
  subscribe<T = unknown>(topic: string, type: string, handler: (msg: T, meta: MessageMeta) => void): LocalSubscription {
    this.assertOpen();
    const resolved = resolveName('topic', topic);
    const typeName = parseTypeName(type);
    const sinkId = `server:${++this.nextLocal}`;
    let ready = false;
    const sink: TopicSink = {
      id: sinkId,
      kind: 'local',
      deliver: (message) => {
        const run = () => handler(message.msg as T, { publisher: message.origin });
        // A latched message arrives during addSink; let subscribe() return its handle first.
        if (ready) run();
        else queueMicrotask(() => this.guard(`subscriber of ${resolved}`, run));
      },
    };
    this.graph.addSink(resolved, typeName, sink);
    ready = true;
    let active = true;
    return {
      unsubscribe: () => {
        if (!active) return;
        active = false;
        this.graph.removeSink(resolved, sinkId);
      },
    };
  }

  /**
   * Serves `name` to clients' call_service. What the handler returns (or resolves to) becomes
   * `values` of a `result: true` response; what it throws becomes `result: false` with the error
   * message as `values`, as rosbridge reports a failed ROS service.
   */
  advertiseService<Req = unknown, Res = unknown>(
    name: string,
    type: string,
    handler: (args: Req, meta: ServiceCallMeta) => Res | Promise<Res>,
  ): LocalService {
    this.assertOpen();
    const resolved = resolveName('service', name);
    const typeName = parseTypeName(type, 'srv');
    if (this.registry.providerOf(resolved) !== undefined) {
      throw new ProtocolStateError(`Service ${name} is already advertised by ${this.registry.providerOf(resolved)}`);
    }
    this.registry.advertise(resolved, typeName, { kind: 'local', handler: (args, meta) => handler(args as Req, meta) });
    let active = true;
    return {
      unadvertise: () => {
        if (!active) return;
        active = false;
        this.registry.removeLocal(resolved);
      },
    };
  }

  /**
   * Calls a service, whoever provides it. Rejects with {@link ServiceNotFoundError} or
   * {@link ServiceFailedError} (carrying the provider's `values` as message).
   */
  callService<Res = unknown>(name: string, args: unknown = {}, options: { timeoutMs?: number } = {}): Promise<Res> {
    this.assertOpen();
    const resolved = resolveName('service', name);
    return new Promise<Res>((resolve, reject) => {
      this.registry.call(
        resolved,
        name,
        args,
        'server',
        (result, values) => (result ? resolve(values as Res) : reject(new ServiceFailedError(errorText(values)))),
        options.timeoutMs ?? this.options.serviceTimeoutMs ?? 0,
      );
    });
  }

  topicInfo(topic: string): TopicInfo | undefined {
    return this.graph.info(resolveName('topic', topic));
  }

  topics(): TopicInfo[] {
    return this.graph.list();
  }

  /**
   * Who publishes and who listens on a topic: `client:<id>` for a client (a subscription is
   * `client:<id>:<topic as it wrote it>`), `server:<n>` for this process's own publishers and handlers.
   */
  topicParticipants(topic: string): { publishers: string[]; subscribers: string[] } | undefined {
    return this.graph.participants(resolveName('topic', topic));
  }

  services(): ServiceInfo[] {
    return this.registry.list();
  }

  clientList(): ClientInfo[] {
    return [...this.clients.values()].map((c) => ({ id: c.id, name: c.name }));
  }

  stats(): RosbridgeStats {
    let dropped = this.counters.droppedMessages;
    let pendingFragments = 0;
    for (const c of this.clients.values()) {
      pendingFragments += c.fragments.pendingMessages;
      for (const s of c.subscriptions.values()) dropped += s.queue.dropped;
    }
    return {
      clients: this.clients.size,
      framesIn: this.counters.framesIn,
      framesOut: this.counters.framesOut,
      bytesIn: this.counters.bytesIn,
      bytesOut: this.counters.bytesOut,
      errors: this.counters.statusErrors,
      warnings: this.counters.statusWarnings,
      internalErrors: this.internalErrors,
      droppedMessages: dropped,
      topics: this.graph.size,
      services: this.registry.size,
      pendingServiceCalls: this.registry.pendingCalls,
      pendingFragmentedMessages: pendingFragments,
    };
  }

  /**
   * Runs `hook` when the server closes. listen() uses it so that closing the server also stops
   * its listener, whoever holds which.
   */
  onClose(hook: () => void | Promise<void>): void {
    this.closeHooks.push(hook);
  }

  /** Disconnects every client, stops the server's timers and runs the close hooks. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      clearInterval(this.sweeper);
      this.registry.close();
      for (const client of [...this.clients.values()]) {
        client.close(1001, 'rosbridge server shutting down');
        this.disconnect(client);
      }
      for (const hook of this.closeHooks.splice(0)) {
        try {
          await hook();
        } catch (err) {
          this.internalError(err, 'close hook');
        }
      }
    })();
    return this.closing;
  }

  private closing: Promise<void> | undefined;

  // -------------------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new ProtocolStateError('rosbridge server is closed');
  }

  private guard(context: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.internalError(err, context);
    }
  }

  private internalError(err: unknown, context: string): void {
    this.internalErrors++;
    this.emitSafely('internalError', err, context);
  }

  /** Observers must not be able to break the server either. */
  private emitSafely<E extends keyof RosbridgeServerEvents>(event: E, ...args: RosbridgeServerEvents[E]): void {
    try {
      (this.emit as (event: E, ...args: RosbridgeServerEvents[E]) => boolean)(event, ...args);
    } catch {
      // A throwing listener is the listener's problem.
    }
  }
}

function preview(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}… (${text.length} characters)` : text;
}

export type { OpId, ServiceCallMeta };
