import { DevicePool, type PoolStats } from '../model/device-pool.js';

export interface Queued<T> {
  value: T;
  /** Waiting for the device, ms. */
  queueMs: number;
  /** Running on it, ms. */
  runMs: number;
  device: string;
}

/**
 * Planning requests, one queue per model device: a plan goes to the device with the fewest plans
 * queued or running (DevicePool's rule) and waits for the plans before it there, so a device plans
 * one request at a time and a request's wait is measured. The model's own pool still places each
 * generation call of a plan on its least busy session.
 */
export class PlanQueue {
  private readonly pool: DevicePool<string>;
  private active = 0;

  constructor(devices: readonly string[]) {
    this.pool = new DevicePool(devices.map((device) => ({ device, session: device })));
  }

  get devices(): string[] {
    return this.pool.devices;
  }

  /** Runs `job` when its device is free; a request aborted while waiting never runs. */
  async run<T>(job: (device: string) => Promise<T>, signal?: AbortSignal): Promise<Queued<T>> {
    const queuedAt = performance.now();
    let startedAt = queuedAt;
    return this.pool.run(async (_session, device) => {
      startedAt = performance.now();
      signal?.throwIfAborted();
      this.active++;
      try {
        const value = await job(device);
        const endedAt = performance.now();
        return { value, queueMs: round(startedAt - queuedAt), runMs: round(endedAt - startedAt), device };
      } finally {
        this.active--;
      }
    });
  }

  stats(): { depth: number; running: number; devices: PoolStats[] } {
    const devices = this.pool.stats();
    const pending = devices.reduce((n, d) => n + d.pending, 0);
    return { depth: pending - this.active, running: this.active, devices };
  }

  /** Waits for the plans already queued. */
  close(): Promise<void> {
    return this.pool.close(async () => undefined);
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;
