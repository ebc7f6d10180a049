import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { zodProblems } from '../errors/format.js';
import type { PlanDraft } from '../planner/planner.js';
import { Plan } from '../schema/plan.js';
import { RunLogError, messageOf } from './errors.js';
import type { ApprovalCounts, ApprovedStep, ExecutorResume } from './machine.js';
import {
  RunEvent,
  runFiles,
  type ReportIssue,
  type ResumeStart,
  type RunEventOf,
  type RunFile,
  type RunRecord,
  type RunReport,
  type StepRecord,
} from './run-event.js';

/*
 * `runs/<run-id>/` as the run happens: events.jsonl (one RunEvent a line), plan-v<k>.json with its
 * keyframes plan-v<k>-step-<nn>.png, and observation-<nnn>.png. Every write is synchronous and fsynced,
 * and a file is complete on disk before the event that names it is appended, so whatever a crash
 * leaves behind, every logged event can be acted on. A crash mid-append leaves at most one torn last
 * line, which readers skip and the next append cuts off.
 */

export interface ReadEvents {
  events: RunEvent[];
  /** The last line was cut off mid-write and was skipped. */
  torn: boolean;
}

export class RunLog {
  private fd: number | null = null;
  private seq: number;
  private tailChecked: boolean;

  private constructor(
    readonly dir: string,
    readonly runId: string,
    seq: number,
    tailChecked: boolean,
  ) {
    this.seq = seq;
    this.tailChecked = tailChecked;
  }

  get eventsFile(): string {
    return join(this.dir, runFiles.events);
  }

  /** Starts `<root>/<runId>/`; refuses to overwrite an existing run. */
  static create(root: string, runId: string): RunLog {
    const dir = join(root, runId);
    mkdirSync(dir, { recursive: true });
    const log = new RunLog(dir, runId, 0, true);
    try {
      log.fd = openSync(log.eventsFile, 'wx');
    } catch (e) {
      throw new RunLogError(`run "${runId}" already has a log; use --resume to continue it`, log.eventsFile, undefined, [], { cause: e });
    }
    fsyncDir(dir);
    return log;
  }

  /** An existing run, to read or (with append) continue. Reading does not modify the files. */
  static open(root: string, runId: string): RunLog {
    const dir = join(root, runId);
    const file = join(dir, runFiles.events);
    if (!existsSync(file)) throw new RunLogError(`no run "${runId}" under ${root}`, file);
    const log = new RunLog(dir, runId, 0, false);
    log.seq = log.readEvents().events.length;
    return log;
  }

  /** Appends one event, writing the files it names first. Returns the line as written. */
  append(event: RunEvent, files: readonly RunFile[] = []): RunEvent {
    const checked = RunEvent.safeParse(event);
    if (!checked.success) {
      // A line that cannot be read back would break --resume later; better to stop the run now.
      throw new RunLogError(`refusing to log an invalid ${event.type} event`, this.eventsFile, undefined, zodProblems(checked.error));
    }
    for (const f of files) this.writeFile(f.name, f.bytes);
    if (event.type === 'plan_created') this.writeFile(event.file, Buffer.from(`${JSON.stringify(event.plan, null, 2)}\n`));
    const line: RunEvent = { ...event, seq: this.seq, at: event.at ?? Date.now() };
    const fd = this.appendFd();
    writeAll(fd, Buffer.from(`${JSON.stringify(line)}\n`));
    fsyncSync(fd);
    this.seq++;
    return line;
  }

  /** The executor's `log` action: `machine.provide({ actions: { log: (_, r) => runLog.record(r) } })`. */
  record(record: RunRecord): void {
    this.append(record.event, record.files);
  }

  writeFile(name: string, bytes: Uint8Array): void {
    const fd = openSync(join(this.dir, name), 'w');
    try {
      writeAll(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  readFile(name: string): Uint8Array {
    try {
      // Plain Uint8Array, like the planner hands out: callers compare and re-send these bytes.
      return new Uint8Array(readFileSync(join(this.dir, name)));
    } catch (e) {
      throw new RunLogError(`cannot read ${name} of run "${this.runId}": ${messageOf(e)}`, join(this.dir, name), undefined, [], { cause: e });
    }
  }

  readEvents(): ReadEvents {
    return parseEvents(readFileSync(this.eventsFile, 'utf8'), this.eventsFile);
  }

  /** A logged plan version back in memory, keyframes loaded. */
  loadPlan(version: number): PlanDraft {
    const file = runFiles.plan(version);
    let raw: unknown;
    try {
      raw = JSON.parse(Buffer.from(this.readFile(file)).toString('utf8'));
    } catch (e) {
      if (e instanceof RunLogError) throw e;
      throw new RunLogError(`${file} is not JSON: ${messageOf(e)}`, join(this.dir, file));
    }
    const plan = Plan.safeParse(raw);
    if (!plan.success) throw new RunLogError(`${file} is not a keystep.plan/1 plan`, join(this.dir, file), undefined, zodProblems(plan.error));
    return draftFromPlan(plan.data, (name) => this.readFile(name));
  }

  /** What `--resume` needs, from the events on disk. */
  resumeState(): ResumeState {
    return resumeState(this.readEvents().events, (name) => this.readFile(name));
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private appendFd(): number {
    if (!this.tailChecked) {
      cutTornTail(this.eventsFile);
      this.tailChecked = true;
    }
    if (this.fd === null) this.fd = openSync(this.eventsFile, 'a');
    return this.fd;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Drops a torn last line (or completes one that only lacks its newline) so appends start clean. */
function cutTornTail(file: string): void {
  const text = readFileSync(file, 'utf8');
  if (text === '' || text.endsWith('\n')) return;
  const lastNl = text.lastIndexOf('\n');
  const fd = openSync(file, 'r+');
  try {
    if (parseLine(text.slice(lastNl + 1)).ok) {
      writeSync(fd, '\n', Buffer.byteLength(text));
    } else {
      ftruncateSync(fd, Buffer.byteLength(text.slice(0, lastNl + 1)));
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

type LineResult = { ok: true; event: RunEvent } | { ok: false; problems: { path: string; message: string }[] };

function parseLine(line: string): LineResult {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    return { ok: false, problems: [{ path: '(line)', message: `not JSON: ${messageOf(e)}` }] };
  }
  const parsed = RunEvent.safeParse(raw);
  return parsed.success ? { ok: true, event: parsed.data } : { ok: false, problems: zodProblems(parsed.error) };
}

/** Parses events.jsonl text; a bad last line without its newline is a torn write, anything else is an error. */
export function parseEvents(text: string, file: string = runFiles.events): ReadEvents {
  const lines = text.split('\n');
  const events: RunEvent[] = [];
  let torn = false;
  lines.forEach((line, i) => {
    const last = i === lines.length - 1;
    if (last && line === '') return;
    const parsed = parseLine(line);
    if (parsed.ok) {
      events.push(parsed.event);
    } else if (last) {
      torn = true;
    } else {
      const first = parsed.problems[0];
      const what = first ? `${first.path}: ${first.message}` : 'bad event';
      throw new RunLogError(`${file}:${i + 1}: ${what}`, file, i + 1, parsed.problems);
    }
  });
  return { events, torn };
}

function draftFromPlan(plan: Plan, readFile: (name: string) => Uint8Array): PlanDraft {
  return {
    id: plan.id,
    version: plan.version,
    backend: plan.backend,
    createdAt: plan.createdAt,
    ...(plan.scene !== undefined ? { scene: plan.scene } : {}),
    steps: plan.steps.map((s) => ({
      index: s.index,
      instruction: s.instruction,
      ...(s.action !== undefined ? { action: s.action } : {}),
      keyframe: readFile(s.keyframe),
    })),
  };
}

export interface ResumeState {
  /** How the run was started: robot id, task, scene, backend, seed, limits. */
  started: RunEventOf<'run_started'>;
  /** Set when the log already ends the run; there is nothing to resume. */
  finished: RunReport | null;
  /** Global step indexes the robot reported done: a resumed run never sends them again. */
  doneStepIndexes: number[];
  /** ExecutorInput.resume for the machine that continues the run. */
  resume: ExecutorResume;
}

/**
 * Replays the log to the point it stops. The rules mirror the machine's transitions (a done resets
 * `attempt`, a failure bumps it; an accepted plan starts at its logged stepBase), so a machine started
 * with `resume` is where the logged one was:
 *  - a step dispatched with no feedback logged is re-sent with the same id (the robot dedupes);
 *  - a failure with no `replan` after it is replanned (and counted against the limit) on resume;
 *  - after a `replan`, or a rejected draft, the resumed run starts a new planning round from a fresh
 *    observation (validation retries of the interrupted round are not carried over);
 *  - a plan accepted as a prefix (`plan_validated.prefix`) resumes as that prefix, and the run plans
 *    again when its steps are done; so does a plan accepted short of the task (`incomplete`).
 */
export function resumeState(events: readonly RunEvent[], readFile: (name: string) => Uint8Array): ResumeState {
  let started: RunEventOf<'run_started'> | null = null;
  let finished: RunReport | null = null;
  const plans = new Map<number, Plan>();
  const history: StepRecord[] = [];
  const issues: ReportIssue[] = [];
  let planVersion = 0;
  let rounds = 0;
  let replans = 0;
  let continuations = 0;
  let nextStepIndex = 0;
  let attempt = 0;
  let current: { version: number; base: number; cursor: number; prefix?: number; incomplete?: boolean } | null = null;
  let start: ResumeStart = 'plan';
  let failure: StepRecord | null = null;
  let inFlight: { stepIndex: number; attempt: number } | null = null;
  // A run resumed while it waited for an operator asks again; one approved but not yet sent does not.
  let approvedPlan: number | null = null;
  let approvedStep: ApprovedStep | null = null;
  const approvals: ApprovalCounts = { requested: 0, given: 0, refused: 0 };

  for (const e of events) {
    switch (e.type) {
      case 'run_started':
        started = e;
        break;
      case 'observed':
        rounds = Math.max(rounds, e.round);
        break;
      case 'plan_created':
        plans.set(e.version, e.plan);
        planVersion = Math.max(planVersion, e.version);
        break;
      case 'plan_validated':
        issues.push(...e.issues.map((i) => ({ ...i, version: e.version })));
        if (e.ok && e.stepBase !== undefined) {
          current = {
            version: e.version,
            base: e.stepBase,
            cursor: 0,
            ...(e.prefix !== undefined ? { prefix: e.prefix } : {}),
            ...(e.incomplete === true ? { incomplete: true } : {}),
          };
          start = 'dispatch';
          failure = null;
        } else if (!e.ok) {
          start = 'plan';
        }
        break;
      case 'step_dispatched':
        approvedPlan = e.planVersion;
        nextStepIndex = Math.max(nextStepIndex, e.stepIndex + 1);
        inFlight = { stepIndex: e.stepIndex, attempt: e.attempt };
        break;
      case 'step_feedback': {
        const rec = stepRecordOf(e);
        history.push(rec);
        inFlight = null;
        if (e.status === 'done') {
          if (current !== null) current.cursor = e.stepIndex - current.base + 1;
          attempt = 0;
        } else {
          attempt = e.attempt + 1;
          failure = rec;
          current = null;
          start = 'replan';
        }
        break;
      }
      case 'replan':
        replans = e.replans;
        start = 'plan';
        break;
      case 'plan_continued':
        continuations = e.continuations;
        current = null;
        start = 'plan';
        break;
      case 'finished':
        finished = e.report;
        break;
      case 'approval_requested':
        approvals.requested++;
        break;
      case 'approval_given':
        approvals.given++;
        if (e.scope === 'plan') approvedPlan = e.planVersion;
        approvedStep = { stepIndex: e.stepIndex, attempt: e.attempt };
        break;
      case 'approval_refused':
        // The rejected attempt that follows (step_feedback) sends the run to replan.
        approvals.refused++;
        break;
      case 'run_resumed':
      case 'paused':
      case 'resumed':
      case 'connection_lost':
      case 'connection_restored':
      case 'bad_message':
        break;
      default: {
        const never: never = e;
        throw new RunLogError(`unknown event ${JSON.stringify(never)}`, runFiles.events);
      }
    }
  }

  if (started === null) throw new RunLogError('the log has no run_started event', runFiles.events);
  let plan: ExecutorResume['plan'] = null;
  if (start === 'dispatch' && current !== null) {
    const doc = plans.get(current.version);
    if (doc === undefined) throw new RunLogError(`plan v${current.version} was accepted but never logged`, runFiles.events);
    const draft = draftFromPlan(doc, readFile);
    const steps = current.prefix === undefined ? draft.steps : draft.steps.slice(0, current.prefix);
    const partial = current.prefix !== undefined || current.incomplete === true;
    plan = { draft: { ...draft, steps }, base: current.base, cursor: current.cursor, ...(partial ? { partial: true } : {}) };
  }
  const redispatch = plan !== null && inFlight !== null && inFlight.stepIndex === plan.base + plan.cursor && inFlight.attempt === attempt;
  return {
    started,
    finished,
    doneStepIndexes: history.filter((h) => h.status === 'done').map((h) => h.stepIndex),
    resume: {
      start,
      history,
      plan,
      nextStepIndex,
      attempt,
      replans,
      continuations,
      planVersion,
      rounds,
      issues,
      failure: start === 'replan' ? failure : null,
      redispatch,
      approvedPlan,
      approvedStep,
      approvals,
    },
  };
}

/** The attempt a step_feedback record closes, as the report and the planner's history list it. */
export function stepRecordOf(e: Extract<RunEvent, { type: 'step_feedback' }>): StepRecord {
  return {
    stepIndex: e.stepIndex,
    attempt: e.attempt,
    instruction: e.instruction,
    status: e.status,
    ...(e.reason !== undefined ? { reason: e.reason } : {}),
    ...(e.feedback?.holding !== undefined ? { holding: e.feedback.holding } : {}),
    planVersion: e.planVersion,
  };
}
