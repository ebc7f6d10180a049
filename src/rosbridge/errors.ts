/**
 * Typed errors of the rosbridge server. Op handlers throw these; the dispatcher turns them into
 * `status` replies (the wire never sees a throw), while the in-process API lets them propagate
 * because there a throw is a programming error the caller should see.
 *
 * Messages keep rosbridge_server's wording where it has one, so logs and client code written
 * against the real server read the same.
 */

export type StatusLevel = 'info' | 'warning' | 'error';

export abstract class RosbridgeError extends Error {
  /** Level of the status message this error becomes when it answers a client. */
  readonly level: StatusLevel = 'error';
}

/** A field of an op is missing or has the wrong type (rosbridge's Missing/InvalidArgumentException). */
export class InvalidArgumentError extends RosbridgeError {
  override readonly name = 'InvalidArgumentError';
}

/** A type string that is not `pkg/Name` or `pkg/kind/Name` (rosbridge's InvalidTypeStringException). */
export class InvalidTypeStringError extends RosbridgeError {
  override readonly name = 'InvalidTypeStringError';
  constructor(readonly typeString: string) {
    super(`${typeString} is not a valid type string`);
  }
}

/** A topic or service name ROS would reject. */
export class InvalidNameError extends RosbridgeError {
  override readonly name = 'InvalidNameError';
  constructor(kind: 'topic' | 'service', name: string, reason: string) {
    super(`Invalid ${kind} name: ${JSON.stringify(name)}: ${reason}`);
  }
}

export class TypeConflictError extends RosbridgeError {
  override readonly name = 'TypeConflictError';
  constructor(
    readonly topic: string,
    readonly establishedType: string,
    readonly requestedType: string,
  ) {
    super(`Tried to register topic ${topic} with type ${requestedType} but it is already established with type ${establishedType}`);
  }
}

export class TopicNotEstablishedError extends RosbridgeError {
  override readonly name = 'TopicNotEstablishedError';
  constructor(readonly topic: string) {
    super(`Cannot infer topic type for topic ${topic} as it is not yet advertised`);
  }
}

/** A message does not fit the shape of its (known) type; `field` is the dotted path of the culprit. */
export class MessageFieldError extends RosbridgeError {
  override readonly name = 'MessageFieldError';
  constructor(
    readonly messageType: string,
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export class ServiceNotFoundError extends RosbridgeError {
  override readonly name = 'InvalidServiceException';
  constructor(readonly service: string) {
    super(`Service ${service} does not exist`);
  }
}

/** A rosbridge op that is well formed but not allowed in the current state (e.g. unadvertising someone else's service). */
export class ProtocolStateError extends RosbridgeError {
  override readonly name = 'ProtocolStateError';
  constructor(
    message: string,
    override readonly level: StatusLevel = 'error',
  ) {
    super(message);
  }
}

/** A service provider answered with `result: false`: the call reached it and it failed. */
export class ServiceFailedError extends RosbridgeError {
  override readonly name = 'ServiceFailedError';
}

/** Best-effort text of anything thrown, for status messages and `values` of failed service calls. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}
