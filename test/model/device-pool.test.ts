import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DevicePool } from '../../src/model/device-pool.js';
import { WorldModel } from '../../src/model/world-model.js';
import { heldOutShirt, MODEL_DIR } from './fixtures.js';

describe('device pool', () => {
  it('runs one job at a time per device and spreads jobs over devices', async () => {
    const pool = new DevicePool([
      { device: 'a', session: 'A' },
      { device: 'b', session: 'B' },
    ]);
    const running = new Map<string, number>();
    let overlap = false;
    const job = async (session: string) => {
      running.set(session, (running.get(session) ?? 0) + 1);
      if (running.get(session)! > 1) overlap = true;
      await new Promise((r) => setTimeout(r, 5));
      running.set(session, running.get(session)! - 1);
      return session;
    };
    const results = await Promise.all(Array.from({ length: 8 }, () => pool.run(job)));
    expect(overlap).toBe(false);
    expect(results.filter((r) => r === 'A')).toHaveLength(4);
    expect(pool.stats().map((s) => s.served)).toEqual([4, 4]);
  });

  it('keeps serving after a job fails', async () => {
    const pool = new DevicePool([{ device: 'a', session: 1 }]);
    await expect(pool.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(pool.run(async (s) => s + 1)).resolves.toBe(2);
  });

  it('refuses work once closed', async () => {
    const pool = new DevicePool([{ device: 'a', session: 1 }]);
    await pool.close(async () => undefined);
    await expect(pool.run(async () => 1)).rejects.toThrow(/closed/);
  });
});

describe('device pool with real CPU sessions', () => {
  let model: WorldModel;
  beforeAll(async () => {
    model = await WorldModel.open({ dir: MODEL_DIR, devices: ['cpu', 'cpu', 'cpu'], threads: 1 });
  });
  afterAll(async () => {
    await model.close();
  });

  it('answers concurrent keyframe requests on every session, each as a lone request would', async () => {
    const shirt = heldOutShirt();
    const codes = await model.encodeImage(shirt.observationSvg);
    const requests = shirt.steps.slice(0, 6).map((s, i) => ({ step: s.instruction, seed: i }));
    const lone = [];
    for (const r of requests) lone.push(Array.from(await model.keyframe('aloha-agilex', 'fold the t-shirt', codes, r.step, { sampler: 'dida', seed: r.seed, passes: 2, temperature: 1 })));
    const before = model.pool.stats().map((s) => s.served);
    const together = await Promise.all(
      requests.map((r) => model.keyframe('aloha-agilex', 'fold the t-shirt', codes, r.step, { sampler: 'dida', seed: r.seed, passes: 2, temperature: 1 })),
    );
    expect(together.map((c) => Array.from(c))).toEqual(lone);
    const servedHere = model.pool.stats().map((s, i) => s.served - before[i]!);
    expect(servedHere).toEqual([2, 2, 2]);
    expect(model.pool.stats().every((s) => s.pending === 0)).toBe(true);
  });
});
