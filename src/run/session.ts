import { join } from 'node:path';
import { createActor, toPromise } from 'xstate';
import {
  DEFAULT_MAX_VALIDATION_RETRIES,
  executorFor,
  RunLog,
  type Autonomy,
  type ExecutorInput,
  type ExecutorResume,
  type RunEventOf,
  type RunRecord,
  type RunReport,
  type ValidationResult,
} from '../executor/index.js';
import { OraclePlanner } from '../planner/oracle.js';
import type { PlanDraft, Planner } from '../planner/planner.js';
import { CameraFeed } from '../ros/camera-feed.js';
import { checkSceneShown } from '../validate/scene-shown.js';
import { RosConnection, DEFAULT_BACKOFF, type BackoffOptions } from '../ros/connection.js';
import { LeaseLostError, type ConnectFailure, type ReconnectLimitError } from '../ros/errors.js';
import { RobotLease, type LeaseOptions } from '../ros/lease.js';
import { DEFAULT_CAMERA_TIMEOUT_MS, RobotChannel, type BadMessage } from '../ros/robot-channel.js';
import type { RobotProfile, SceneId } from '../schema/index.js';
import { BadMessageLog } from './bad-message-log.js';
import type { RunControl } from './run-control.js';
import { keyframeGate, stepSubject, textGate, validateDraft } from '../validate/index.js';
import { OnnxPlanner } from '../model/onnx-planner.js';
import { PaletteOraclePlanner } from '../model/palette-oracle.js';
import { TokenizerOraclePlanner } from '../model/tokenizer-oracle.js';
import { backendModelSource, openWorldModel } from '../model/open-model.js';
import type { PlanningModel } from '../model/planning-model.js';
import type { KeyframeSampler, ModelSource } from '../model/world-model.js';

export type BackendName = 'onnx' | 'oracle' | 'oracle-vq' | 'oracle-pal';
/**
 * The embedded world model is the default; the oracle is the simulator's privileged baseline, and
 * oracle-vq the same plans with keyframes redrawn through the model's tokenizer (the ceiling a
 * perfect transformer would reach, see tokenizer-oracle.ts); oracle-pal with keyframes drawn through
 * the palette codec (the ceiling of a palette-patch model, see palette-oracle.ts).
 */
export const BACKENDS: readonly BackendName[] = ['onnx', 'oracle', 'oracle-vq', 'oracle-pal'];
export const DEFAULT_BACKEND: BackendName = 'onnx';

export interface ModelBackendOptions {
  /** An opened model to share (rollouts open it once); otherwise the run opens and closes its own. */
  model?: PlanningModel;
  /** Where the model the run opens itself comes from (default: the shipped models/ on the CPU). */
  source?: ModelSource;
  sampler?: KeyframeSampler;
  /** DiDA refinement passes. */
  passes?: number;
  /** Prior (logits) that a keyframe cell keeps its starting code; negative = towards a change. */
  keepBias?: number;
  /** Keep prior for a step the robot just failed (OnnxPlannerOptions.missedKeepBias). */
  missedKeepBias?: number;
  /** Keyframes drawn for a step the robot just failed, the boldest passing one kept (OnnxPlannerOptions.missedDraws). */
  missedDraws?: number;
  /** Put off a step the robot failed this many times in a row (OnnxPlannerOptions.putOffAfter; 0 = never). */
  putOffAfter?: number;
}

export interface RunOptions {
  url: string;
  profile: RobotProfile;
  task: string;
  scene?: SceneId;
  backend: BackendName;
  runId: string;
  /** Parent of the run directories (runs/). */
  runsDir: string;
  seed?: number;
  /** Continue the logged run `runId` instead of starting one. */
  resume?: boolean;
  /** Replan limit override (0 = fail at the first miss); defaults to the profile's. */
  maxReplans?: number;
  /** Run the validated steps of a refused plan and plan again after them (default true); see ExecutorInput. */
  partialPlans?: boolean;
  backoff?: BackoffOptions;
  connectTimeoutMs?: number;
  /**
   * Refuse the task when the camera plainly shows the other scene (default true); false plans anyway,
   * for a camera whose colours happen to read as the other scene.
   */
  sceneCheck?: boolean;
  /** How long to wait for the keyframe camera's first frame (default 10 s). */
  cameraTimeoutMs?: number;
  /** Reconnect attempts after a drop before the run stops (default DEFAULT_RECONNECT_LIMIT). */
  reconnectLimit?: number;
  /** The robot lease (see schema/lease.ts); false runs without taking it. */
  lease?: LeaseOptions | false;
  onRecord?: (record: RunRecord) => void;
  /** Options of the onnx backend. */
  modelOptions?: ModelBackendOptions;
  /** Wraps the backend's planner (timing, tracing). */
  wrapPlanner?: (planner: Planner) => Planner;
  onBadMessage?: (message: BadMessage) => void;
  onConnection?: (state: 'lost' | 'restored') => void;
  /** Every reconnect attempt after a drop, counted against `limit`. */
  onReconnecting?: (attempt: number, limit: number, delayMs: number, lastFailure: ConnectFailure | undefined) => void;
  /** Aborting it sends ABORT: the step in flight is cancelled on the robot. */
  signal?: AbortSignal;
  /** Who lets steps move (default: the logged run's on resume, else auto); approvals come through `control`. */
  autonomy?: Autonomy;
  /** Approve, reject, pause and resume the run while it goes. */
  control?: RunControl;
  /** Plans through this planner (e.g. a RemotePlanner) instead of the backend's own; `backend` is still logged. */
  planner?: Planner;
}

export interface RunResult {
  report: RunReport;
  dir: string;
  badMessages: number;
  reconnects: number;
  /** `--resume` of a run whose log already ends: nothing ran, `report` is the logged one. */
  alreadyFinished?: boolean;
  /**
   * The link to the robot ended the run (the connection did not come back, the lease went to another
   * run): the run is logged as aborted with this as its reason, and the CLI exits 4.
   */
  linkError?: ReconnectLimitError | LeaseLostError;
}

/** Retries after a dropped connection before a run gives up: about a minute and a half of backoff. */
export const DEFAULT_RECONNECT_LIMIT = 20;

/**
 * One run of one task against a robot behind rosbridge: connect, take the robot's lease, wait for the
 * camera, plan, validate, execute, replan, log. The thin I/O shell around the executor machine;
 * everything it decides is in src/executor. The run directory is made only once the robot is reached
 * and the camera seen, so a run that could not start leaves nothing behind.
 */
export async function runTask(options: RunOptions): Promise<RunResult> {
  const profile = options.maxReplans === undefined ? options.profile : { ...options.profile, limits: { ...options.profile.limits, maxReplans: options.maxReplans } };
  const resumed = options.resume ? RunLog.open(options.runsDir, options.runId).resumeState() : undefined;
  if (resumed?.finished) {
    return { report: resumed.finished, dir: join(options.runsDir, options.runId), badMessages: 0, reconnects: 0, alreadyFinished: true };
  }
  const reconnectLimit = options.reconnectLimit ?? DEFAULT_RECONNECT_LIMIT;
  const connection = await new RosConnection(options.url, options.backoff ?? DEFAULT_BACKOFF, { reconnectLimit }).start(options.connectTimeoutMs);
  const badMessages = new BadMessageLog();
  const cleanups: (() => void | Promise<void>)[] = [() => connection.close()];
  const cleanUp = async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  };
  let channel: RobotChannel;
  let lease: RobotLease | undefined;
  let created: Awaited<ReturnType<typeof createPlanner>>;
  try {
    channel = new RobotChannel(
      connection,
      profile,
      {
        onBadMessage: (m) => {
          badMessages.add(m);
          options.onBadMessage?.(m);
        },
      },
      { cameraTimeoutMs: options.cameraTimeoutMs ?? DEFAULT_CAMERA_TIMEOUT_MS },
    );
    const opened = channel;
    cleanups.push(() => opened.close());
    // A camera that never delivers would leave the run waiting for its first observation forever.
    // First, because no topic of a wrongly written profile would work: the camera error says why.
    const first = await channel.camera.firstFrame(options.cameraTimeoutMs ?? DEFAULT_CAMERA_TIMEOUT_MS, options.signal).catch((e: unknown) => {
      if (!options.signal?.aborted) throw e;
    });
    // A task of the other scene than the camera shows would only end in refused plans: say so now.
    if (first && options.scene !== undefined && options.sceneCheck !== false) await checkSceneShown(await first.png(), options.task, options.scene);
    if (options.lease !== false) {
      lease = new RobotLease(connection, profile, options.runId, options.lease ?? {});
      const held = lease;
      cleanups.push(() => held.release());
      await lease.acquire(options.signal);
    }
    created = options.planner
      ? { planner: options.planner, close: async () => undefined }
      : await createPlanner(options.backend, connection, options.modelOptions ?? {}, options.seed ?? 0);
  } catch (error) {
    // Nothing ran: no socket, lease or model may stay open behind the error.
    await cleanUp();
    throw error;
  }
  cleanups.push(created.close);
  const log = options.resume ? RunLog.open(options.runsDir, options.runId) : RunLog.create(options.runsDir, options.runId);
  cleanups.push(() => log.close());
  const { planner: backend } = created;
  const planner: Planner = options.wrapPlanner ? options.wrapPlanner(backend) : backend;
  // Robot-clock stamp of the last feedback: a replan must look at a frame taken after it.
  let lastFeedbackStamp = 0;
  const record = (r: RunRecord) => {
    log.record(r);
    options.onRecord?.(r);
  };

  const machine = executorFor({
    // A replan must see the scene after the miss: wait for a frame newer than the last feedback.
    observe: () => channel.frameAfter(lastFeedbackStamp, 3000),
    planner,
    // Every plan and replan is checked before anything moves; errors go back to the planner.
    validate: (input) => validateDraft({ ...input, ...(options.scene ? { scene: options.scene } : {}) }),
    dispatch: async (input, signal) => {
      channel.send(
        { kind: 'execute', runId: input.runId, stepIndex: input.stepIndex, attempt: input.attempt, instruction: input.step.instruction, ...(input.step.action ? { action: input.step.action } : {}), sentAt: Date.now() },
        input.step.keyframe,
      );
      const feedback = await channel.waitFeedback(input.stepId, signal);
      lastFeedbackStamp = feedback.stamp;
      return feedback;
    },
    cancelStep: (p) => channel.cancel({ runId: p.runId, stepIndex: p.stepIndex, attempt: p.attempt }, p.reason),
    onRecord: (r) => {
      const e = r.event;
      // The machine knows a step timed out; the link knows on which topics nothing came.
      if (e.type === 'step_feedback' && e.status === 'timeout') return record({ ...r, event: { ...e, reason: timeoutReason(profile, channel, e.stepId) } });
      // The machine knows where the log stopped; the log's plan says which step that is.
      if (e.type === 'run_resumed' && resumed) {
        record({ ...r, event: { ...e, next: resumePoint(resumed.resume) } });
        return badMessages.attach(record);
      }
      // Bad messages are recorded between the first event and the last.
      if (e.type === 'finished') badMessages.close();
      record(r);
      if (e.type === 'run_started') badMessages.attach(record);
    },
  });
  // A resumed run keeps the autonomy it was started with unless told otherwise.
  const autonomy = options.autonomy ?? resumed?.started.autonomy;
  const input: ExecutorInput = {
    runId: options.runId,
    robot: profile,
    task: options.task,
    backend: options.backend,
    ...(options.scene ? { scene: options.scene } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.partialPlans !== undefined ? { partialPlans: options.partialPlans } : {}),
    ...(resumed ? { resume: resumed.resume } : {}),
    ...(autonomy !== undefined ? { autonomy } : {}),
  };
  const actor = createActor(machine, { input });
  let linkError: ReconnectLimitError | LeaseLostError | undefined;
  const stop = (error: ReconnectLimitError | LeaseLostError) => {
    linkError ??= error;
    actor.send({ type: 'ABORT', reason: error.message });
  };
  const lost = () => {
    options.onConnection?.('lost');
    actor.send({ type: 'CONNECTION_LOST' });
  };
  const restored = () => {
    options.onConnection?.('restored');
    actor.send({ type: 'CONNECTION_RESTORED' });
  };
  const reconnecting = (attempt: number, delayMs: number, lastFailure: ConnectFailure | undefined) => options.onReconnecting?.(attempt, reconnectLimit, delayMs, lastFailure);
  const leaseLost = (holder: string | null) => stop(new LeaseLostError(options.runId, holder));
  connection.on('disconnected', lost);
  connection.on('connected', restored);
  connection.on('reconnecting', reconnecting);
  connection.on('gaveUp', stop);
  lease?.on('lost', leaseLost);
  const abort = () => actor.send({ type: 'ABORT', reason: 'operator abort' });
  options.signal?.addEventListener('abort', abort, { once: true });
  let detach = () => {};
  try {
    actor.start();
    if (options.control) detach = options.control.attach((command) => actor.send(command));
    // A Ctrl-C while connecting or opening the model came before the listener: abort now.
    if (options.signal?.aborted) abort();
    const report = (await toPromise(actor)) as RunReport;
    return { report, dir: log.dir, badMessages: channel.badMessages, reconnects: connection.reconnects, ...(linkError ? { linkError } : {}) };
  } finally {
    detach();
    options.signal?.removeEventListener('abort', abort);
    connection.off('disconnected', lost);
    connection.off('connected', restored);
    connection.off('reconnecting', reconnecting);
    connection.off('gaveUp', stop);
    lease?.off('lost', leaseLost);
    await cleanUp();
  }
}

/** What a resumed run does first, from the log's state (run_resumed.next). */
export function resumePoint(resume: ExecutorResume): NonNullable<RunEventOf<'run_resumed'>['next']> {
  if (resume.start === 'dispatch' && resume.plan !== null) {
    const step = resume.plan.draft.steps[resume.plan.cursor];
    return {
      action: resume.redispatch ? 'resend' : 'send',
      stepIndex: resume.plan.base + resume.plan.cursor,
      attempt: resume.attempt,
      ...(step ? { instruction: step.instruction } : {}),
    };
  }
  return { action: 'plan', stepIndex: resume.nextStepIndex, attempt: resume.attempt };
}

/** Why a step timed out, as far as the link can tell: which topics stayed silent, and what to check. */
function timeoutReason(profile: RobotProfile, channel: RobotChannel, id: string): string {
  const { stepCommand, feedback } = profile.ros;
  const within = `within the step timeout (${profile.limits.stepTimeoutMs} ms)`;
  if (channel.wasAccepted(id)) {
    return `timeout: the robot accepted step ${id} but reported no result on ${feedback.name} ${within}; a step that takes longer needs a larger limits.stepTimeoutMs`;
  }
  if (channel.feedbackMessages === 0) {
    return (
      `timeout: no feedback for step ${id} ${within}, and not one message on ${feedback.name} (${feedback.type}) since the run started: ` +
      `is the robot node subscribed to ${stepCommand.name} (${stepCommand.type}) and publishing its answers on ${feedback.name}? keystep doctor checks both`
    );
  }
  return `timeout: no feedback for step ${id} on ${feedback.name} ${within}; the robot answers there, so did step ${id} reach it on ${stepCommand.name}?`;
}

export interface DryRunResult {
  /** The last draft: the accepted one, or the last refused. */
  plan: PlanDraft;
  validation: ValidationResult;
  /** Drafts planned, validation retries included. */
  drafts: number;
  /** The camera frame planned from, PNG. */
  observation: Uint8Array;
}

/**
 * `run --dry-run`: plans and validates against the robot's live camera exactly as a run's first
 * round does (with its validation retries), and sends nothing to the robot: no lease, no step topic.
 */
export async function dryRunTask(
  options: Pick<RunOptions, 'url' | 'profile' | 'task' | 'scene' | 'backend' | 'seed' | 'backoff' | 'connectTimeoutMs' | 'cameraTimeoutMs' | 'modelOptions' | 'signal' | 'planner' | 'sceneCheck'>,
): Promise<DryRunResult> {
  const { profile } = options;
  const connection = await new RosConnection(options.url, options.backoff ?? DEFAULT_BACKOFF).start(options.connectTimeoutMs);
  const cameraTimeoutMs = options.cameraTimeoutMs ?? DEFAULT_CAMERA_TIMEOUT_MS;
  const camera = new CameraFeed(connection, profile.cameras.find((c) => c.name === profile.keyframeCamera)!, { robot: profile.id, url: options.url, rosVersion: profile.ros.rosVersion });
  let close = async () => undefined as void;
  try {
    const observation = await (await camera.firstFrame(cameraTimeoutMs, options.signal)).png();
    if (options.scene !== undefined && options.sceneCheck !== false) await checkSceneShown(observation, options.task, options.scene);
    const created = options.planner
      ? { planner: options.planner, close: async () => undefined }
      : await createPlanner(options.backend, connection, options.modelOptions ?? {}, options.seed ?? 0);
    close = created.close;
    let plan: PlanDraft | undefined;
    let validation: ValidationResult | undefined;
    let drafts = 0;
    for (let retry = 0; retry <= DEFAULT_MAX_VALIDATION_RETRIES; retry++) {
      const rejected = validation?.issues.filter((i) => i.severity === 'error') ?? [];
      plan = await created.planner.plan({
        robot: profile,
        task: options.task,
        ...(options.scene ? { scene: options.scene } : {}),
        observation,
        history: [],
        version: retry + 1,
        ...(plan && rejected.length > 0 ? { rejected, previous: plan } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      drafts++;
      validation = await validateDraft({ plan, robot: profile, observation, history: [], task: options.task, ...(options.scene ? { scene: options.scene } : {}) });
      if (validation.ok) break;
    }
    return { plan: plan!, validation: validation!, drafts, observation };
  } finally {
    camera.close();
    connection.close();
    await close();
  }
}

async function createPlanner(
  backend: BackendName,
  connection: RosConnection,
  model: ModelBackendOptions,
  seed: number,
): Promise<{ planner: Planner; close: () => Promise<void> }> {
  switch (backend) {
    case 'oracle':
      return { planner: new OraclePlanner(connection), close: async () => undefined };
    case 'oracle-vq': {
      const { opened, close } = await runModel(model, backend);
      return { planner: new TokenizerOraclePlanner(new OraclePlanner(connection), opened), close };
    }
    case 'oracle-pal':
      return { planner: new PaletteOraclePlanner(new OraclePlanner(connection)), close: async () => undefined };
    case 'onnx': {
      const { opened, close } = await runModel(model, backend);
      const planner = new OnnxPlanner(opened, {
        seed,
        check: keyframeGate(),
        textCheck: textGate(),
        stepSubject,
        ...(model.putOffAfter !== undefined ? { putOffAfter: model.putOffAfter } : {}),
        ...(model.sampler ? { sampler: model.sampler } : {}),
        ...(model.passes !== undefined ? { passes: model.passes } : {}),
        ...(model.keepBias !== undefined ? { keepBias: model.keepBias } : {}),
        ...(model.missedKeepBias !== undefined ? { missedKeepBias: model.missedKeepBias } : {}),
        ...(model.missedDraws !== undefined ? { missedDraws: model.missedDraws } : {}),
      });
      return { planner, close };
    }
  }
}

/** The run's model: the caller's shared one (closed by the caller), or one opened for this run alone. */
async function runModel(options: ModelBackendOptions, backend: BackendName): Promise<{ opened: PlanningModel; close: () => Promise<void> }> {
  if (options.model) return { opened: options.model, close: async () => undefined };
  const opened = await openWorldModel(backendModelSource(backend, options.source ?? {}));
  return { opened, close: () => opened.close() };
}
