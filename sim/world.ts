import type { RobotProfile, SceneId, StepCommand, StepFeedback } from '../src/schema/index.js';
import { stepId } from '../src/schema/index.js';
import { decide, DEFAULT_CONTROLLER_OPTIONS, type ControllerOptions } from './controller.js';
import { renderCamera } from './render.js';
import { sceneById, type AnyScene } from '../src/scenes/registry.js';
import { Rng } from '../src/util/rng.js';
import type { OracleStep, SceneStateBase } from '../src/scenes/scene.js';
import { missModelOf, type MissKind } from './miss/index.js';
import { UnknownTaskError } from '../src/scenes/unknown-task-error.js';

export interface SimWorldOptions {
  profile: RobotProfile;
  scene: SceneId;
  task: string;
  seed: number;
  /** Probability that a step the controller executes goes wrong (slip, drop, partial fold...). */
  missRate: number;
  controller?: ControllerOptions;
}

export { UnknownTaskError };

type ExecuteCommand = Extract<StepCommand, { kind: 'execute' }>;

export interface StepRecord {
  stepId: string;
  instruction: string;
  status: StepFeedback['status'];
  miss?: MissKind;
  reason?: string;
}

/**
 * One simulated robot in one scene: the state, the controller that turns (instruction, keyframe) into
 * motion, and the miss model. Steps run one at a time in arrival order, and each step id runs at most
 * once: a duplicate gets the first result again, marked as a duplicate.
 */
export class SimWorld {
  readonly scene: AnyScene;
  state: SceneStateBase;
  goal: unknown;
  readonly history: StepRecord[] = [];
  private readonly results = new Map<string, Promise<StepFeedback>>();
  private readonly cancelled = new Set<string>();
  /** Runs that had steps before the last reset: their late commands must not act on the new episode. */
  private readonly retiredRuns = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  private missRng: Rng;

  constructor(readonly options: SimWorldOptions) {
    this.scene = sceneById(options.scene);
    const task = this.scene.parseTask(options.task);
    if (!task.ok) throw new UnknownTaskError(task.reason, { scene: options.scene, task: options.task });
    this.goal = task.goal;
    const rng = new Rng(options.seed);
    this.state = this.scene.initial(options.profile, rng.fork('layout'));
    this.missRng = rng.fork('miss');
  }

  get profile(): RobotProfile {
    return this.options.profile;
  }

  /** Back to a fresh seeded episode, optionally with another task. */
  reset(seed: number, task = this.options.task): void {
    const parsed = this.scene.parseTask(task);
    if (!parsed.ok) throw new UnknownTaskError(parsed.reason, { scene: this.options.scene, task });
    Object.assign(this.options, { seed, task });
    this.goal = parsed.goal;
    const rng = new Rng(seed);
    this.state = this.scene.initial(this.profile, rng.fork('layout'));
    this.missRng = rng.fork('miss');
    this.history.length = 0;
    // A command can still be on the wire when the episode is reset (sent before a drop, delivered
    // after it). Its run is over: remember the run, so the late command is refused, not executed.
    for (const id of this.results.keys()) this.retiredRuns.add(id.slice(0, id.lastIndexOf('/', id.lastIndexOf('/') - 1)));
    this.results.clear();
    this.cancelled.clear();
  }

  isGoal(): boolean {
    return this.scene.isGoal(this.state, this.goal);
  }

  /**
   * The remaining steps from the current state, according to the oracle: for `task` when given (the
   * task a run asks for), else for the task the world was started with. A task of another scene is
   * refused with UnknownTaskError naming the scene's tasks.
   */
  oracle(task?: string): OracleStep<SceneStateBase>[] {
    if (task === undefined) return this.scene.oracle(this.state, this.goal, this.profile);
    const parsed = this.scene.parseTask(task);
    if (!parsed.ok) {
      const known = this.scene.tasks.map((t) => `"${t}"`).join(', ');
      throw new UnknownTaskError(`the simulated robot is in the ${this.scene.id} scene; "${task}" is not one of its tasks (${known})`, { scene: this.options.scene, task });
    }
    return this.scene.oracle(this.state, parsed.goal, this.profile);
  }

  /** A camera frame (PNG at the camera's resolution) of the current state. */
  async observe(cameraName = this.profile.keyframeCamera): Promise<Buffer> {
    const camera = this.profile.cameras.find((c) => c.name === cameraName);
    if (!camera) throw new RangeError(`robot ${this.profile.id} has no camera "${cameraName}"`);
    return renderCamera(this.scene, this.state, camera);
  }

  /** Marks a step id cancelled: if it has not started yet it will not run. */
  cancel(id: string): boolean {
    if (this.results.has(id)) return false;
    this.cancelled.add(id);
    return true;
  }

  /** Whether this step id has been seen before (executed, running or queued). */
  has(id: string): boolean {
    return this.results.has(id);
  }

  execute(command: ExecuteCommand, keyframe: Uint8Array): Promise<StepFeedback> {
    const id = stepId(command.runId, command.stepIndex, command.attempt);
    if (this.retiredRuns.has(command.runId)) {
      return Promise.resolve({
        runId: command.runId,
        stepIndex: command.stepIndex,
        attempt: command.attempt,
        status: 'rejected',
        reason: `run ${command.runId} ended before the scene was reset; start a new run`,
        stamp: Date.now(),
      });
    }
    const earlier = this.results.get(id);
    // A duplicate repeats the first result, stamp included: the stamp says when the outcome happened.
    if (earlier) return earlier.then((f) => ({ ...f, duplicate: true }));
    const run = this.queue.then(() => this.run(id, command, keyframe));
    this.results.set(id, run);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(id: string, command: ExecuteCommand, keyframe: Uint8Array): Promise<StepFeedback> {
    const base = { runId: command.runId, stepIndex: command.stepIndex, attempt: command.attempt };
    const record = (f: StepFeedback, miss?: MissKind): StepFeedback => {
      this.history.push({ stepId: id, instruction: command.instruction, status: f.status, ...(miss ? { miss } : {}), ...(f.reason ? { reason: f.reason } : {}) });
      // The gripper state after the step, as a robot reads it from its grippers (state updated above).
      return { ...f, holding: Object.fromEntries(this.state.arms.map((a) => [a.name, a.holding])) };
    };
    if (this.cancelled.has(id)) {
      return record({ ...base, status: 'cancelled', reason: 'cancelled before it started', stamp: Date.now() });
    }
    const decision = await decide(this.scene, this.profile, this.state, command.instruction, keyframe, this.options.controller ?? DEFAULT_CONTROLLER_OPTIONS);
    switch (decision.kind) {
      case 'reject':
        return record({ ...base, status: 'rejected', reason: decision.reason, stamp: Date.now() });
      case 'unreachable':
        return record({ ...base, status: 'miss', reason: decision.reason, keyframeDistance: decision.distance, stamp: Date.now() });
      case 'act': {
        if (this.missRng.chance(this.options.missRate)) {
          const miss = missModelOf(this.scene.id).miss(this.state, decision.action, this.missRng);
          this.state = miss.state;
          return record(
            { ...base, status: 'miss', reason: `${miss.kind}: ${miss.reason}`, action: decision.action, keyframeDistance: decision.distance, stamp: Date.now() },
            miss.kind,
          );
        }
        this.state = decision.next;
        return record({ ...base, status: 'done', action: decision.action, keyframeDistance: decision.distance, stamp: Date.now() });
      }
    }
  }
}
