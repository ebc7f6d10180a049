import { createActor, toPromise } from 'xstate';
import { executorFor, RunLog, type ExecutorInput, type RunRecord, type RunReport } from '../executor/index.js';
import { OraclePlanner } from '../planner/oracle.js';
import type { Planner } from '../planner/planner.js';
import { RosConnection, DEFAULT_BACKOFF, type BackoffOptions } from '../ros/connection.js';
import { RobotChannel, type BadMessage } from '../ros/robot-channel.js';
import type { RobotProfile, SceneId } from '../schema/index.js';
import { keyframeGate, stepSubject, textGate, validateDraft } from '../validate/index.js';
import { OnnxPlanner } from '../model/onnx-planner.js';
import { TokenizerOraclePlanner } from '../model/tokenizer-oracle.js';
import { WorldModel, type KeyframeSampler, type ModelSource } from '../model/world-model.js';

export type BackendName = 'onnx' | 'oracle' | 'oracle-vq';
/**
 * The embedded world model is the default; the oracle is the simulator's privileged baseline, and
 * oracle-vq the same plans with keyframes redrawn through the model's tokenizer (the ceiling a
 * perfect transformer would reach, see tokenizer-oracle.ts).
 */
export const BACKENDS: readonly BackendName[] = ['onnx', 'oracle', 'oracle-vq'];
export const DEFAULT_BACKEND: BackendName = 'onnx';

export interface ModelBackendOptions {
  /** An opened model to share (rollouts open it once); otherwise the run opens and closes its own. */
  model?: WorldModel;
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
  onRecord?: (record: RunRecord) => void;
  /** Options of the onnx backend. */
  modelOptions?: ModelBackendOptions;
  /** Wraps the backend's planner (timing, tracing). */
  wrapPlanner?: (planner: Planner) => Planner;
  onBadMessage?: (message: BadMessage) => void;
  onConnection?: (state: 'lost' | 'restored') => void;
  /** Aborting it sends ABORT: the step in flight is cancelled on the robot. */
  signal?: AbortSignal;
}

export interface RunResult {
  report: RunReport;
  dir: string;
  badMessages: number;
  reconnects: number;
}

/**
 * One run of one task against a robot behind rosbridge: connect, plan, validate, execute, replan, log.
 * The thin I/O shell around the executor machine; everything it decides is in src/executor.
 */
export async function runTask(options: RunOptions): Promise<RunResult> {
  const profile = options.maxReplans === undefined ? options.profile : { ...options.profile, limits: { ...options.profile.limits, maxReplans: options.maxReplans } };
  const log = options.resume ? RunLog.open(options.runsDir, options.runId) : RunLog.create(options.runsDir, options.runId);
  const resumed = options.resume ? log.resumeState() : undefined;
  if (resumed?.finished) {
    return { report: resumed.finished, dir: log.dir, badMessages: 0, reconnects: 0 };
  }
  const connection = await new RosConnection(options.url, options.backoff ?? DEFAULT_BACKOFF).start(options.connectTimeoutMs);
  const channel = new RobotChannel(connection, profile, { ...(options.onBadMessage ? { onBadMessage: options.onBadMessage } : {}) });
  let created: Awaited<ReturnType<typeof createPlanner>>;
  try {
    created = await createPlanner(options.backend, connection, options.modelOptions ?? {}, options.seed ?? 0);
  } catch (error) {
    // A model that cannot be opened must not leave the socket and the log open behind it.
    channel.close();
    log.close();
    connection.close();
    throw error;
  }
  const { planner: backend, close: closeBackend } = created;
  const planner: Planner = options.wrapPlanner ? options.wrapPlanner(backend) : backend;
  // Robot-clock stamp of the last feedback: a replan must look at a frame taken after it.
  let lastFeedbackStamp = 0;

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
    onRecord: (record) => {
      log.record(record);
      options.onRecord?.(record);
    },
  });
  const input: ExecutorInput = {
    runId: options.runId,
    robot: profile,
    task: options.task,
    backend: options.backend,
    ...(options.scene ? { scene: options.scene } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.partialPlans !== undefined ? { partialPlans: options.partialPlans } : {}),
    ...(resumed ? { resume: resumed.resume } : {}),
  };
  const actor = createActor(machine, { input });
  const lost = () => {
    options.onConnection?.('lost');
    actor.send({ type: 'CONNECTION_LOST' });
  };
  const restored = () => {
    options.onConnection?.('restored');
    actor.send({ type: 'CONNECTION_RESTORED' });
  };
  connection.on('disconnected', lost);
  connection.on('connected', restored);
  const abort = () => actor.send({ type: 'ABORT', reason: 'operator abort' });
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    actor.start();
    // A Ctrl-C while connecting or opening the model came before the listener: abort now.
    if (options.signal?.aborted) abort();
    const report = (await toPromise(actor)) as RunReport;
    return { report, dir: log.dir, badMessages: channel.badMessages, reconnects: connection.reconnects };
  } finally {
    options.signal?.removeEventListener('abort', abort);
    connection.off('disconnected', lost);
    connection.off('connected', restored);
    channel.close();
    log.close();
    connection.close();
    await closeBackend();
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
      const { opened, close } = await runModel(model);
      return { planner: new TokenizerOraclePlanner(new OraclePlanner(connection), opened), close };
    }
    case 'onnx': {
      const { opened, close } = await runModel(model);
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
async function runModel(options: ModelBackendOptions): Promise<{ opened: WorldModel; close: () => Promise<void> }> {
  if (options.model) return { opened: options.model, close: async () => undefined };
  const opened = await WorldModel.open(options.source ?? {});
  return { opened, close: () => opened.close() };
}
