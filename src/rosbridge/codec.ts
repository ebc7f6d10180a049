import { Decoder, Encoder } from 'cbor-x';

/**
 * Wire encodings. Text frames carry JSON, binary frames carry CBOR (rosbridge 3.1.3); both decode
 * to the same op objects.
 *
 * Outgoing JSON follows rosbridge's message_conversion: byte arrays (uint8[]) travel as base64
 * strings, other typed arrays as plain lists, NaN/Infinity as null. Outgoing CBOR follows
 * cbor_conversion: byte arrays as CBOR byte strings (untagged, as Python's `bytes`) and numeric
 * typed arrays with RFC 8746 tags, which roslib's cbor2 decoder turns back into typed arrays.
 */

export type DecodeResult = { ok: true; value: unknown } | { ok: false; error: string };

export type CborDecoder = Decoder;

/**
 * One decoder per connection: cbor-x decoders remember record structures a frame defines, so a
 * shared one would let one client's frames change how another's decode.
 */
export function newCborDecoder(): CborDecoder {
  return new Decoder({ useRecords: false, mapsAsObjects: true });
}

/**
 * Deepest nesting accepted in a frame. rosbridge's Python json.loads gives up near 1000 levels;
 * no ROS message comes close to this, and everything downstream (JSON.stringify, cbor-x) recurses.
 */
export const MAX_NESTING = 100;

/** Iterative, so the check itself cannot overflow the stack; typed arrays and strings are leaves. */
function tooDeep(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) continue;
    if (depth >= max) return true;
    if (Array.isArray(v)) {
      for (const x of v) if (typeof x === 'object' && x !== null) stack.push([x, depth + 1]);
    } else {
      for (const key in v) {
        const x = (v as Record<string, unknown>)[key];
        if (typeof x === 'object' && x !== null) stack.push([x, depth + 1]);
      }
    }
  }
  return false;
}

function checked(value: unknown): DecodeResult {
  return tooDeep(value, MAX_NESTING) ? { ok: false, error: `nesting deeper than ${MAX_NESTING} levels` } : { ok: true, value };
}

export function decodeJson(text: string): DecodeResult {
  try {
    return checked(JSON.parse(text) as unknown);
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

export function decodeCbor(decoder: CborDecoder, bytes: Uint8Array): DecodeResult {
  try {
    return checked(decoder.decode(bytes) as unknown);
  } catch (err) {
    // Includes RangeError from pathologically deep nesting: the decoder recurses.
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

function jsonReplacer(this: unknown, key: string, value: unknown): unknown {
  // JSON.stringify applies Buffer#toJSON before the replacer sees the value, so look at the holder.
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  if (ArrayBuffer.isView(raw) && !(raw instanceof DataView)) {
    return Array.from(raw as unknown as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? Number(x) : x));
  }
  if (typeof value === 'bigint') return Number(value);
  return value;
}

/** Throws on cycles or runaway depth; callers treat that as an unencodable message. */
export function encodeJson(op: unknown): string {
  return JSON.stringify(op, jsonReplacer);
}

const cborEncoder = new Encoder({
  useRecords: false,
  tagUint8Array: false,
  // Plain objects as CBOR maps with string keys, which is what cbor2 (roslib) expects.
  mapsAsObjects: true,
  variableMapSize: true,
});

/**
 * Binary CBOR of a whole op. cbor-x hands out views into a pooled multi-megabyte buffer; copying
 * keeps a queued small message from pinning the whole pool.
 */
export function encodeCbor(op: unknown): Uint8Array {
  return new Uint8Array(cborEncoder.encode(op));
}
