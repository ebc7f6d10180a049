import { Service } from 'roslib';
import type { RosConnection } from './connection.js';

export class ServiceCallError extends Error {
  override readonly name = 'ServiceCallError' as const;
  constructor(message: string, readonly context: { service: string; attempts: number }, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Calls a ROS service through rosbridge and survives a dropped socket: a response lost with the
 * connection is asked for again after the reconnect, until `timeoutMs` runs out. Only for idempotent
 * services (queries like the sim oracle): a call that did run may run again.
 */
export function callIdempotentService<Req, Res>(
  connection: RosConnection,
  name: string,
  serviceType: string,
  request: Req,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<Res> {
  const service = new Service<Req, Res>({ ros: connection.ros, name, serviceType });
  return new Promise<Res>((resolve, reject) => {
    let attempts = 0;
    let settled = false;
    let call = 0;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      connection.off('connected', resend);
      options.signal?.removeEventListener('abort', abort);
      fn();
    };
    const send = () => {
      attempts++;
      const mine = ++call;
      service.callService(
        request,
        (response) => {
          if (mine === call) finish(() => resolve(response));
        },
        (error) => {
          if (mine === call) finish(() => reject(new ServiceCallError(`${name} failed: ${error}`, { service: name, attempts })));
        },
      );
    };
    // After a reconnect the answer to the call in flight is gone with the old socket: ask again.
    const resend = () => send();
    const abort = () => finish(() => reject(new ServiceCallError(`${name}: call aborted`, { service: name, attempts })));
    const timer = setTimeout(
      () => finish(() => reject(new ServiceCallError(`${name} did not answer within ${options.timeoutMs} ms (${attempts} attempt(s))`, { service: name, attempts }))),
      options.timeoutMs,
    );
    if (options.signal?.aborted) return abort();
    options.signal?.addEventListener('abort', abort, { once: true });
    connection.on('connected', resend);
    send();
  });
}
