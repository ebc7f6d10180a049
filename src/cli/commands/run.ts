import { randomBytes } from 'node:crypto';
import { KEYFRAME_SAMPLERS } from '../../model/world-model.js';
import { RunLog } from '../../executor/index.js';
import { loadProfile } from '../../profile/load.js';
import { SceneId } from '../../schema/task.js';
import { BACKENDS, DEFAULT_BACKEND, DEFAULT_RECONNECT_LIMIT, dryRunTask, runTask } from '../../run/session.js';
import { rosbridgeUrlProblem } from '../../ros/rosbridge-url.js';
import { checkTask } from '../../scenes/task-check.js';
import { verdictOf } from '../../run/run-verdict.js';
import { choiceFlag, intFlag, modelFlags, modelFlagsHelp, parseFlags, requiredFlag, runIdFlag } from '../args.js';
import type { Command } from '../command.js';
import { EXIT, exitCodeOf } from '../exit-codes.js';
import { interruptSignal } from '../interrupt.js';
import { progressLine } from '../progress.js';
import { UsageError } from '../../errors/usage-error.js';
import type { Autonomy } from '../../executor/index.js';
import { RunControl } from '../../run/run-control.js';
import { RemotePlanner } from '../../planner/remote-planner.js';
import { ApprovalPrompt } from '../approval-prompt.js';
import { plannerFlags } from '../planner-flags.js';

const help = `keystep run --robot <id> --task "<text>" --rosbridge ws://host:port [options]
keystep run --resume <run-id> [--rosbridge ws://host:port]

Plans the task, validates the plan, and executes it step by step over rosbridge: every step is sent as
its instruction (JSON on the profile's step topic) plus its keyframe (CompressedImage). When a step
misses, keystep replans from the latest camera frame. Progress is printed live. Every event, plan
version and keyframe is written to runs/<run-id>/ as it happens.

Options:
  --robot <id>          robot profile (robots/<id>.json) or a path to one
  --task <text>         what to do, e.g. "fold the t-shirt"
  --scene <name>        tshirt | table: the robot's scene (default: the scene whose task it is)
  --rosbridge <url>     rosbridge server (default ws://127.0.0.1:9090)
  --backend <name>      planner: ${BACKENDS.join(' | ')} (default ${DEFAULT_BACKEND}, the embedded world model;
                        the oracle needs keystep sim)
  --sampler <name>      keyframe decoding of the onnx backend: dida | ar (default dida)
${modelFlagsHelp(24)}
  --run-id <id>         name of the run directory (default: generated)
  --runs <dir>          parent directory of run logs (default runs)
  --seed <n>            recorded with the run for reproducibility (default 0)
  --connect-timeout <ms> give up connecting after this long (default 10000); a refused connection,
                        an unknown host, a web server or a TLS failure gives up at once
  --camera-timeout <ms> give up when the keyframe camera sends no frame within this long (default 10000)
  --reconnect-limit <n> after a dropped connection, retry this many times with backoff, then stop the
                        run (default ${DEFAULT_RECONNECT_LIMIT}, about 90 s)
  --no-lease            run without the robot's lease (for a robot node that does not offer one);
                        then nothing stops a second executor driving the same robot
  --skip-scene-check    plan even when the camera plainly shows the other scene than the task's
                        (by default that is refused with exit 3 before anything is planned)
  --approve <what>      plan | step: wait for your y/n in the terminal before each plan version is
                        started, or before each step is sent (n replans with your note, a aborts);
                        needs a terminal on stdin (use keystep serve's approve routes otherwise)
  --planner <url>       plan through a running keystep serve (http://host:port) instead of in this
                        process; validation still runs here before anything is sent
  --planner-token-file <file>  the service's bearer token, for --planner
  --dry-run             plan and validate against the live camera, print the plan, send nothing
  --whole-plans         fail when no draft of a plan passes validation, instead of running the
                        validated steps before the first refused one and planning again after them
  --resume <run-id>     continue a killed run from its log, without redoing finished steps; a run whose
                        log already ends is not run again: it says how it ended and exits with its code
  -h, --help            this text

The task is checked against the scene and the robot before anything connects.
Ctrl-C aborts: the step in flight is cancelled on the robot, and the run ends as aborted (exit 130).
Exit codes: 0 succeeded, 1 failed, 2 bad flags or run id, 3 bad profile, task, run log or model directory,
4 no connection, 5 nothing to do (the task is already done in the camera picture), 130 Ctrl-C.`;

export const runCommand: Command = {
  help,
  async run(argv, io) {
    const { values } = parseFlags('run', argv, {
      robot: { type: 'string' },
      task: { type: 'string' },
      scene: { type: 'string' },
      rosbridge: { type: 'string' },
      backend: { type: 'string' },
      'run-id': { type: 'string' },
      runs: { type: 'string' },
      seed: { type: 'string' },
      resume: { type: 'string' },
      'whole-plans': { type: 'boolean' },
      'connect-timeout': { type: 'string' },
      'camera-timeout': { type: 'string' },
      'reconnect-limit': { type: 'string' },
      'no-lease': { type: 'boolean' },
      'skip-scene-check': { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      sampler: { type: 'string' },
      model: { type: 'string' },
      devices: { type: 'string' },
      approve: { type: 'string' },
      planner: { type: 'string' },
      'planner-token-file': { type: 'string' },
    });
    if (values.help) {
      io.out(help);
      return EXIT.ok;
    }
    const runsDir = values.runs ?? 'runs';
    const approve = values.approve === undefined ? undefined : choiceFlag('run', 'approve', values.approve, ['plan', 'step'] as const);
    let autonomy: Autonomy | undefined = approve === undefined ? undefined : approve === 'plan' ? 'approve-plan' : 'approve-step';
    const remote = plannerFlags('run', values);
    if (remote && values.backend !== undefined) throw new UsageError('--backend picks the planner of this process; with --planner the service plans (with its embedded model)', 'run');
    const url = values.rosbridge ?? 'ws://127.0.0.1:9090';
    const urlProblem = rosbridgeUrlProblem(url);
    if (urlProblem) throw new UsageError(`--rosbridge ${urlProblem}`, 'run');
    if (values['dry-run'] && values.resume !== undefined) throw new UsageError('--dry-run plans a new run; it cannot --resume one', 'run');
    const cameraTimeoutMs = intFlag('run', 'camera-timeout', values['camera-timeout'], 10_000, { min: 100, max: 600_000 });
    const reconnectLimit = intFlag('run', 'reconnect-limit', values['reconnect-limit'], DEFAULT_RECONNECT_LIMIT, { min: 0, max: 10_000 });
    let robotId: string;
    let task: string;
    let scene: SceneId | undefined;
    let backend = choiceFlag('run', 'backend', values.backend, BACKENDS, DEFAULT_BACKEND);
    let seed = intFlag('run', 'seed', values.seed, 0, { min: 0, max: 2 ** 31 - 1 });
    let partialPlans = values['whole-plans'] !== true;
    let runId: string;
    if (values.resume !== undefined) {
      runId = runIdFlag('run', 'resume', values.resume);
      // The log says how the run was started; flags cannot change a run half way.
      const state = RunLog.open(runsDir, runId).resumeState();
      if (state.finished) {
        const r = state.finished;
        io.out(`run ${runId} already finished: ${r.outcome.toUpperCase()}${r.reason ? ` (${r.reason})` : ''}, ${r.steps.length} step attempts; nothing to resume. Start a new run to try again.`);
        io.out(`run log: ${RunLog.open(runsDir, runId).dir}`);
        return exitCodeOf(verdictOf(r));
      }
      const started = state.started;
      robotId = started.robot;
      task = started.task;
      scene = started.scene;
      if (started.backend !== undefined) backend = choiceFlag('run', 'backend', started.backend, BACKENDS);
      seed = started.seed ?? seed;
      partialPlans = started.partialPlans ?? true;
      // A run started with --approve asks again when resumed.
      autonomy ??= started.autonomy;
    } else {
      robotId = requiredFlag('run', 'robot', values.robot, 'aloha-agilex');
      task = requiredFlag('run', 'task', values.task, '"fold the t-shirt"');
      scene = values.scene === undefined ? undefined : choiceFlag('run', 'scene', values.scene, SceneId.options);
      runId = runIdFlag('run', 'run-id', values['run-id'] ?? `${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}-${randomBytes(3).toString('hex')}`);
    }
    if (autonomy !== undefined && autonomy !== 'auto' && !process.stdin.isTTY && values['dry-run'] !== true) {
      throw new UsageError(
        `${approve === undefined ? `run ${runId} was started with --approve, which` : '--approve'} asks in the terminal, and stdin is not one. Run it in a terminal, or run through keystep serve (POST /v1/runs with "autonomy") and answer with POST /v1/runs/<id>/approve or /reject`,
        'run',
      );
    }
    const profile = loadProfile(robotId);
    // Before anything connects: a task of no scene, of another scene, or beyond the robot stops here.
    scene = checkTask(task, profile, scene).scene;
    const interrupt = interruptSignal(() => io.err('aborting: cancelling the step in flight...'));
    const modelOptions = { sampler: choiceFlag('run', 'sampler', values.sampler, KEYFRAME_SAMPLERS, 'dida'), source: modelFlags('run', values) };
    const sceneCheck = values['skip-scene-check'] !== true;
    const connectTimeoutMs = intFlag('run', 'connect-timeout', values['connect-timeout'], 10_000, { min: 100, max: 600_000 });
    const control = new RunControl();
    const prompt = autonomy !== undefined && autonomy !== 'auto' && values['dry-run'] !== true ? new ApprovalPrompt(process.stdin, io.out, control) : undefined;
    try {
      if (values['dry-run']) {
        const dry = await dryRunTask({ url, profile, task, ...(scene ? { scene } : {}), backend, seed, modelOptions, connectTimeoutMs, cameraTimeoutMs, sceneCheck, signal: interrupt.signal, ...(remote ? { planner: remote } : {}) });
        io.out(`dry run: "${task}" on ${profile.id}, planned from the live camera (${dry.drafts} draft${dry.drafts === 1 ? '' : 's'}); nothing was sent to the robot`);
        dry.plan.steps.forEach((step, i) => io.out(`  step ${String(i).padStart(2)} ${step.instruction}`));
        for (const issue of dry.validation.issues) io.out(`  ${issue.severity} ${issue.code}${issue.step !== null ? ` (step ${issue.step})` : ''}: ${issue.message}`);
        io.out(dry.validation.ok ? `plan valid: ${dry.plan.steps.length} steps` : 'plan INVALID: a run would plan again or fail here');
        return dry.validation.ok ? EXIT.ok : EXIT.failed;
      }
      const result = await runTask({
        url,
        profile,
        task,
        ...(scene ? { scene } : {}),
        backend,
        runId,
        runsDir,
        seed,
        partialPlans,
        resume: values.resume !== undefined,
        ...(autonomy !== undefined ? { autonomy, control } : {}),
        ...(remote ? { planner: remote } : {}),
        modelOptions,
        connectTimeoutMs,
        cameraTimeoutMs,
        sceneCheck,
        reconnectLimit,
        ...(values['no-lease'] ? { lease: false as const } : {}),
        signal: interrupt.signal,
        onReconnecting: (attempt, limit, delayMs, last) =>
          io.err(`reconnecting to ${url}: attempt ${attempt} of ${limit} in ${(delayMs / 1000).toFixed(1)} s${last ? ` (last: ${last.kind.replace('_', ' ')}: ${last.detail.split('\n')[0]})` : ''}`),
        onRecord: (r) => {
          const line = progressLine(r);
          if (line) io.out(line);
          prompt?.onRecord(r);
        },
      });
      if (result.linkError) {
        // The run is logged as aborted; the robot link is why.
        io.err(`keystep run: ${result.linkError.message}`);
        io.out(`run log: ${result.dir}`);
        return EXIT.runtime;
      }
      io.out(`run log: ${result.dir}`);
      return exitCodeOf(verdictOf(result.report));
    } finally {
      prompt?.close();
      interrupt.dispose();
    }
  },
};
