import { errorText, ProtocolStateError, ServiceNotFoundError } from './errors.js';
import type { RosTypeName } from './message-types.js';
import type { CallServiceOut, OpId } from './protocol.js';

/**
 * Service routing. A service is provided either in process (the simulated robot) or by a client
 * that sent advertise_service; a call from anyone is routed to the provider and its answer back
 * to the caller, as rosbridge does through ROS.
 *
 * Where rosbridge loses information this keeps it: a client provider's `result: false` and its
 * `values` reach the caller (rosbridge drops `result`, and its ROS caller cannot tell), and a
 * provider that unadvertises or disconnects fails its pending calls instead of leaving them hang.
 */

export interface ServiceCallMeta {
  /** Client id of the caller, or `server` for in-process calls. */
  readonly caller: string;
  /** Service name as the caller wrote it. */
  readonly service: string;
}

export type LocalServiceHandler = (args: unknown, meta: ServiceCallMeta) => unknown;

export type ServiceProvider =
  | { readonly kind: 'local'; readonly handler: LocalServiceHandler }
  | {
      readonly kind: 'client';
      readonly clientId: string;
      /** Name as the provider advertised it; roslib routes incoming calls by that exact string. */
      readonly advertisedAs: string;
      readonly send: (op: CallServiceOut) => void;
    };

interface ServiceEntry {
  readonly name: string;
  readonly type: RosTypeName;
  readonly provider: ServiceProvider;
}

/** How a finished call reaches its caller. Called exactly once. */
export type Respond = (result: boolean, values: unknown) => void;

interface PendingCall {
  readonly requestId: string;
  readonly service: string;
  readonly providerId: string;
  readonly callerId: string;
  readonly respond: Respond;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export interface ServiceInfo {
  readonly name: string;
  readonly type: string;
  readonly provider: string;
  readonly pendingCalls: number;
}

export class ServiceRegistry {
  private readonly services = new Map<string, ServiceEntry>();
  private readonly pending = new Map<string, PendingCall>();
  private nextRequest = 0;

  constructor(private readonly onHandlerError: (service: string, err: unknown) => void) {}

  get size(): number {
    return this.services.size;
  }

  get pendingCalls(): number {
    return this.pending.size;
  }

  list(): ServiceInfo[] {
    return [...this.services.values()].map((s) => ({
      name: s.name,
      type: s.type.given,
      provider: s.provider.kind === 'local' ? 'server' : s.provider.clientId,
      pendingCalls: [...this.pending.values()].filter((p) => p.service === s.name).length,
    }));
  }

  providerOf(name: string): string | undefined {
    const s = this.services.get(name);
    if (s === undefined) return undefined;
    return s.provider.kind === 'local' ? 'server' : s.provider.clientId;
  }

  /**
   * Registers a provider. A client may take over another client's service (rosbridge: "Duplicate
   * service advertised. Overwriting"), failing the old provider's pending calls; returns whether it
   * replaced one. Services of the server itself are not up for grabs.
   */
  advertise(name: string, type: RosTypeName, provider: ServiceProvider): boolean {
    const existing = this.services.get(name);
    if (existing?.provider.kind === 'local') {
      throw new ProtocolStateError(`Service ${name} is provided by the bridge itself and cannot be overwritten.`);
    }
    if (existing !== undefined) this.failPending((p) => p.service === name, `Service ${name} was re-advertised by another provider`);
    this.services.set(name, { name, type, provider });
    return existing !== undefined;
  }

  /** Removes `name` if `ownerId` provides it; returns whether it did. */
  unadvertise(name: string, ownerId: string): boolean {
    const entry = this.services.get(name);
    if (entry === undefined || (entry.provider.kind === 'local' ? 'server' : entry.provider.clientId) !== ownerId) return false;
    this.services.delete(name);
    this.failPending((p) => p.service === name, `Service ${name} was unadvertised`);
    return true;
  }

  /**
   * Routes a call. `name` is resolved; `calledAs` is the caller's spelling. Throws
   * {@link ServiceNotFoundError}; every other failure arrives through `respond`.
   */
  call(name: string, calledAs: string, args: unknown, callerId: string, respond: Respond, timeoutMs = 0): void {
    const entry = this.services.get(name);
    if (entry === undefined) throw new ServiceNotFoundError(calledAs);
    const provider = entry.provider;
    const timeoutText = `Timeout exceeded while waiting for service response from ${calledAs}`;
    if (provider.kind === 'local') {
      const meta: ServiceCallMeta = { caller: callerId, service: calledAs };
      let done = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish: Respond = (result, values) => {
        if (done) return;
        done = true;
        if (timer !== undefined) clearTimeout(timer);
        respond(result, values);
      };
      if (timeoutMs > 0) {
        timer = setTimeout(() => finish(false, timeoutText), timeoutMs);
        timer.unref?.();
      }
      // Run the handler outside the caller's stack so a throw in it is a failed call, not a crash.
      Promise.resolve()
        .then(() => provider.handler(args, meta))
        .then(
          (values) => finish(true, values ?? {}),
          // Throwing is how a handler fails a call: the caller hears of it, it is no server fault.
          (err: unknown) => finish(false, errorText(err)),
        )
        .catch((err: unknown) => this.onHandlerError(name, err));
      return;
    }
    const requestId = `service_request:${provider.advertisedAs}:${++this.nextRequest}`;
    const call: PendingCall = { requestId, service: name, providerId: provider.clientId, callerId, respond, timer: undefined };
    if (timeoutMs > 0) {
      call.timer = setTimeout(() => this.finish(requestId, false, timeoutText), timeoutMs);
      call.timer.unref?.();
    }
    this.pending.set(requestId, call);
    provider.send({ op: 'call_service', id: requestId, service: provider.advertisedAs, args: args ?? {} });
  }

  /**
   * A client provider's service_response. Throws {@link ProtocolStateError} (with rosbridge's
   * wording) when the service or id is not one this client is answering.
   */
  respond(providerId: string, service: string, requestId: OpId | undefined, result: boolean, values: unknown): void {
    const call = requestId === undefined ? undefined : this.pending.get(String(requestId));
    if (call === undefined || call.providerId !== providerId) {
      const owned = [...this.services.values()].some((s) => s.provider.kind === 'client' && s.provider.clientId === providerId);
      if (!owned) throw new ProtocolStateError(`Service ${service} has not been advertised via rosbridge.`);
      throw new ProtocolStateError(`Received service response for unrecognized id: ${String(requestId)}`, 'warning');
    }
    this.finish(call.requestId, result, values ?? (result ? {} : ''));
  }

  /** Forgets everything a departing client provided or awaited. */
  removeClient(clientId: string): void {
    for (const entry of [...this.services.values()]) {
      if (entry.provider.kind === 'client' && entry.provider.clientId === clientId) this.unadvertise(entry.name, clientId);
    }
    for (const call of [...this.pending.values()]) {
      if (call.callerId === clientId) this.drop(call);
    }
  }

  removeLocal(name: string): void {
    this.unadvertise(name, 'server');
  }

  close(): void {
    this.failPending(() => true, 'The bridge is shutting down');
    this.services.clear();
  }

  private failPending(match: (p: PendingCall) => boolean, why: string): void {
    for (const call of [...this.pending.values()]) if (match(call)) this.finish(call.requestId, false, why);
  }

  private finish(requestId: string, result: boolean, values: unknown): void {
    const call = this.pending.get(requestId);
    if (call === undefined) return;
    this.drop(call);
    call.respond(result, values);
  }

  private drop(call: PendingCall): void {
    if (call.timer !== undefined) clearTimeout(call.timer);
    this.pending.delete(call.requestId);
  }
}
