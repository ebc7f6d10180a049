/**
 * One worker per configured device; each request goes to the device with the fewest requests queued
 * or running (ties: the device used least so far), and each device runs its requests one at a time,
 * so a session never sees two generations interleave on the same device.
 */
export interface PoolStats {
  device: string;
  served: number;
  pending: number;
}

interface Worker<S> {
  device: string;
  session: S;
  tail: Promise<unknown>;
  pending: number;
  served: number;
}

export class DevicePool<S> {
  private readonly workers: Worker<S>[];
  private closed = false;

  constructor(sessions: readonly { device: string; session: S }[]) {
    if (sessions.length === 0) throw new Error('a device pool needs at least one device');
    this.workers = sessions.map((s) => ({ ...s, tail: Promise.resolve(), pending: 0, served: 0 }));
  }

  /** Opens one session per device with `open`, all at once. */
  static async open<S>(devices: readonly string[], open: (device: string) => Promise<S>): Promise<DevicePool<S>> {
    const sessions = await Promise.all(devices.map(async (device) => ({ device, session: await open(device) })));
    return new DevicePool(sessions);
  }

  get devices(): string[] {
    return this.workers.map((w) => w.device);
  }

  /** Any session, for facts every session shares (cache shape). */
  get first(): S {
    return this.workers[0]!.session;
  }

  stats(): PoolStats[] {
    return this.workers.map((w) => ({ device: w.device, served: w.served, pending: w.pending }));
  }

  /** Runs `job` on the least busy device, after that device's earlier jobs. */
  run<T>(job: (session: S, device: string) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the device pool is closed'));
    const worker = this.workers.reduce((best, w) => (w.pending < best.pending || (w.pending === best.pending && w.served < best.served) ? w : best));
    worker.pending++;
    const result = worker.tail.then(() => job(worker.session, worker.device));
    worker.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result.finally(() => {
      worker.pending--;
      worker.served++;
    });
  }

  /** Waits for running jobs, then releases every session with `release`. */
  async close(release: (session: S) => Promise<void>): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.tail));
    await Promise.all(this.workers.map((w) => release(w.session)));
  }
}
