import { z } from 'zod';

/**
 * The rosbridge v2 ops this server accepts, as one discriminated union, plus the ops it sends.
 *
 * Field checks mirror rosbridge_library's Capability.basic_type_check tables, and the error
 * texts keep its wording ("Expected a topic field but none was found.", "Expected field
 * throttle_rate to be one of (int). Invalid value: ...") with Python's type names, because that is
 * what users of the real server search logs for. Unknown extra fields are ignored, as there.
 */

function show(v: unknown): string {
  let text: string;
  try {
    text = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  } catch {
    text = String(v);
  }
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** Error text for one field, in rosbridge's words; `pyTypes` are the Python types it would list. */
function fieldError(name: string, pyTypes: string) {
  return (issue: { input?: unknown }) =>
    issue.input === undefined
      ? `Expected a ${name} field but none was found.`
      : `Expected field ${name} to be one of (${pyTypes}). Invalid value: ${show(issue.input)}`;
}

const str = (name: string) => z.string({ error: fieldError(name, 'str') });
const int = (name: string) => z.int({ error: fieldError(name, 'int') });
const bool = (name: string) => z.boolean({ error: fieldError(name, 'bool') });
const num = (name: string) => z.number({ error: fieldError(name, 'int, float') });

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A JSON object kept by reference: zod's record() would copy (and walk) big messages for nothing. */
const dict = (name: string) => z.custom<Record<string, unknown>>(isPlainObject, { error: fieldError(name, 'dict') });

/** Spec: "an arbitrary string or integer ID". */
const id = z.union([z.string(), z.number()], { error: fieldError('id', 'str, int') }).optional();

export const COMPRESSIONS = ['none', 'cbor', 'cbor-raw', 'png'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export const STATUS_LEVELS = ['info', 'warning', 'error', 'none'] as const;
export type StatusLevelSetting = (typeof STATUS_LEVELS)[number];

const Advertise = z.object({
  op: z.literal('advertise'),
  id,
  topic: str('topic'),
  type: str('type'),
  latch: bool('latch').optional(),
  queue_size: int('queue_size').optional(),
});

const Unadvertise = z.object({ op: z.literal('unadvertise'), id, topic: str('topic') });

const Publish = z.object({
  op: z.literal('publish'),
  id,
  topic: str('topic'),
  msg: dict('msg').optional(),
  latch: bool('latch').optional(),
  // Not in the spec, but some clients send it; when present it must agree with the topic.
  type: str('type').optional(),
});

const Subscribe = z.object({
  op: z.literal('subscribe'),
  id,
  topic: str('topic'),
  type: str('type').optional(),
  throttle_rate: int('throttle_rate').optional(),
  queue_length: int('queue_length').optional(),
  fragment_size: int('fragment_size').optional(),
  compression: str('compression').optional(),
});

const Unsubscribe = z.object({ op: z.literal('unsubscribe'), id, topic: str('topic') });

const CallService = z.object({
  op: z.literal('call_service'),
  id,
  service: str('service'),
  args: z.unknown().optional(),
  fragment_size: z.union([z.int(), z.null()], { error: fieldError('fragment_size', 'int, NoneType') }).optional(),
  compression: str('compression').optional(),
  /** Seconds; roslib sends it, newer rosbridge honours it. */
  timeout: num('timeout').optional(),
});

const AdvertiseService = z.object({ op: z.literal('advertise_service'), id, service: str('service'), type: str('type') });

const UnadvertiseService = z.object({ op: z.literal('unadvertise_service'), id, service: str('service') });

const ServiceResponse = z.object({
  op: z.literal('service_response'),
  id,
  service: str('service'),
  // rosbridge requires a dict, but roslib's advertiseAsync sends the error string on failure.
  values: z.unknown().optional(),
  result: bool('result'),
});

const Fragment = z.object({
  op: z.literal('fragment'),
  id: z.union([z.string(), z.number()], { error: fieldError('id', 'str, int') }),
  data: str('data'),
  num: int('num'),
  total: int('total'),
});

const Status = z.object({
  op: z.literal('status'),
  id,
  level: str('level').optional(),
  msg: str('msg').optional(),
});

const SetLevel = z.object({ op: z.literal('set_level'), id, level: str('level') });

export const IncomingOp = z.discriminatedUnion('op', [
  Advertise,
  Unadvertise,
  Publish,
  Subscribe,
  Unsubscribe,
  CallService,
  AdvertiseService,
  UnadvertiseService,
  ServiceResponse,
  Fragment,
  Status,
  SetLevel,
]);
export type IncomingOp = z.infer<typeof IncomingOp>;
export type Op = IncomingOp['op'];
export type OpMessage<K extends Op> = Extract<IncomingOp, { op: K }>;
export type OpId = string | number;

export const OPS: readonly Op[] = IncomingOp.options.map((o) => o.shape.op.value);

// ---------------------------------------------------------------------------------------------
// Outgoing ops (server → client).

export interface PublishOut {
  op: 'publish';
  topic: string;
  msg: unknown;
}
export interface StatusOut {
  op: 'status';
  level: 'info' | 'warning' | 'error';
  msg: string;
  id?: OpId;
}
export interface ServiceResponseOut {
  op: 'service_response';
  service: string;
  values?: unknown;
  result: boolean;
  id?: OpId;
}
export interface CallServiceOut {
  op: 'call_service';
  id: string;
  service: string;
  args: unknown;
}
export interface FragmentOut {
  op: 'fragment';
  id: string;
  data: string;
  num: number;
  total: number;
}
export interface PngOut {
  op: 'png';
  data: string;
}
export type OutgoingOp = PublishOut | StatusOut | ServiceResponseOut | CallServiceOut | FragmentOut | PngOut;

// ---------------------------------------------------------------------------------------------

export type ParseResult = { ok: true; op: IncomingOp } | { ok: false; message: string; id?: OpId };

function allowedOps(): string {
  return `[${OPS.map((o) => `'${o}'`).join(', ')}]`;
}

function truncate(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

/**
 * Validates one decoded frame. `original` is the frame as text, quoted back (truncated) in
 * rosbridge's "Original message was" errors.
 */
export function parseIncoming(value: unknown, original: () => string): ParseResult {
  if (!isPlainObject(value) || !('op' in value)) {
    const theId = isPlainObject(value) ? idOf(value.id) : undefined;
    if (isPlainObject(value) && 'receiver' in value) {
      return {
        ok: false,
        message: `Received a rosbridge v1.0 message.  Please refer to rosbridge.org for the correct format of rosbridge v2.0 messages.  Original message was: ${truncate(original())}`,
      };
    }
    return {
      ok: false,
      message: `Received a message without an op.  All messages require 'op' field with value one of: ${allowedOps()}.  Original message was: ${truncate(original())}`,
      ...(theId === undefined ? {} : { id: theId }),
    };
  }
  const theId = idOf(value.id);
  const withId = theId === undefined ? {} : { id: theId };
  const op = value.op;
  if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) {
    return { ok: false, message: `Unknown operation: ${truncate(show(op).replace(/^"|"$/g, ''), 80)}.  Allowed operations: ${allowedOps()}`, ...withId };
  }
  const result = IncomingOp.safeParse(value);
  if (result.success) return { ok: true, op: result.data };
  const issue = result.error.issues[0];
  return { ok: false, message: `${op}: ${issue?.message ?? 'invalid message'}`, ...withId };
}

function idOf(v: unknown): OpId | undefined {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) ? v : undefined;
}
