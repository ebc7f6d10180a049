import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunLogError } from '../../src/executor/errors.js';
import { RunLog, parseEvents } from '../../src/executor/run-log.js';
import type { RunEvent } from '../../src/executor/run-event.js';
import { Plan } from '../../src/schema/plan.js';
import type { ValidatorInput } from '../../src/executor/machine.js';
import { aborted, draft, feedback, harness, issue, robot, seeded, World, type Harness } from './fakes.js';

const root = mkdtempSync(join(tmpdir(), 'keystep-runs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Events as the machine emitted them, without the writer's stamps. */
const unstamped = (events: readonly RunEvent[]) => events.map(({ seq: _s, at: _a, ...rest }) => rest);

describe('run log', () => {
  it('writes events, plans, keyframes and observations that read back as they were emitted', async () => {
    const log = RunLog.create(root, 'roundtrip');
    const h = harness({
      input: { runId: 'roundtrip', backend: 'oracle', seed: 7, scene: 'tshirt' },
      plans: [['pick', 'fold'], ['fold again']],
      dispatcher: (input) => feedback(input, input.stepIndex === 1 ? 'miss' : 'done', { reason: 'slip', keyframeDistance: 0.4 }),
      onRecord: (r) => log.record(r),
    });
    h.actor.start();
    await h.done();
    log.close();

    const read = RunLog.open(root, 'roundtrip').readEvents();
    expect(read.torn).toBe(false);
    expect(unstamped(read.events)).toEqual(h.events);
    expect(read.events.map((e) => e.seq)).toEqual(h.events.map((_, i) => i));
    expect(read.events[0]).toMatchObject({ type: 'run_started', robot: 'aloha-agilex', task: 'fold the t-shirt', scene: 'tshirt', backend: 'oracle', seed: 7 });

    const plan = Plan.parse(JSON.parse(readFileSync(join(root, 'roundtrip', 'plan-v2.json'), 'utf8')));
    expect(plan.steps.map((s) => [s.instruction, s.keyframe])).toEqual([['fold again', 'plan-v2-step-00.png']]);
    expect(plan.observation).toBe('observation-002.png');
    const created = h.records.filter((r) => r.event.type === 'plan_created').flatMap((r) => r.files ?? []);
    for (const f of created) expect(new Uint8Array(readFileSync(join(root, 'roundtrip', f.name)))).toEqual(f.bytes);
    expect(RunLog.open(root, 'roundtrip').loadPlan(1).steps.map((s) => s.keyframe)).toEqual(draft(1, ['pick', 'fold']).steps.map((s) => s.keyframe));
    expect(readFileSync(join(root, 'roundtrip', 'observation-001.png')).subarray(1, 4).toString()).toBe('PNG');
    expect(() => RunLog.create(root, 'roundtrip')).toThrow(/already has a log/);
  });

  it('skips a torn last line, names the line of any other bad one, and cuts the torn tail before appending', () => {
    const log = RunLog.create(root, 'torn');
    log.append({ type: 'paused' });
    log.append({ type: 'resumed' });
    log.close();
    const file = join(root, 'torn', 'events.jsonl');
    appendFileSync(file, '{"type":"connection_lo');
    const reopened = RunLog.open(root, 'torn');
    expect(reopened.readEvents()).toMatchObject({ torn: true, events: [{ type: 'paused' }, { type: 'resumed' }] });
    reopened.append({ type: 'connection_lost' });
    reopened.close();
    expect(readFileSync(file, 'utf8').split('\n').map((l) => (l === '' ? '' : JSON.parse(l).type))).toEqual([
      'paused',
      'resumed',
      'connection_lost',
      '',
    ]);
    expect(RunLog.open(root, 'torn').readEvents()).toMatchObject({ torn: false, events: [{ seq: 0 }, { seq: 1 }, { seq: 2 }] });

    const bad = '{"type":"paused"}\n{"type":"replan","replans":"two"}\n{"type":"resumed"}\n';
    try {
      parseEvents(bad, 'runs/x/events.jsonl');
      expect.unreachable('a bad middle line was accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(RunLogError);
      expect((e as RunLogError).line).toBe(2);
      expect((e as RunLogError).message).toMatch(/^runs\/x\/events\.jsonl:2: /);
    }
    // A complete last line that is not an event is corruption, not a torn write.
    expect(() => parseEvents('{"type":"paused"}\n{"type":"nope"}\n')).toThrow(RunLogError);
    // A last line cut just before its newline is a whole event.
    expect(parseEvents('{"type":"paused"}\n{"type":"resumed"}')).toMatchObject({ torn: false, events: [{}, {}] });
  });

  it('refuses to log an event it could not read back', () => {
    const log = RunLog.create(root, 'invalid');
    expect(() => log.append({ type: 'observed', round: 1, file: '../escape.png' })).toThrow(RunLogError);
    log.close();
    expect(RunLog.open(root, 'invalid').readEvents().events).toEqual([]);
  });

  // With `prefix`, the validator refuses every step after the second, so the run goes as 2-step
  // prefixes and continuations; with `incomplete`, the planner writes two steps at a time and the
  // validator accepts them as short of the task. Either way a resume that forgot the plan was partial
  // would end the run early, as succeeded with steps left.
  it.each(['whole', 'prefix', 'incomplete'] as const)('resumes from a cut at any event: the run finishes, no done step is sent again, nothing runs twice (%s plans)', async (mode) => {
    const tasks = ['grasp the collar', 'fold the left sleeve', 'fold the right sleeve', 'fold in half', 'place on the rack'];
    const partial = mode !== 'whole';
    let world: World;
    const validator =
      mode === 'prefix'
        ? (req: ValidatorInput) => (req.plan.steps.length > 2 ? { ok: false, issues: [issue('too far ahead', 'error', 2)] } : { ok: true, issues: [] })
        : mode === 'incomplete'
          ? (req: ValidatorInput) => {
              const short = req.plan.steps.length < world.remaining().length;
              return { ok: true, issues: short ? [issue('steps left', 'warning', null)] : [], incomplete: short };
            }
          : undefined;
    const remaining = () => (mode === 'incomplete' ? world.remaining().slice(0, 2) : world.remaining());
    let cuts = 0;
    for (let cut = 1; ; cut++) {
      const runId = `cut-${mode[0]}-${cut}`;
      const random = seeded(cut);
      world = new World(tasks, 0.3, () => random());
      const log = RunLog.create(root, runId);
      let logged = 0;
      let dead = false;
      let lastDispatched: string | null = null;
      const input = { runId, robot: robot({ maxReplans: 50 }), task: 'fold the t-shirt', backend: 'fake', seed: cut };
      // The process dies right after event number `cut` reaches the disk; the robot lives on.
      const first: Harness = harness({
        input,
        planner: (req) => (dead ? new Promise(() => {}) : draft(req.version, remaining())),
        ...(validator ? { validator } : {}),
        dispatcher: (req, signal) => {
          if (dead) {
            // The command left before the crash half of the time: the robot acts, the answer is lost.
            // Only a step whose step_dispatched reached the disk can have left: the machine logs
            // (fsync) on entering `dispatching`, before it invokes the dispatcher that sends.
            if (req.stepId === lastDispatched && random() < 0.5) world.robot.execute(req);
            return aborted(signal);
          }
          return world.robot.execute(req);
        },
        onRecord: (r) => {
          if (dead) return;
          log.record(r);
          if (r.event.type === 'step_dispatched') lastDispatched = r.event.stepId;
          if (++logged === cut) dead = true;
        },
      });
      first.actor.start();
      await new Promise((r) => setImmediate(r));
      const finishedBeforeCut = first.actor.getSnapshot().status === 'done' && !dead;
      first.actor.stop();
      log.close();
      if (finishedBeforeCut) break;
      if (cut % 3 === 0) appendFileSync(join(root, runId, 'events.jsonl'), '{"type":"step_feedb');

      const reopened = RunLog.open(root, runId);
      const state = reopened.resumeState();
      if (state.finished !== null) {
        expect(state.finished.outcome).toBe('succeeded');
        continue;
      }
      cuts++;
      expect(state.started).toMatchObject({ runId, robot: 'aloha-agilex', seed: cut, backend: 'fake' });
      const second = harness({
        input: { ...input, robot: robot({ maxReplans: 50 }), resume: state.resume },
        planner: (req) => draft(req.version, remaining()),
        ...(validator ? { validator } : {}),
        dispatcher: (req) => world.robot.execute(req),
        onRecord: (r) => reopened.record(r),
      });
      second.actor.start();
      const snap = await second.done();
      reopened.close();
      const ctx = `cut after event ${cut}`;
      expect(snap.value, ctx).toBe('succeeded');
      expect(world.done, ctx).toBe(tasks.length);
      expect(world.repeats, ctx).toEqual([]);
      for (const d of second.dispatches) expect(state.doneStepIndexes, ctx).not.toContain(d.stepIndex);
      if (state.resume.redispatch) expect(second.dispatches[0]!.stepId, ctx).toBe(lastDispatched);
      // The report covers the whole run, both processes.
      expect(snap.output!.steps.filter((s) => s.status === 'done').map((s) => s.instruction), ctx).toEqual(tasks);
      const all = RunLog.open(root, runId).readEvents();
      expect(all.torn, ctx).toBe(false);
      expect(all.events.filter((e) => e.type === 'run_resumed'), ctx).toHaveLength(1);
      expect(RunLog.open(root, runId).resumeState().finished?.outcome, ctx).toBe('succeeded');
      if (partial) expect(all.events.some((e) => e.type === 'plan_continued'), ctx).toBe(true);
    }
    expect(cuts).toBeGreaterThan(15);
  });

  it('resumes a step that was in flight with the same step id', async () => {
    const log = RunLog.create(root, 'inflight');
    const first = harness({
      input: { runId: 'inflight' },
      dispatcher: (req, signal) => (req.stepIndex === 1 ? aborted(signal) : feedback(req, 'done')),
      onRecord: (r) => log.record(r),
    });
    first.actor.start();
    await new Promise((r) => setImmediate(r));
    first.actor.stop();
    log.close();
    const state = RunLog.open(root, 'inflight').resumeState();
    expect(state.resume).toMatchObject({ start: 'dispatch', nextStepIndex: 2, attempt: 0, redispatch: true, replans: 0, planVersion: 1 });
    expect(state.resume.plan).toMatchObject({ base: 0, cursor: 1 });
    expect(state.doneStepIndexes).toEqual([0]);
    const second = harness({ input: { runId: 'inflight', resume: state.resume } });
    second.actor.start();
    const snap = await second.done();
    expect(second.dispatches.map((d) => [d.stepId, d.redispatch])).toEqual([['inflight/1/0', true], ['inflight/2/0', false]]);
    expect(second.plannerCalls).toHaveLength(0);
    expect(second.events[0]).toMatchObject({ type: 'run_resumed', start: 'dispatch', nextStepIndex: 2 });
    expect(snap.output!.steps.map((s) => s.stepIndex)).toEqual([0, 1, 2]);
  });

  it('a failure logged without its replan is replanned, and counted, on resume', () => {
    const log = RunLog.create(root, 'halfreplan');
    const events: RunEvent[] = [
      { type: 'run_started', runId: 'halfreplan', robot: 'aloha-agilex', task: 't', maxValidationRetries: 2, limits: { stepTimeoutMs: 1, maxReplans: 1 } },
      { type: 'observed', round: 1, file: 'observation-001.png' },
      { type: 'plan_validated', version: 1, ok: true, issues: [], stepBase: 0 },
      { type: 'step_dispatched', stepIndex: 0, attempt: 0, stepId: 'halfreplan/0/0', planVersion: 1, planStep: 0, instruction: 'pick', keyframe: 'plan-v1-step-00.png', redispatch: false },
      { type: 'step_feedback', stepIndex: 0, attempt: 0, stepId: 'halfreplan/0/0', planVersion: 1, planStep: 0, instruction: 'pick', status: 'miss', reason: 'slip' },
    ];
    for (const e of events) log.append(e);
    log.close();
    const { resume } = RunLog.open(root, 'halfreplan').resumeState();
    expect(resume).toMatchObject({ start: 'replan', plan: null, attempt: 1, replans: 0, nextStepIndex: 1, rounds: 1 });
    expect(resume.failure).toMatchObject({ stepIndex: 0, status: 'miss', reason: 'slip' });
  });
});
