import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunLog } from '../executor/index.js';
import type { Planner, PlanRequest } from '../planner/planner.js';
import type { RobotProfile, SceneId } from '../schema/index.js';
import { SimRobot } from '../../sim/robot-node.js';
import { backendModelSource, openWorldModel } from '../model/open-model.js';
import type { PlanningModel } from '../model/planning-model.js';
import type { KeyframeSampler, ModelSource } from '../model/world-model.js';
import { checkTask } from '../scenes/task-check.js';
import { runSheet } from './run-sheet.js';
import { runTask, type BackendName, type ModelBackendOptions } from './session.js';
import { percentile, round } from './stats.js';
import { rolloutSummaryPng } from './summary.js';
import { RolloutResult, type EpisodeSummary, type FailedEpisode } from './rollout-result.js';

export { RolloutResult, type EpisodeSummary, type FailedEpisode };

/**
 * The onnx backend's decoding options the rollout was given: what every episode's planner gets, and
 * what summary.json records (absent = the planner's default).
 */
function decodingOptions(options: RolloutSettings): Pick<ModelBackendOptions, 'sampler' | 'passes' | 'keepBias' | 'missedKeepBias' | 'missedDraws' | 'putOffAfter'> {
  return {
    ...(options.sampler ? { sampler: options.sampler } : {}),
    ...(options.passes !== undefined ? { passes: options.passes } : {}),
    ...(options.keepBias !== undefined ? { keepBias: options.keepBias } : {}),
    ...(options.missedKeepBias !== undefined ? { missedKeepBias: options.missedKeepBias } : {}),
    ...(options.missedDraws !== undefined ? { missedDraws: options.missedDraws } : {}),
    ...(options.putOffAfter !== undefined ? { putOffAfter: options.putOffAfter } : {}),
  };
}

/**
 * What decides a rollout's episodes: with the same settings, episode i has the same result wherever
 * it runs (this process, or a queue worker on another machine). Plain data, so a queue job carries it.
 */
export interface RolloutSettings {
  profile: RobotProfile;
  scene: SceneId;
  task: string;
  episodes: number;
  missRate: number;
  seed: number;
  backend: BackendName;
  replan: boolean;
  /** Run a refused plan's validated first steps and plan again after them (default true). */
  partialPlans?: boolean;
  /** Keyframe sampler of the onnx backend (default dida). */
  sampler?: KeyframeSampler;
  /** DiDA passes per keyframe of the onnx backend (default: the model's own, PlanningModel.didaPasses). */
  passes?: number;
  /** Keep prior of the onnx backend's keyframes (KeyframeOptions.keepBias). */
  keepBias?: number;
  /** Keep prior for a step the robot just failed (OnnxPlannerOptions.missedKeepBias). */
  missedKeepBias?: number;
  /** Keyframes drawn for a step the robot just failed (OnnxPlannerOptions.missedDraws). */
  missedDraws?: number;
  /**
   * Who planned, when not this process ("keystep serve at http://...", with RolloutOptions.planner):
   * summary.json and the summary picture say so instead of this process's decoding options.
   */
  plannedBy?: string;
  /** The onnx backend puts off a step failed this many times in a row (OnnxPlannerOptions.putOffAfter). */
  putOffAfter?: number;
}

export interface RolloutOptions extends RolloutSettings {
  runsDir: string;
  /**
   * Plans every episode through the planner this makes for the episode's seed (a RemotePlanner on a
   * keystep serve) instead of the backend's own; no model is opened here then. Not a setting: a
   * queue worker plans with its own flags.
   */
  planner?: (seed: number) => Planner;
  /** The onnx backend's model directory and devices (default: the shipped models/ on the CPU). */
  model?: ModelSource;
  /** Called after every episode, for a progress bar. */
  onEpisode?: (done: number, episode: EpisodeSummary) => void;
  /** Stops the rollout: the episode in flight is aborted and not counted. */
  signal?: AbortSignal;
}

/** Wraps a planner to time every call. */
export function timedPlanner(planner: Planner, record: (ms: number) => void): Planner {
  return {
    name: planner.name,
    async plan(request: PlanRequest) {
      const start = performance.now();
      try {
        return await planner.plan(request);
      } finally {
        record(performance.now() - start);
      }
    },
  };
}

/** The rollout's folder name: scene, robot, first seed and when it started. */
export function rolloutName(settings: Pick<RolloutSettings, 'scene' | 'profile' | 'seed'>, started = new Date()): string {
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  return `rollout-${settings.scene}-${settings.profile.id}-s${settings.seed}-${stamp}`;
}

/** The sim robot an episode runs against; `runEpisode` resets it to the episode's seed. */
export function startSimRobot(settings: RolloutSettings): Promise<SimRobot> {
  return SimRobot.start({
    profile: settings.profile,
    scene: settings.scene,
    task: settings.task,
    seed: settings.seed,
    missRate: settings.missRate,
    port: 0,
    stepMs: 0,
    cameraHz: 1,
  });
}

/** Opens the world model a rollout's episodes share, for the backends that need one. */
export async function openRolloutModel(settings: Pick<RolloutSettings, 'backend'>, source: ModelSource = {}): Promise<PlanningModel | undefined> {
  // Opened once: loading ONNX sessions per episode would dominate the wall time.
  return settings.backend !== 'oracle' ? openWorldModel(backendModelSource(settings.backend, source)) : undefined;
}

export interface EpisodeRig {
  robot: SimRobot;
  model?: PlanningModel | undefined;
  /** The rollout's folder: the episode's run log and sheet go to <dir>/epNNNN. */
  dir: string;
  /** The rollout's name, in the sheet's title. */
  name: string;
  signal?: AbortSignal | undefined;
  /** RolloutOptions.planner: the episode plans through this instead of the backend's planner. */
  planner?: ((seed: number) => Planner) | undefined;
}

/** The run id (and folder) of episode i: ep0000, ep0001... */
export function episodeRunId(index: number): string {
  return `ep${String(index).padStart(4, '0')}`;
}

/**
 * Episode `index` of a rollout, end to end: the robot reset to seed + index, the executor over roslib
 * exactly as `keystep run` drives a real robot, the run log and sheet written under <dir>/epNNNN.
 * Success is the simulator's verdict (goal state reached), not the executor's. Its result depends on
 * the settings and the index only: the local rollout and a queue worker both run episodes here.
 * Undefined when `signal` aborted it.
 */
export async function runEpisode(settings: RolloutSettings, index: number, rig: EpisodeRig): Promise<EpisodeSummary | undefined> {
  const { robot, model, dir, name, signal, planner } = rig;
  const seed = settings.seed + index;
  robot.reset(seed, settings.task);
  const latencies: number[] = [];
  const runId = episodeRunId(index);
  const { report } = await runTask({
    url: robot.url,
    profile: settings.profile,
    task: settings.task,
    scene: settings.scene,
    backend: settings.backend,
    runId,
    runsDir: dir,
    seed,
    ...(settings.replan ? {} : { maxReplans: 0 }),
    ...(settings.partialPlans !== undefined ? { partialPlans: settings.partialPlans } : {}),
    ...(model ? { modelOptions: { model, ...decodingOptions(settings) } } : {}),
    ...(planner ? { planner: planner(seed) } : {}),
    wrapPlanner: (p) => timedPlanner(p, (ms) => latencies.push(ms)),
    ...(signal ? { signal } : {}),
  });
  if (report.outcome === 'aborted' && signal?.aborted) return undefined;
  const misses = report.steps.filter((s) => s.status !== 'done' && s.status !== 'cancelled').length;
  const success = robot.world.isGoal();
  const sheetTitle = `${name} episode ${index} (seed ${seed})`;
  const sheet = await runSheet(RunLog.open(dir, runId), sheetTitle, { frame: await robot.world.observe(), goal: success });
  if (sheet) writeFileSync(join(dir, runId, 'sheet.png'), sheet);
  return {
    episode: index,
    seed,
    success,
    outcome: report.outcome,
    ...(report.reason ? { reason: report.reason } : {}),
    steps: report.steps.length,
    doneSteps: report.steps.filter((s) => s.status === 'done').length,
    misses,
    replans: report.replans,
    continuations: report.continuations ?? 0,
    planLatencyMs: latencies,
  };
}

/** The rollout's figures from its finished episodes. */
export function rolloutResult(episodes: readonly EpisodeSummary[], wallS: number, extra: { interrupted?: boolean; failed?: number } = {}): RolloutResult {
  const latencies = episodes.flatMap((e) => e.planLatencyMs);
  const successes = episodes.filter((e) => e.success).length;
  return {
    episodes: episodes.length,
    successes,
    successRate: episodes.length === 0 ? 0 : round(successes / episodes.length, 4),
    steps: episodes.reduce((n, e) => n + e.steps, 0),
    misses: episodes.reduce((n, e) => n + e.misses, 0),
    replans: episodes.reduce((n, e) => n + e.replans, 0),
    planLatencyMs: { p50: round(percentile(latencies, 50), 2), p95: round(percentile(latencies, 95), 2) },
    wallS: round(wallS, 2),
    ...(extra.interrupted ? { interrupted: true as const } : {}),
    ...(extra.failed ? { failed: extra.failed } : {}),
  };
}

/**
 * summary.json and summary.png in the rollout's folder. `failed` lists the episodes a queue gave up on
 * (their error after all attempts); a local rollout has none and writes no such field.
 */
export async function writeRolloutSummary(dir: string, settings: RolloutSettings, result: RolloutResult, episodes: readonly EpisodeSummary[], failed: readonly FailedEpisode[] = []): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'summary.json'), `${JSON.stringify({ options: { robot: settings.profile.id, scene: settings.scene, task: settings.task, episodes: settings.episodes, missRate: settings.missRate, seed: settings.seed, backend: settings.backend, replan: settings.replan, partialPlans: settings.partialPlans ?? true, ...(settings.plannedBy !== undefined ? { plannedBy: settings.plannedBy } : settings.backend === 'onnx' ? decodingOptions(settings) : {}) }, result, episodes, ...(failed.length > 0 ? { failed } : {}) }, null, 2)}\n`);
  writeFileSync(join(dir, 'summary.png'), await rolloutSummaryPng(settings, result, episodes));
}

/**
 * Sim episodes end to end, in this process: one sim robot behind a real rosbridge socket, reset for
 * every episode (runEpisode). When `signal` aborts, the episode in flight ends as aborted and is left
 * out: the result counts finished episodes only, and says `interrupted`.
 */
export async function rollout(options: RolloutOptions): Promise<{ result: RolloutResult; episodes: EpisodeSummary[]; dir: string }> {
  const start = performance.now();
  // Before the port opens and any folder is made: a task the scene or the robot cannot do stops here.
  checkTask(options.task, options.profile, options.scene);
  const name = rolloutName(options);
  const dir = join(options.runsDir, name);
  const robot = await startSimRobot(options);
  const episodes: EpisodeSummary[] = [];
  let interrupted = false;
  const model = options.planner ? undefined : await openRolloutModel(options, options.model);
  try {
    for (let i = 0; i < options.episodes; i++) {
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      const summary = await runEpisode(options, i, { robot, model, dir, name, signal: options.signal, planner: options.planner });
      if (!summary) {
        interrupted = true;
        break;
      }
      episodes.push(summary);
      options.onEpisode?.(i + 1, summary);
    }
  } finally {
    await robot.close();
    await model?.close();
  }
  const result = rolloutResult(episodes, (performance.now() - start) / 1000, { interrupted });
  await writeRolloutSummary(dir, options, result, episodes);
  return { result, episodes, dir };
}
