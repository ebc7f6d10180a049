import { describe, expect, it } from 'vitest';
import { aborted, draft, harness, robot, seeded, World, type Harness } from './fakes.js';

/**
 * Connection drops at random points: before the robot got the command, after it acted but before its
 * answer came back, and while no step is in flight. Whatever the drop point, the robot must execute
 * every step exactly once: the same step id is re-sent after CONNECTION_RESTORED and the robot dedupes.
 */
describe('connection drops', () => {
  it('execute every step exactly once across 100 seeded drop points', async () => {
    let drops = 0;
    let dropsAfterActing = 0;
    for (let seed = 1; seed <= 100; seed++) {
      const random = seeded(seed);
      const tasks = Array.from({ length: 3 + Math.floor(random() * 4) }, (_, i) => `task step ${i}`);
      const world = new World(tasks, 0.2, random);
      const actedThenCut = new Set<string>();
      const answeredFromCache = new Set<string>();
      // The drop is simulated by the environment reporting it, as the rosbridge client would.
      const send = (h: Harness, type: 'CONNECTION_LOST' | 'CONNECTION_RESTORED') => {
        // A drop scheduled by the last planner call may land after the run has finished.
        if (h.actor.getSnapshot().status === 'active') h.actor.send({ type });
      };
      const drop = (h: Harness) =>
        setImmediate(() => {
          send(h, 'CONNECTION_LOST');
          setImmediate(() => send(h, 'CONNECTION_RESTORED'));
        });
      const h: Harness = harness({
        input: { runId: `drop-${seed}`, robot: robot({ maxReplans: 100 }) },
        planner: (input) => {
          if (random() < 0.2) drop(h);
          return draft(input.version, world.remaining());
        },
        dispatcher: (input, signal) => {
          const r = random();
          if (r < 0.35) {
            drops++;
            if (r < 0.175) {
              dropsAfterActing++;
              world.robot.execute(input);
              actedThenCut.add(input.stepId);
            }
            drop(h);
            return aborted(signal);
          }
          const fb = world.robot.execute(input);
          if (fb.duplicate) answeredFromCache.add(input.stepId);
          return fb;
        },
      });
      h.actor.start();
      const snap = await h.done();
      const ctx = `seed ${seed}`;
      expect(snap.value, ctx).toBe('succeeded');
      expect(world.done, ctx).toBe(tasks.length);
      expect(world.repeats, ctx).toEqual([]);
      // Nothing skipped: every id the executor sent was executed by the robot.
      for (const d of h.dispatches) expect(world.robot.results.has(d.stepId), `${ctx} ${d.stepId}`).toBe(true);
      // A re-send is always the id that was cut off, never a new one.
      h.dispatches.forEach((d, i) => {
        if (d.redispatch) expect(d.stepId, ctx).toBe(h.dispatches[i - 1]!.stepId);
      });
      // The executor's "done" is the robot's "done", in task order.
      const done = snap.output!.steps.filter((s) => s.status === 'done');
      expect(done.map((s) => s.instruction), ctx).toEqual(tasks);
      for (const s of done) expect(world.robot.results.get(`drop-${seed}/${s.stepIndex}/${s.attempt}`)?.status, ctx).toBe('done');
      // Every answer lost after the robot acted was collected later from the robot's cache.
      expect([...answeredFromCache].sort(), ctx).toEqual([...actedThenCut].sort());
      const ids = new Set(snap.output!.steps.map((s) => `${s.stepIndex}/${s.attempt}`));
      expect(ids.size, ctx).toBe(snap.output!.steps.length);
    }
    // The seeds do exercise both kinds of drop.
    expect(drops).toBeGreaterThan(50);
    expect(dropsAfterActing).toBeGreaterThan(20);
  });
});
