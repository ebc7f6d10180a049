import { TopicNotEstablishedError, TypeConflictError } from './errors.js';
import { normaliseMessage, sameType, type RosTypeName } from './message-types.js';
import { OutgoingMessage } from './outgoing.js';

/**
 * The topic graph the bridge simulates: which topics exist with which type, who publishes, who
 * listens, and the last message of latched topics.
 *
 * A topic's type is established by the first advertiser or typed subscriber and held while anyone
 * publishes or listens; a different type meanwhile is a conflict (rosbridge's
 * TypeConflictException), the same type in another spelling is not. When the last participant
 * leaves, the topic is forgotten and may come back with any type.
 */

/** Something that receives a topic's messages: a client subscription or an in-process handler. */
export interface TopicSink {
  readonly id: string;
  readonly kind: 'client' | 'local';
  deliver(message: OutgoingMessage): void;
}

interface PublisherEntry {
  latch: boolean;
}

interface TopicEntry {
  readonly name: string;
  readonly type: RosTypeName;
  readonly publishers: Map<string, PublisherEntry>;
  readonly sinks: Map<string, TopicSink>;
  latched: OutgoingMessage | undefined;
  latchedBy: string | undefined;
}

export interface TopicInfo {
  readonly name: string;
  /** As first spelled by whoever established it. */
  readonly type: string;
  readonly publishers: number;
  readonly subscribers: number;
  readonly clientSubscribers: number;
  readonly latched: boolean;
}

export class TopicGraph {
  private readonly topics = new Map<string, TopicEntry>();

  constructor(private readonly onSinkError: (sink: TopicSink, err: unknown) => void) {}

  get size(): number {
    return this.topics.size;
  }

  info(name: string): TopicInfo | undefined {
    const t = this.topics.get(name);
    if (t === undefined) return undefined;
    return {
      name: t.name,
      type: t.type.given,
      publishers: t.publishers.size,
      subscribers: t.sinks.size,
      clientSubscribers: [...t.sinks.values()].filter((s) => s.kind === 'client').length,
      latched: t.latched !== undefined,
    };
  }

  /** Who publishes and who listens on a topic, by graph id (`client:<id>`, `server:<n>`). */
  participants(name: string): { publishers: string[]; subscribers: string[] } | undefined {
    const t = this.topics.get(name);
    if (t === undefined) return undefined;
    return { publishers: [...t.publishers.keys()], subscribers: [...t.sinks.keys()] };
  }

  list(): TopicInfo[] {
    return [...this.topics.keys()].map((name) => this.info(name)!);
  }

  typeOf(name: string): RosTypeName | undefined {
    return this.topics.get(name)?.type;
  }

  /** Throws {@link TypeConflictError} if `type` disagrees with the established type. */
  checkType(name: string, type: RosTypeName | undefined): void {
    const established = this.topics.get(name)?.type;
    if (type !== undefined && established !== undefined && !sameType(established, type)) {
      throw new TypeConflictError(name, established.given, type.given);
    }
  }

  addPublisher(name: string, type: RosTypeName | undefined, publisherId: string, latch: boolean): void {
    this.checkType(name, type);
    const entry = this.entry(name, type, true);
    const existing = entry.publishers.get(publisherId);
    entry.publishers.set(publisherId, { latch: latch || (existing?.latch ?? false) });
  }

  removePublisher(name: string, publisherId: string): void {
    const entry = this.topics.get(name);
    if (entry === undefined) return;
    entry.publishers.delete(publisherId);
    if (entry.latchedBy === publisherId) {
      // A latched message lives as long as its publisher, as with TRANSIENT_LOCAL in ROS 2.
      entry.latched = undefined;
      entry.latchedBy = undefined;
    }
    this.collect(entry);
  }

  isPublisher(name: string, publisherId: string): boolean {
    return this.topics.get(name)?.publishers.has(publisherId) ?? false;
  }

  /**
   * Registers a sink; a typeless subscription needs the topic to exist already. A latched message
   * is handed to the new sink straight away, which is how a late subscriber sees it.
   */
  addSink(name: string, type: RosTypeName | undefined, sink: TopicSink): void {
    this.checkType(name, type);
    const entry = this.entry(name, type, type !== undefined);
    entry.sinks.set(sink.id, sink);
    if (entry.latched !== undefined) this.deliverTo(sink, entry.latched);
  }

  removeSink(name: string, sinkId: string): void {
    const entry = this.topics.get(name);
    if (entry === undefined) return;
    entry.sinks.delete(sinkId);
    this.collect(entry);
  }

  /**
   * Checks a message against the topic's type and returns it normalised. Throws
   * {@link MessageFieldError} when it does not fit, {@link TopicNotEstablishedError} when the
   * topic has no type yet (and `type` does not give one).
   */
  normalise(name: string, msg: unknown, type?: RosTypeName): unknown {
    const established = this.topics.get(name)?.type ?? type;
    if (established === undefined) throw new TopicNotEstablishedError(name);
    return normaliseMessage(established, msg);
  }

  /** Normalises and fans out one message from a registered publisher. */
  publish(name: string, publisherId: string, msg: unknown, latch = false): OutgoingMessage {
    return this.publishNormalised(name, publisherId, this.normalise(name, msg), latch);
  }

  /** Fans out a message {@link normalise} already accepted. */
  publishNormalised(name: string, publisherId: string, msg: unknown, latch = false): OutgoingMessage {
    const entry = this.topics.get(name);
    if (entry === undefined) throw new TopicNotEstablishedError(name);
    const message = new OutgoingMessage(msg, entry.type, publisherId);
    if (latch || entry.publishers.get(publisherId)?.latch === true) {
      entry.latched = message;
      entry.latchedBy = publisherId;
    }
    // A sink may unsubscribe (or subscribe others) while handling: iterate over a snapshot.
    for (const sink of [...entry.sinks.values()]) this.deliverTo(sink, message);
    return message;
  }

  private deliverTo(sink: TopicSink, message: OutgoingMessage): void {
    try {
      sink.deliver(message);
    } catch (err) {
      this.onSinkError(sink, err);
    }
  }

  private entry(name: string, type: RosTypeName | undefined, create: boolean): TopicEntry {
    let entry = this.topics.get(name);
    if (entry === undefined) {
      if (!create || type === undefined) throw new TopicNotEstablishedError(name);
      entry = { name, type, publishers: new Map(), sinks: new Map(), latched: undefined, latchedBy: undefined };
      this.topics.set(name, entry);
    }
    return entry;
  }

  private collect(entry: TopicEntry): void {
    if (entry.publishers.size === 0 && entry.sinks.size === 0) this.topics.delete(entry.name);
  }
}
