/**
 * What can go wrong between keystep and a robot, as typed errors that say which failure it was and
 * what to do. All of them are the environment's doing (exit 4 in the CLI): `isRobotLinkError`.
 */

/** How a connection attempt failed, read from the socket error. */
export type ConnectFailureKind = 'refused' | 'unknown_host' | 'not_rosbridge' | 'tls' | 'bad_url' | 'reset' | 'unreachable' | 'other';

export interface ConnectFailure {
  kind: ConnectFailureKind;
  /** The socket's own words, e.g. "connect ECONNREFUSED 127.0.0.1:1". */
  detail: string;
}

/** Failures that another try a moment later will not fix: the first connection gives up at once. */
export const PERMANENT_FAILURES: ReadonlySet<ConnectFailureKind> = new Set(['refused', 'unknown_host', 'not_rosbridge', 'tls', 'bad_url']);

/**
 * Reads a roslib/ws connection error: roslib hands on ws's ErrorEvent (the socket error in `.error`),
 * and rejects `connect()` with a SyntaxError for a URL ws cannot open.
 */
export function classifyConnectFailure(error: unknown): ConnectFailure {
  const inner = (error as { error?: unknown })?.error ?? error;
  const code = String((inner as { code?: unknown })?.code ?? '');
  const detail = inner instanceof Error ? inner.message : typeof inner === 'string' ? inner : String((error as { message?: unknown })?.message ?? error);
  if (inner instanceof SyntaxError || /Invalid URL/i.test(detail)) return { kind: 'bad_url', detail };
  if (code === 'ECONNREFUSED') return { kind: 'refused', detail };
  if (code === 'ENOTFOUND') return { kind: 'unknown_host', detail };
  if (/^Unexpected server response/i.test(detail)) return { kind: 'not_rosbridge', detail };
  if (code === 'EPROTO' || /CERT|SSL|TLS/i.test(code) || /SSL routines|certificate/i.test(detail)) return { kind: 'tls', detail };
  if (code === 'ECONNRESET' || /socket hang up|Invalid WebSocket frame/i.test(detail)) return { kind: 'reset', detail };
  if (['EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EAI_AGAIN'].includes(code)) return { kind: 'unreachable', detail };
  return { kind: 'other', detail };
}

function hostPort(url: string): { host: string; port: string } {
  try {
    const u = new URL(url);
    return { host: u.hostname, port: u.port || (u.protocol === 'wss:' ? '443' : '80') };
  } catch {
    return { host: url, port: '?' };
  }
}

/** One sentence: which failure, and what to do about it. */
export function describeFailure(url: string, failure: ConnectFailure): string {
  const { host, port } = hostPort(url);
  switch (failure.kind) {
    case 'refused':
      return `connection refused: nothing listens on port ${port} of ${host}. Start rosbridge there (roslaunch rosbridge_server rosbridge_websocket.launch, or keystep sim), or fix the port in --rosbridge`;
    case 'unknown_host':
      return `unknown host "${host}" (the name does not resolve: ${failure.detail}). Check the host name in --rosbridge, or use the robot's IP address`;
    case 'not_rosbridge': {
      const status = /(\d{3})/.exec(failure.detail)?.[1] ?? '?';
      return `${host}:${port} answered with HTTP ${status} instead of opening a WebSocket: it is a web server, not rosbridge. rosbridge listens on a port of its own (9090 by default)`;
    }
    case 'tls':
      return url.startsWith('wss:')
        ? `the TLS handshake failed (${failure.detail.split('\n')[0]}). If the server does not use TLS, connect with ws:// instead of wss://; if it does, check its certificate`
        : `the TLS handshake failed (${failure.detail.split('\n')[0]})`;
    case 'bad_url':
      return `"${url}" is not a URL a WebSocket can open (${failure.detail}); write ws://host:port with a port from 1 to 65535`;
    case 'reset':
      return `the server at ${host}:${port} dropped the connection during the WebSocket handshake (${failure.detail})${url.startsWith('ws:') ? '. If it is a TLS server, connect with wss://' : ''}; is it rosbridge?`;
    case 'unreachable':
      return `${host} cannot be reached (${failure.detail}): check the network between this machine and the robot`;
    case 'other':
      return failure.detail;
  }
}

/** The first connection failed in a way waiting will not fix; says which way. */
export class ConnectError extends Error {
  override readonly name = 'ConnectError' as const;
  constructor(readonly url: string, readonly failure: ConnectFailure) {
    super(`could not connect to rosbridge at ${url}: ${describeFailure(url, failure)}`);
  }
}

export class ConnectTimeoutError extends Error {
  override readonly name = 'ConnectTimeoutError' as const;
  constructor(readonly url: string, readonly timeoutMs: number, readonly lastFailure?: ConnectFailure) {
    super(
      `could not connect to rosbridge at ${url} within ${timeoutMs} ms; ${
        lastFailure ? `the last attempt failed: ${describeFailure(url, lastFailure)}` : 'is rosbridge_server (or keystep sim) running there?'
      }`,
    );
  }
}

/** The connection dropped during a run and did not come back within the reconnect limit. */
export class ReconnectLimitError extends Error {
  override readonly name = 'ReconnectLimitError' as const;
  constructor(readonly url: string, readonly attempts: number, readonly lastFailure?: ConnectFailure) {
    super(
      `lost the connection to rosbridge at ${url} and gave up after ${attempts} reconnect attempt${attempts === 1 ? '' : 's'}${
        lastFailure ? ` (last: ${describeFailure(url, lastFailure)})` : ''
      }; raise --reconnect-limit to wait longer`,
    );
  }
}

/** No frame came on the keyframe camera's topic in time. */
export class CameraTimeoutError extends Error {
  override readonly name = 'CameraTimeoutError' as const;
  constructor(
    readonly topic: string,
    readonly messageType: string,
    readonly timeoutMs: number,
    context: { robot: string; url: string; rosVersion: 1 | 2 },
  ) {
    const hints = [
      `is the camera driver publishing on ${topic}? (rostopic hz ${topic})`,
      `is the topic name in the profile right?`,
      `is ${messageType} the topic's type? (rostopic type ${topic}; a subscription with another type gets nothing)`,
    ];
    if (/\/msg\//.test(messageType)) {
      hints.push(`"${messageType}" is the ROS 2 spelling: a ROS 1 rosbridge refuses it without an error; if the robot runs ROS 1, set ros.rosVersion to 1 and write ${messageType.replace('/msg/', '/')}`);
    }
    super(
      `no camera frame on ${topic} (${messageType}) within ${timeoutMs} ms. Check: ${hints.join('; ')}. ` +
        `keystep doctor --robot ${context.robot} --rosbridge ${context.url} checks every topic of the profile`,
    );
  }
}

/** Another executor holds the robot. */
export class LeaseRefusedError extends Error {
  override readonly name = 'LeaseRefusedError' as const;
  constructor(readonly runId: string, readonly holder: string, readonly expiresInMs: number | undefined) {
    super(
      `the robot is held by run "${holder}"${expiresInMs !== undefined ? ` (its lease runs ${Math.ceil(expiresInMs / 1000)} s more unless renewed)` : ''}: ` +
        `one executor drives a robot at a time. Wait for that run to finish or stop it; a run that was killed frees the robot when its lease expires`,
    );
  }
}

/** The robot never answered a lease request: it does not implement the lease, or the topics are wrong. */
export class LeaseUnansweredError extends Error {
  override readonly name = 'LeaseUnansweredError' as const;
  constructor(readonly request: { name: string; type: string }, readonly state: { name: string; type: string }, readonly timeoutMs: number) {
    super(
      `the robot did not answer a lease request on ${request.name} within ${timeoutMs} ms (answers come on ${state.name}). ` +
        `A robot node must implement the lease (see "The robot contract" in the README; robot-kit/keystep_robot.py does)` +
        (/\/msg\//.test(request.type) ? `; on a ROS 1 robot, "${request.type}" is refused: set ros.rosVersion to 1 and use ROS 1 type spellings` : '') +
        `. --no-lease runs without one, and then nothing stops a second executor`,
    );
  }
}

/** During a run, the robot gave the lease to another run (ours expired, e.g. over a long drop). */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError' as const;
  constructor(readonly runId: string, readonly holder: string | null) {
    super(`run "${runId}" lost its lease on the robot${holder ? ` to run "${holder}"` : ''}; the run stopped so that two executors never drive it at once`);
  }
}

const LINK_ERRORS = new Set([
  'ConnectError',
  'ConnectTimeoutError',
  'ReconnectLimitError',
  'CameraTimeoutError',
  'LeaseRefusedError',
  'LeaseUnansweredError',
  'LeaseLostError',
]);

export type RobotLinkError =
  | ConnectError
  | ConnectTimeoutError
  | ReconnectLimitError
  | CameraTimeoutError
  | LeaseRefusedError
  | LeaseUnansweredError
  | LeaseLostError;

/** The robot or the network got in the way (not the user's input, not keystep). */
export function isRobotLinkError(e: unknown): e is RobotLinkError {
  return e instanceof Error && LINK_ERRORS.has(e.name);
}
