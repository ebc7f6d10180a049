import { z } from 'zod';
import { InvalidTypeStringError, MessageFieldError } from './errors.js';

/**
 * ROS type names and the few message shapes the simulated robot speaks.
 *
 * ROS 1 (`std_msgs/String`) and ROS 2 (`std_msgs/msg/String`) spellings name the same type, as in
 * rosbridge_server's ros_loader; types are compared by their canonical ROS 2 form but reported as
 * the client spelled them. Messages of the known types are checked minimally and normalised the
 * way rosbridge's message_conversion populates a ROS message: missing fields get defaults, a
 * uint8[] may arrive as base64, a byte array or a list of ints, and stamps may be spelled the
 * ROS 2 (`sec/nanosec`) or ROS 1 (`secs/nsecs`) way and keep their spelling. Types we do not know pass through unchecked.
 */

export interface RosTypeName {
  /** As the client or caller wrote it; used in error messages. */
  readonly given: string;
  /** `pkg/kind/Name`, the key for equality. */
  readonly canonical: string;
}

const TYPE_PART = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Parses `pkg/Name` or `pkg/kind/Name` like ros_loader._splittype (empty segments are forgiven). */
export function parseTypeName(typeString: string, defaultKind: 'msg' | 'srv' = 'msg'): RosTypeName {
  const parts = typeString.split('/').filter((p) => p.length > 0);
  if ((parts.length !== 2 && parts.length !== 3) || !parts.every((p) => TYPE_PART.test(p))) {
    throw new InvalidTypeStringError(typeString);
  }
  const [pkg, kindOrName, name] = parts as [string, string, string | undefined];
  const canonical = name === undefined ? `${pkg}/${defaultKind}/${kindOrName}` : `${pkg}/${kindOrName}/${name}`;
  return { given: typeString, canonical };
}

export function sameType(a: RosTypeName, b: RosTypeName): boolean {
  return a.canonical === b.canonical;
}

// ---------------------------------------------------------------------------------------------
// Field schemas. Each leaf's error text is the ROS type it expects; toFieldError() wraps it into
// rosbridge's "X message requires a T for field F, but got a V" sentence.

const int = (name: string, min: number, max: number) =>
  z.int({ error: name }).min(min, { error: name }).max(max, { error: name });

const uint8 = () => int('uint8', 0, 0xff);
const uint32 = () => int('uint32', 0, 0xffff_ffff);
const int32 = () => int('int32', -0x8000_0000, 0x7fff_ffff);
const rosString = () => z.string({ error: 'string' });

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/** builtin_interfaces/Time in ROS 2 spelling, or ROS 1's time as a ROS 1 client writes it. */
export type RosTime = { sec: number; nanosec: number } | { secs: number; nsecs: number };

export function nowStamp(now = Date.now()): { sec: number; nanosec: number } {
  const ms = Math.floor(now);
  return { sec: Math.floor(ms / 1000), nanosec: (ms % 1000) * 1_000_000 };
}

const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

const TIME_FIELDS = { ros2: ['sec', 'nanosec'], ros1: ['secs', 'nsecs'] } as const;

/**
 * A stamp, or "now" (message_conversion._to_time_inst takes both). The spelling is kept: a
 * simulated ROS 1 robot stamps with secs/nsecs and its ROS 1 clients expect to read them back.
 */
const Time = z
  .custom<unknown>(
    (v) => {
      if (v === 'now') return true;
      if (!isRecord(v)) return false;
      const keys = Object.keys(v);
      const style = keys.some((k) => k === 'secs' || k === 'nsecs') ? TIME_FIELDS.ros1 : TIME_FIELDS.ros2;
      if (!keys.every((k) => (style as readonly string[]).includes(k))) return false;
      return isInt(v[style[0]] ?? 0, -0x8000_0000, 0xffff_ffff) && isInt(v[style[1]] ?? 0, 0, 0xffff_ffff);
    },
    { error: 'builtin_interfaces/Time ({sec, nanosec} or {secs, nsecs})' },
  )
  .transform((v): RosTime => {
    if (v === 'now') return nowStamp();
    const r = v as Record<string, number | undefined>;
    if ('secs' in r || 'nsecs' in r) return { secs: r.secs ?? 0, nsecs: r.nsecs ?? 0 };
    return { sec: r.sec ?? 0, nanosec: r.nanosec ?? 0 };
  });

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** uint8[] accepts what rosbridge's _to_binary_inst accepts and always yields bytes. */
const Bytes = z
  .custom<unknown>(
    (v) => {
      if (v instanceof Uint8Array) return true;
      if (typeof v === 'string') return v.length % 4 === 0 && BASE64.test(v);
      if (!Array.isArray(v)) return false;
      for (const x of v) if (!isInt(x, 0, 255)) return false;
      return true;
    },
    { error: 'uint8[] (base64 string, byte array or list of 0..255)' },
  )
  .transform((v): Uint8Array => {
    if (v instanceof Uint8Array) return v;
    if (typeof v === 'string') return new Uint8Array(Buffer.from(v, 'base64'));
    return Uint8Array.from(v as number[]);
  });

/** float64[]; JSON has no NaN, so rosbridge sends null for it and we read null back as NaN. */
const Float64s = z
  .custom<unknown>(
    (v) => {
      if (v instanceof Float64Array || v instanceof Float32Array) return true;
      if (!Array.isArray(v)) return false;
      for (const x of v) if (typeof x !== 'number' && x !== null) return false;
      return true;
    },
    { error: 'float64[]' },
  )
  .transform((v): number[] => Array.from(v as ArrayLike<number | null>, (x) => x ?? Number.NaN));

const Header = z.strictObject({
  // ROS 1's header also has seq; ROS 1 clients send it, so it is allowed.
  seq: uint32().optional(),
  stamp: Time.default(() => nowStamp()),
  frame_id: rosString().default(''),
});

const headerField = () => Header.default(() => ({ stamp: nowStamp(), frame_id: '' }));

const StdString = z.strictObject({ data: rosString().default('') });

const Image = z.strictObject({
  header: headerField(),
  height: uint32().default(0),
  width: uint32().default(0),
  encoding: rosString().default(''),
  is_bigendian: uint8().default(0),
  step: uint32().default(0),
  data: Bytes.default(() => new Uint8Array(0)),
});

const CompressedImage = z.strictObject({
  header: headerField(),
  format: rosString().default(''),
  data: Bytes.default(() => new Uint8Array(0)),
});

const JointState = z.strictObject({
  header: headerField(),
  name: z.array(rosString(), { error: 'string[]' }).default(() => []),
  position: Float64s.default(() => []),
  velocity: Float64s.default(() => []),
  effort: Float64s.default(() => []),
});

/**
 * The message schemas, for code outside the server that reads the same messages (keystep's roslib
 * side, the sim robot): one definition of each message, with rosbridge's rules for uint8[] and stamps.
 */
export const RosMessage = { Header, StdString, Image, CompressedImage, JointState } as const;

export type Header = z.output<typeof Header>;
export type StdString = z.output<typeof StdString>;
export type Image = z.output<typeof Image>;
export type CompressedImage = z.output<typeof CompressedImage>;
export type JointState = z.output<typeof JointState>;

/** What a publisher may hand in: defaults fill the rest, bytes may be base64 or number lists. */
export type ImageInput = z.input<typeof Image>;
export type CompressedImageInput = z.input<typeof CompressedImage>;
export type JointStateInput = z.input<typeof JointState>;

interface KnownType {
  readonly schema: z.ZodType<Record<string, unknown>>;
  /** Reshapes a normalised message for CBOR the way rosbridge's cbor_conversion tags typed arrays. */
  readonly toCbor?: (msg: Record<string, unknown>) => Record<string, unknown>;
}

const KNOWN: ReadonlyMap<string, KnownType> = new Map<string, KnownType>([
  ['std_msgs/msg/String', { schema: StdString }],
  ['std_msgs/msg/Header', { schema: Header }],
  ['sensor_msgs/msg/Image', { schema: Image }],
  ['sensor_msgs/msg/CompressedImage', { schema: CompressedImage }],
  [
    'sensor_msgs/msg/JointState',
    {
      schema: JointState,
      toCbor: (m) => ({
        ...m,
        position: Float64Array.from(m.position as number[]),
        velocity: Float64Array.from(m.velocity as number[]),
        effort: Float64Array.from(m.effort as number[]),
      }),
    },
  ],
]);

export function isKnownType(type: RosTypeName): boolean {
  return KNOWN.has(type.canonical);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  if (typeof v === 'object') return 'object';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function toFieldError(type: RosTypeName, msg: unknown, issue: z.core.$ZodIssue): MessageFieldError {
  if (issue.code === 'unrecognized_keys') {
    const field = [...issue.path, issue.keys[0] ?? ''].join('.');
    return new MessageFieldError(type.given, field, `Message type ${type.given} does not have a field ${field}`);
  }
  const field = issue.path.join('.');
  return new MessageFieldError(
    type.given,
    field,
    `${type.given} message requires a ${issue.message} for field ${field}, but got a ${describe(valueAt(msg, issue.path))}`,
  );
}

/**
 * Checks `msg` against `type` if we know the type, returning the normalised message; unknown types
 * come back as they went in. Throws {@link MessageFieldError} naming the offending field.
 */
export function normaliseMessage(type: RosTypeName, msg: unknown): unknown {
  const known = KNOWN.get(type.canonical);
  if (known === undefined) return msg;
  if (!isRecord(msg)) {
    throw new MessageFieldError(type.given, '', `Expected a JSON object for type ${type.given} but received a ${describe(msg)}`);
  }
  const result = known.schema.safeParse(msg);
  if (!result.success) throw toFieldError(type, msg, result.error.issues[0]!);
  return result.data;
}

/** The CBOR wire shape of an already normalised message (identity for most types). */
export function cborShape(type: RosTypeName | undefined, msg: unknown): unknown {
  if (type === undefined || !isRecord(msg)) return msg;
  const toCbor = KNOWN.get(type.canonical)?.toCbor;
  return toCbor === undefined ? msg : toCbor(msg);
}
