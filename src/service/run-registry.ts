import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { runFiles, type Autonomy, type RunEvent, type RunEventOf, type RunReport, type StepRecord } from '../executor/run-event.js';
import { parseEvents, RunLog, stepRecordOf } from '../executor/run-log.js';
import { parseProfile } from '../profile/load.js';
import { RunControl, type RunCommand } from '../run/run-control.js';
import { BACKENDS, runTask, type BackendName, type RunOptions, type RunResult } from '../run/session.js';
import type { KeyframeSampler } from '../model/world-model.js';
import type { RobotProfile, SceneId } from '../schema/index.js';
import { RunId, type RejectBody, type RunDetail, type RunSummary } from './api-schema.js';
import { resolveRobot } from './robot-ref.js';
import { RunDrawings } from './run-drawing.js';
import { ServiceError } from './service-error.js';

/** An inline profile is kept beside the run's log, so the run can be resumed with the same robot. */
export const PROFILE_FILE = 'robot-profile.json';

/** A run to start, as the request gave it (robot resolved). */
export interface RunLaunch {
  runId: string;
  profile: RobotProfile;
  /** The profile came in the request, not from robots/. */
  inline: boolean;
  task: string;
  scene?: SceneId;
  url: string;
  backend: BackendName;
  seed: number;
  maxReplans?: number;
  connectTimeoutMs?: number;
  partialPlans: boolean;
  sampler?: KeyframeSampler;
  autonomy?: Autonomy;
}

export interface RunRegistryOptions {
  /** --runs: every run the service starts or lists is a directory right under it. */
  runsDir: string;
  /** What a run gets from the service besides its request: the shared model (or --worker's planner) and the plan queue. */
  prepare: (backend: BackendName) => Promise<Pick<RunOptions, 'modelOptions' | 'wrapPlanner' | 'planner'>>;
  /** How a run is carried out; `runTask`, the same code path as `keystep run`. */
  launch?: (options: RunOptions) => Promise<RunResult>;
}

interface ActiveRun {
  controller: AbortController;
  /** Approve, reject, pause, resume: the operator's commands to the run's executor. */
  control: RunControl;
  done: Promise<unknown>;
}

/** What a live run waits for, read from its log: the open approval request, and whether it is paused. */
function waitsFor(events: readonly RunEvent[]): { approval: RunEventOf<'approval_requested'> | null; paused: boolean } {
  let approval: RunEventOf<'approval_requested'> | null = null;
  let paused = false;
  for (const e of events) {
    if (e.type === 'approval_requested') approval = e;
    else if (e.type === 'approval_given' || e.type === 'approval_refused' || e.type === 'finished') approval = null;
    else if (e.type === 'run_resumed') {
      // A resumed run starts unpaused, and asks again for what it waited for.
      approval = null;
      paused = false;
    }
    else if (e.type === 'paused') paused = true;
    else if (e.type === 'resumed') paused = false;
  }
  return { approval, paused };
}

interface CachedLog {
  size: number;
  mtimeMs: number;
  events: RunEvent[];
  error?: string;
}

/**
 * The runs under --runs: the ones this service is carrying out and every log it finds there,
 * including runs from before a restart. Runs are started, resumed and aborted here; run ids are
 * checked so nothing outside --runs is ever read or written.
 */
export class RunRegistry {
  readonly root: string;
  private readonly active = new Map<string, ActiveRun>();
  /** Run ids reserved by a start or resume still setting up. */
  private readonly starting = new Set<string>();
  /** Why a run this service carried out stopped without finishing (an exception, not an outcome). */
  private readonly stopped = new Map<string, string>();
  private readonly cache = new Map<string, CachedLog>();
  private readonly appended = new EventEmitter().setMaxListeners(0);
  private readonly launch: (options: RunOptions) => Promise<RunResult>;
  /** The plans live runs are drawing, for GET /v1/runs/{id}/drawing. */
  readonly drawings = new RunDrawings();

  constructor(private readonly options: RunRegistryOptions) {
    this.root = resolve(options.runsDir);
    this.launch = options.launch ?? runTask;
  }

  get activeCount(): number {
    return this.active.size;
  }

  /** Every run directory with an events.jsonl, newest start first. */
  list(): RunSummary[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && RunId.safeParse(d.name).success && existsSync(join(this.root, d.name, runFiles.events)))
      .map((d) => this.summary(d.name))
      .sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0) || a.runId.localeCompare(b.runId));
  }

  summary(id: string): RunSummary {
    const log = this.read(id);
    const started = log.events.find((e) => e.type === 'run_started');
    const finished = log.events.findLast((e) => e.type === 'finished');
    const state = this.active.has(id) ? 'running' : log.error !== undefined ? 'unreadable' : finished ? 'finished' : 'interrupted';
    const error = log.error ?? (state === 'interrupted' ? this.stopped.get(id) : undefined);
    const waits = state === 'running' ? waitsFor(log.events) : null;
    const waiting = waits?.approval ? 'approval' : waits?.paused ? 'paused' : undefined;
    return {
      runId: id,
      state,
      ...(finished?.type === 'finished' ? { outcome: finished.report.outcome } : {}),
      ...(started?.type === 'run_started'
        ? { robot: started.robot, task: started.task, ...(started.backend ? { backend: started.backend } : {}), ...(started.at !== undefined ? { startedAt: started.at } : {}) }
        : {}),
      events: log.events.length,
      ...(waiting !== undefined ? { waiting } : {}),
      ...(error !== undefined ? { error } : {}),
    };
  }

  /** The run's summary, its final report once there is one, and its steps so far. */
  detail(id: string): RunDetail {
    const run = this.summary(id);
    const { events } = this.read(id);
    const finished = events.findLast((e) => e.type === 'finished');
    const report: RunReport | null = finished?.type === 'finished' ? finished.report : null;
    const steps: StepRecord[] = [];
    let replans = 0;
    let planVersions = 0;
    for (const e of events) {
      if (e.type === 'step_feedback') steps.push(stepRecordOf(e)); else if (e.type === 'replan') replans = e.replans;
      else if (e.type === 'plan_created') planVersions = Math.max(planVersions, e.version);
    }
    const approval = run.state === 'running' ? waitsFor(events).approval : null;
    return {
      run,
      report,
      progress: { steps, replans, planVersions },
      ...(approval ? { approval: { scope: approval.scope, planVersion: approval.planVersion, planStep: approval.planStep, stepIndex: approval.stepIndex, attempt: approval.attempt, steps: approval.steps } } : {}),
    };
  }

  /** Starts a run; resolves once its log has its first event (or the start failed). */
  async start(launch: RunLaunch): Promise<RunSummary> {
    const dir = this.dirOf(launch.runId, 'body.runId');
    this.reserve(launch.runId, 'body.runId');
    const created = !existsSync(dir);
    try {
      if (existsSync(join(dir, runFiles.events))) throw new ServiceError(409, 'conflict', `run "${launch.runId}" already exists; resume it or pick another runId`, [{ path: 'body.runId', message: 'already exists' }]);
      const prepared = await this.options.prepare(launch.backend);
      if (launch.inline) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, PROFILE_FILE), `${JSON.stringify(launch.profile, null, 2)}\n`);
      }
      await this.begin(launch.runId, {
        url: launch.url,
        profile: launch.profile,
        task: launch.task,
        ...(launch.scene ? { scene: launch.scene } : {}),
        backend: launch.backend,
        runId: launch.runId,
        runsDir: this.root,
        seed: launch.seed,
        partialPlans: launch.partialPlans,
        ...(launch.autonomy ? { autonomy: launch.autonomy } : {}),
        ...(launch.maxReplans !== undefined ? { maxReplans: launch.maxReplans } : {}),
        ...(launch.connectTimeoutMs !== undefined ? { connectTimeoutMs: launch.connectTimeoutMs } : {}),
        modelOptions: { ...prepared.modelOptions, ...(launch.sampler ? { sampler: launch.sampler } : {}) },
        ...(prepared.wrapPlanner ? { wrapPlanner: prepared.wrapPlanner } : {}),
        ...(prepared.planner ? { planner: prepared.planner } : {}),
      });
    } catch (error) {
      // A start that never logged anything leaves no run behind (an empty log would list as unreadable).
      const events = join(dir, runFiles.events);
      if (created && !this.active.has(launch.runId) && (!existsSync(events) || statSync(events).size === 0)) rmSync(dir, { recursive: true, force: true });
      throw error;
    } finally {
      this.starting.delete(launch.runId);
    }
    return this.summary(launch.runId);
  }

  /**
   * Continues an interrupted run from its log, as `keystep run --resume` does: robot, task, backend
   * and seed come from the log (and the inline profile beside it), only the robot's address is new.
   */
  async resume(id: string, url: string, connectTimeoutMs?: number): Promise<RunSummary> {
    const summary = this.summary(id);
    if (summary.state === 'finished') throw new ServiceError(409, 'conflict', `run "${id}" already finished (${summary.outcome}); there is nothing to resume`);
    if (summary.state === 'unreadable') throw new ServiceError(409, 'conflict', `run "${id}" has a log that cannot be read: ${summary.error}`);
    this.reserve(id, 'params.id');
    try {
      const started = RunLog.open(this.root, id).resumeState().started;
      const backend = BACKENDS.find((b) => b === (started.backend ?? 'onnx'));
      if (backend === undefined) throw new ServiceError(409, 'conflict', `run "${id}" used backend "${started.backend}", which this service does not have`);
      const profileFile = join(this.dirOf(id), PROFILE_FILE);
      let profile: RobotProfile;
      if (existsSync(profileFile)) {
        profile = parseProfile(readFileSync(profileFile, 'utf8'), profileFile);
      } else {
        try {
          profile = resolveRobot(started.robot).profile;
        } catch (cause) {
          throw new ServiceError(409, 'conflict', `run "${id}" was made for robot "${started.robot}", which is not a shipped profile, and its directory has no ${PROFILE_FILE}`, [], { cause });
        }
      }
      const prepared = await this.options.prepare(backend);
      await this.begin(id, {
        url,
        profile,
        task: started.task,
        ...(started.scene ? { scene: started.scene } : {}),
        backend,
        runId: id,
        runsDir: this.root,
        ...(started.seed !== undefined ? { seed: started.seed } : {}),
        partialPlans: started.partialPlans ?? true,
        resume: true,
        ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}),
        ...(prepared.modelOptions ? { modelOptions: prepared.modelOptions } : {}),
        ...(prepared.wrapPlanner ? { wrapPlanner: prepared.wrapPlanner } : {}),
        ...(prepared.planner ? { planner: prepared.planner } : {}),
      });
    } finally {
      this.starting.delete(id);
    }
    return this.summary(id);
  }

  /** Asks a running run to stop: the step in flight is cancelled on the robot, the run ends aborted. */
  abort(id: string): RunSummary {
    const run = this.active.get(id);
    if (!run) {
      const summary = this.summary(id);
      throw new ServiceError(409, 'conflict', `run "${id}" is not running here (${summary.state}); there is nothing to abort`);
    }
    run.controller.abort();
    return this.summary(id);
  }

  /** Lets the plan or step the run waits for go to the robot. */
  approve(id: string): RunSummary {
    this.awaiting(id, 'approve');
    return this.command(id, { type: 'APPROVE' });
  }

  /** Refuses the plan or step the run waits for: the run replans with the note, or ends (abort). */
  reject(id: string, body: RejectBody): RunSummary {
    this.awaiting(id, 'reject');
    return this.command(id, { type: 'REJECT', ...(body.note !== undefined ? { note: body.note } : {}), ...(body.abort !== undefined ? { abort: body.abort } : {}) });
  }

  /** Holds the run before its next dispatch: the step in flight finishes, nothing new is sent. */
  pause(id: string): RunSummary {
    const summary = this.live(id, 'pause');
    if (summary.waiting === 'paused') throw new ServiceError(409, 'conflict', `run "${id}" is paused already`);
    return this.command(id, { type: 'PAUSE' });
  }

  /**
   * POST /resume: a paused live run goes on; an interrupted one is continued from its log (which
   * needs the robot's rosbridge URL).
   */
  async resumeRun(id: string, url: string | undefined, connectTimeoutMs?: number): Promise<RunSummary> {
    if (this.active.has(id)) {
      if (this.summary(id).waiting !== 'paused') throw new ServiceError(409, 'conflict', `run "${id}" is running and not paused; there is nothing to resume`);
      return this.command(id, { type: 'RESUME' });
    }
    if (url === undefined) {
      throw new ServiceError(400, 'bad_request', `body.rosbridge: run "${id}" is not running here; continuing it needs the robot's rosbridge URL`, [{ path: 'body.rosbridge', message: 'required to continue an interrupted run' }]);
    }
    return this.resume(id, url, connectTimeoutMs);
  }

  private live(id: string, what: string): RunSummary {
    const summary = this.summary(id);
    if (!this.active.has(id)) throw new ServiceError(409, 'conflict', `run "${id}" is not running here (${summary.state}); there is nothing to ${what}`);
    return summary;
  }

  private awaiting(id: string, what: string): void {
    const summary = this.live(id, what);
    if (summary.waiting !== 'approval') throw new ServiceError(409, 'conflict', `run "${id}" is not waiting for an approval; there is nothing to ${what}`);
  }

  private command(id: string, command: RunCommand): RunSummary {
    this.active.get(id)!.control.send(command);
    return this.summary(id);
  }

  /** Calls `listener` after every event the service appends to the run's log. */
  onAppend(id: string, listener: () => void): () => void {
    this.appended.on(id, listener);
    return () => this.appended.off(id, listener);
  }

  isActive(id: string): boolean {
    return this.active.has(id);
  }

  /** `<runs>/<id>/events.jsonl`, which must exist. */
  eventsFile(id: string): string {
    return this.fileOf(id, runFiles.events);
  }

  /** A file of a run directory by its plain name; 404 when it does not exist. */
  fileOf(id: string, name: string): string {
    const dir = this.dirOf(id);
    const file = resolve(dir, name);
    if (dirname(file) !== dir || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw ServiceError.badField('params.name', 'a plain file name of the run directory');
    if (!existsSync(dir) || !existsSync(join(dir, runFiles.events))) throw new ServiceError(404, 'not_found', `no run "${id}" under the runs directory`);
    if (!existsSync(file)) throw new ServiceError(404, 'not_found', `run "${id}" has no file ${name}`);
    return file;
  }

  /** Aborts every run still going and waits for them to end. */
  async close(): Promise<void> {
    const runs = [...this.active.values()];
    for (const r of runs) r.controller.abort();
    await Promise.allSettled(runs.map((r) => r.done));
  }

  private async begin(id: string, options: RunOptions): Promise<void> {
    const controller = new AbortController();
    const control = new RunControl();
    let logged!: () => void;
    const firstEvent = new Promise<void>((resolve) => (logged = resolve));
    this.stopped.delete(id);
    const wrap = options.wrapPlanner;
    const done = this.launch({
      ...options,
      // Whatever planner the run has (the model's, --worker's, the oracle), its drawing is told to watchers.
      wrapPlanner: (planner) => this.drawings.planner(id, wrap ? wrap(planner) : planner),
      signal: controller.signal,
      control,
      onRecord: () => {
        logged();
        this.appended.emit(id);
      },
    });
    this.active.set(id, { controller, control, done });
    const ended = done.then(
      () => undefined,
      (error: unknown) => {
        this.stopped.set(id, (error as Error)?.message ?? String(error));
      },
    );
    void ended.finally(() => {
      this.active.delete(id);
      this.appended.emit(id);
    });
    try {
      await Promise.race([firstEvent, done]);
    } catch (error) {
      await ended;
      throw startFailure(error);
    }
  }

  private reserve(id: string, path: string): void {
    if (this.active.has(id) || this.starting.has(id)) throw new ServiceError(409, 'conflict', `run "${id}" is already running`, [{ path, message: 'already running' }]);
    this.starting.add(id);
  }

  /** `<runs>/<id>`, for a checked id only. */
  private dirOf(id: string, path = 'params.id'): string {
    const checked = RunId.safeParse(id);
    const dir = resolve(this.root, id);
    if (!checked.success || dirname(dir) !== this.root) throw ServiceError.badField(path, 'not a run id');
    return dir;
  }

  private read(id: string): CachedLog {
    const file = join(this.dirOf(id), runFiles.events);
    let stat;
    try {
      stat = statSync(file);
    } catch {
      throw new ServiceError(404, 'not_found', `no run "${id}" under the runs directory`);
    }
    const cached = this.cache.get(id);
    if (cached && cached.size === stat.size && cached.mtimeMs === stat.mtimeMs) return cached;
    let log: CachedLog;
    try {
      log = { size: stat.size, mtimeMs: stat.mtimeMs, events: parseEvents(readFileSync(file, 'utf8'), file).events };
    } catch (error) {
      log = { size: stat.size, mtimeMs: stat.mtimeMs, events: [], error: (error as Error).message };
    }
    this.cache.set(id, log);
    return log;
  }
}

/** A run that stopped before its first event, as the HTTP answer it gets. */
function startFailure(error: unknown): Error {
  if (error instanceof ServiceError) return error;
  const e = error as Error;
  switch (e?.name) {
    case 'ConnectTimeoutError':
    case 'ConnectError':
    case 'ReconnectLimitError':
      return new ServiceError(502, 'bad_gateway', `cannot reach the robot's rosbridge: ${e.message}`, [{ path: 'body.rosbridge', message: e.message }], { cause: e });
    case 'CameraTimeoutError':
    case 'LeaseUnansweredError':
      return new ServiceError(502, 'bad_gateway', `the robot did not answer as its profile says: ${e.message}`, [], { cause: e });
    case 'LeaseRefusedError':
      // Another run (from this service or a keystep run elsewhere) drives the robot.
      return new ServiceError(409, 'conflict', e.message, [], { cause: e });
    case 'ModelError':
      return new ServiceError(503, 'unavailable', e.message, [], { cause: e });
    case 'RunLogError':
      return new ServiceError(409, 'conflict', e.message, [], { cause: e });
    default:
      return new ServiceError(500, 'internal', `the run could not start: ${e?.message ?? String(error)}`, [], { cause: e });
  }
}
