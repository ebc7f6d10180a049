import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunLog, type RunReport } from '../executor/index.js';
import type { Planner, PlanRequest } from '../planner/planner.js';
import type { RobotProfile, SceneId } from '../schema/index.js';
import { SimRobot } from '../../sim/robot-node.js';
import { WorldModel, type KeyframeSampler, type ModelSource } from '../model/world-model.js';
import { checkTask } from '../scenes/task-check.js';
import { runSheet } from './run-sheet.js';
import { runTask, type BackendName, type ModelBackendOptions } from './session.js';
import { percentile, round } from './stats.js';
import { rolloutSummaryPng } from './summary.js';
import { RolloutResult, type EpisodeSummary } from './rollout-result.js';

export { RolloutResult, type EpisodeSummary };

/**
 * The onnx backend's decoding options the rollout was given: what every episode's planner gets, and
 * what summary.json records (absent = the planner's default).
 */
function decodingOptions(options: RolloutOptions): Pick<ModelBackendOptions, 'sampler' | 'keepBias' | 'missedKeepBias' | 'missedDraws' | 'putOffAfter'> {
  return {
    ...(options.sampler ? { sampler: options.sampler } : {}),
    ...(options.keepBias !== undefined ? { keepBias: options.keepBias } : {}),
    ...(options.missedKeepBias !== undefined ? { missedKeepBias: options.missedKeepBias } : {}),
    ...(options.missedDraws !== undefined ? { missedDraws: options.missedDraws } : {}),
    ...(options.putOffAfter !== undefined ? { putOffAfter: options.putOffAfter } : {}),
  };
}

export interface RolloutOptions {
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
  runsDir: string;
  /** Keyframe sampler of the onnx backend (default dida). */
  sampler?: KeyframeSampler;
  /** Keep prior of the onnx backend's keyframes (KeyframeOptions.keepBias). */
  keepBias?: number;
  /** Keep prior for a step the robot just failed (OnnxPlannerOptions.missedKeepBias). */
  missedKeepBias?: number;
  /** Keyframes drawn for a step the robot just failed (OnnxPlannerOptions.missedDraws). */
  missedDraws?: number;
  /** The onnx backend puts off a step failed this many times in a row (OnnxPlannerOptions.putOffAfter). */
  putOffAfter?: number;
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

/**
 * Sim episodes end to end: one sim robot behind a real rosbridge socket, and for every episode a reset
 * to a new seed, then the executor over roslib exactly as `keystep run` drives a real robot. Success
 * is the simulator's verdict (goal state reached), not the executor's. When `signal` aborts, the
 * episode in flight ends as aborted and is left out: the result counts finished episodes only, and
 * says `interrupted`.
 */
export async function rollout(options: RolloutOptions): Promise<{ result: RolloutResult; episodes: EpisodeSummary[]; dir: string }> {
  const start = performance.now();
  // Before the port opens and any folder is made: a task the scene or the robot cannot do stops here.
  checkTask(options.task, options.profile, options.scene);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const name = `rollout-${options.scene}-${options.profile.id}-s${options.seed}-${stamp}`;
  const dir = join(options.runsDir, name);
  const robot = await SimRobot.start({
    profile: options.profile,
    scene: options.scene,
    task: options.task,
    seed: options.seed,
    missRate: options.missRate,
    port: 0,
    stepMs: 0,
    cameraHz: 1,
  });
  const episodes: EpisodeSummary[] = [];
  let interrupted = false;
  // Opened once: loading ONNX sessions per episode would dominate the wall time.
  const model = options.backend !== 'oracle' ? await WorldModel.open(options.model ?? {}) : undefined;
  try {
    for (let i = 0; i < options.episodes; i++) {
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      const seed = options.seed + i;
      robot.reset(seed, options.task);
      const latencies: number[] = [];
      const runId = `ep${String(i).padStart(4, '0')}`;
      const { report } = await runTask({
        url: robot.url,
        profile: options.profile,
        task: options.task,
        scene: options.scene,
        backend: options.backend,
        runId,
        runsDir: dir,
        seed,
        ...(options.replan ? {} : { maxReplans: 0 }),
        ...(options.partialPlans !== undefined ? { partialPlans: options.partialPlans } : {}),
        ...(model ? { modelOptions: { model, ...decodingOptions(options) } } : {}),
        wrapPlanner: (p) => timedPlanner(p, (ms) => latencies.push(ms)),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      if (report.outcome === 'aborted' && options.signal?.aborted) {
        interrupted = true;
        break;
      }
      const misses = report.steps.filter((s) => s.status !== 'done' && s.status !== 'cancelled').length;
      const success = robot.world.isGoal();
      const sheetTitle = `${name} episode ${i} (seed ${seed})`;
      const sheet = await runSheet(RunLog.open(dir, runId), sheetTitle, { frame: await robot.world.observe(), goal: success });
      if (sheet) writeFileSync(join(dir, runId, 'sheet.png'), sheet);
      const summary: EpisodeSummary = {
        episode: i,
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
      episodes.push(summary);
      options.onEpisode?.(i + 1, summary);
    }
  } finally {
    await robot.close();
    await model?.close();
  }
  const latencies = episodes.flatMap((e) => e.planLatencyMs);
  const successes = episodes.filter((e) => e.success).length;
  const result: RolloutResult = {
    episodes: episodes.length,
    successes,
    successRate: episodes.length === 0 ? 0 : round(successes / episodes.length, 4),
    steps: episodes.reduce((n, e) => n + e.steps, 0),
    misses: episodes.reduce((n, e) => n + e.misses, 0),
    replans: episodes.reduce((n, e) => n + e.replans, 0),
    planLatencyMs: { p50: round(percentile(latencies, 50), 2), p95: round(percentile(latencies, 95), 2) },
    wallS: round((performance.now() - start) / 1000, 2),
    ...(interrupted ? { interrupted } : {}),
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'summary.json'), `${JSON.stringify({ options: { robot: options.profile.id, scene: options.scene, task: options.task, episodes: options.episodes, missRate: options.missRate, seed: options.seed, backend: options.backend, replan: options.replan, partialPlans: options.partialPlans ?? true, ...(options.backend === 'onnx' ? decodingOptions(options) : {}) }, result, episodes }, null, 2)}\n`);
  writeFileSync(join(dir, 'summary.png'), await rolloutSummaryPng(options, result, episodes));
  return { result, episodes, dir };
}
