import { encodeCbor, encodeJson } from './codec.js';
import { cborShape, type RosTypeName } from './message-types.js';
import { pngEncode } from './png.js';
import type { PublishOut } from './protocol.js';

/**
 * One published message on its way to many subscribers (rosbridge's OutgoingMessage): each wire
 * form of the `publish` op is built once and shared, so ten JSON subscribers cost one stringify.
 * Forms are keyed by the topic name the subscriber used, since that name is inside the op.
 */
export class OutgoingMessage {
  private readonly jsonCache = new Map<string, string>();
  private readonly cborCache = new Map<string, Uint8Array>();
  private readonly pngCache = new Map<string, string>();

  constructor(
    /** The normalised message; shared, so never mutated after construction. */
    readonly msg: unknown,
    readonly type: RosTypeName | undefined,
    /** Who published it: a client id or `server`. */
    readonly origin: string,
  ) {}

  private op(topic: string, msg: unknown): PublishOut {
    return { op: 'publish', topic, msg };
  }

  /** Throws if the message cannot be encoded (cycles, runaway depth). */
  json(topic: string): string {
    let text = this.jsonCache.get(topic);
    if (text === undefined) {
      text = encodeJson(this.op(topic, this.msg));
      this.jsonCache.set(topic, text);
    }
    return text;
  }

  cbor(topic: string): Uint8Array {
    let bytes = this.cborCache.get(topic);
    if (bytes === undefined) {
      bytes = encodeCbor(this.op(topic, cborShape(this.type, this.msg)));
      this.cborCache.set(topic, bytes);
    }
    return bytes;
  }

  /** `data` of the png op that carries the JSON form. */
  png(topic: string): string {
    let data = this.pngCache.get(topic);
    if (data === undefined) {
      data = pngEncode(this.json(topic));
      this.pngCache.set(topic, data);
    }
    return data;
  }
}
