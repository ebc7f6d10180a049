import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { KEYFRAME_SAMPLERS, type ModelSource } from '../../model/world-model.js';
import { RunLog } from '../../executor/index.js';
import { loadProfile } from '../../profile/load.js';
import { SimRobot } from '../../../sim/robot-node.js';
import { runSheet } from '../../run/run-sheet.js';
import { BACKENDS, DEFAULT_BACKEND, runTask, type BackendName } from '../../run/session.js';
import { checkTask } from '../../scenes/task-check.js';
import { verdictOf } from '../../run/run-verdict.js';
import { choiceFlag, intFlag, modelFlags, modelFlagsHelp, numberFlag, parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { EXIT, exitCodeOf } from '../exit-codes.js';
import { interruptSignal } from '../interrupt.js';
import { progressLine } from '../progress.js';
import { plannerFlags } from '../planner-flags.js';
import { UsageError } from '../../errors/usage-error.js';

const help = `keystep demo [--robot aloha-agilex] [--seed 0] [--miss-rate 0.15] [--backend onnx|oracle] [--sampler dida|ar]
             [--model models] [--devices cpu] [--runs runs] [--planner http://host:port [--planner-token-file f]]

The main job, end to end on one machine: starts the simulated robot behind a rosbridge server on
loopback, then plans and executes one T-shirt fold against it over roslib, replanning on misses, with
live progress. Writes the run log and a contact sheet (runs/<run-id>/sheet.png).
This is what npm start runs.

The planner is the embedded world model (models/*.onnx on the CPU) unless --backend oracle asks for
the simulator's oracle, which plans from the sim's state and keyframes from its renderer. --planner
plans through a running keystep serve instead (its embedded model); validation still runs here.

${modelFlagsHelp(22)}
  --camera-timeout <ms> give up when no camera frame comes within this long (default 10000)

Ctrl-C aborts like keystep run: the step in flight is cancelled, the run log ends, the sheet is written.
Exit codes: 0 the fold succeeded, 1 it did not, 2 bad flags, 3 bad profile, a robot that cannot fold
or a bad model directory, 130 Ctrl-C.`;

const TASK = 'fold the t-shirt';

export const demoCommand: Command = {
  help,
  async run(argv, io) {
    const { values } = parseFlags('demo', argv, {
      robot: { type: 'string' },
      seed: { type: 'string' },
      'miss-rate': { type: 'string' },
      runs: { type: 'string' },
      backend: { type: 'string' },
      sampler: { type: 'string' },
      model: { type: 'string' },
      devices: { type: 'string' },
      'camera-timeout': { type: 'string' },
      planner: { type: 'string' },
      'planner-token-file': { type: 'string' },
    });
    if (values.help) {
      io.out(help);
      return EXIT.ok;
    }
    const profile = loadProfile(values.robot ?? 'aloha-agilex');
    const seed = intFlag('demo', 'seed', values.seed, 0, { min: 0, max: 2 ** 31 - 1 });
    const missRate = numberFlag('demo', 'miss-rate', values['miss-rate'], 0.15, { min: 0, max: 1 });
    const runsDir = values.runs ?? 'runs';
    const backend = choiceFlag('demo', 'backend', values.backend, BACKENDS, DEFAULT_BACKEND);
    const sampler = choiceFlag('demo', 'sampler', values.sampler, KEYFRAME_SAMPLERS, 'dida');
    // Read before the sim robot starts, so a bad flag costs nothing to clean up.
    const source = modelFlags('demo', values);
    const remote = plannerFlags('demo', values);
    if (remote && values.backend !== undefined) throw new UsageError('--backend picks the planner of this process; with --planner the service plans (with its embedded model)', 'demo');
    const cameraTimeoutMs = intFlag('demo', 'camera-timeout', values['camera-timeout'], 10_000, { min: 100, max: 600_000 });
    checkTask(TASK, profile, 'tshirt');
    const robot = await SimRobot.start({ profile, scene: 'tshirt', task: TASK, seed, missRate, port: 0, stepMs: 150 });
    const interrupt = interruptSignal(() => io.err('aborting: cancelling the step in flight...'));
    io.out(`sim robot ${profile.id} (scene tshirt, seed ${seed}, miss rate ${missRate}) on ${robot.url}`);
    io.out(`planner backend: ${remote ? `keystep serve at ${values.planner} (its embedded model)` : describeBackend(backend, sampler, source)}`);
    try {
      const runId = `demo-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}-s${seed}`;
      const result = await runTask({
        url: robot.url,
        profile,
        task: TASK,
        scene: 'tshirt',
        backend,
        runId,
        modelOptions: { sampler, source },
        ...(remote ? { planner: remote } : {}),
        runsDir,
        seed,
        cameraTimeoutMs,
        signal: interrupt.signal,
        onRecord: (r) => {
          const line = progressLine(r);
          if (line) io.out(line);
        },
      });
      const goal = robot.world.isGoal();
      io.out(`simulator: goal state ${goal ? 'reached' : 'NOT reached'}`);
      const sheet = await runSheet(RunLog.open(runsDir, runId), `demo run ${runId}`, { frame: await robot.world.observe(), goal });
      if (sheet) writeFileSync(join(result.dir, 'sheet.png'), sheet);
      io.out(`run log: ${result.dir} (events.jsonl, plans, keyframes, sheet.png)`);
      const verdict = verdictOf(result.report);
      // Success is the simulator's verdict too: the executor's word alone is not enough.
      if (verdict === 'succeeded') return goal ? EXIT.ok : EXIT.failed;
      return exitCodeOf(verdict);
    } finally {
      interrupt.dispose();
      await robot.close();
    }
  },
};

function describeBackend(backend: BackendName, sampler: string, source: ModelSource): string {
  switch (backend) {
    case 'onnx':
      return `onnx (the embedded world model in ${source.dir ?? 'models/'}, ${sampler} keyframes, on ${(source.devices ?? ['cpu']).join(', ')})`;
    case 'oracle':
      return 'oracle (plans from the simulator state)';
    case 'oracle-vq':
      return `oracle-vq (plans from the simulator state, keyframes drawn by the tokenizer in ${source.dir ?? 'models/vq/'})`;
    case 'oracle-pal':
      return 'oracle-pal (plans from the simulator state, keyframes drawn through the palette codec at 128x128)';
  }
}
