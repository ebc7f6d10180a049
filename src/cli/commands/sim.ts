import { listenError } from '../../errors/listen-error.js';
import { loadProfile } from '../../profile/load.js';
import { checkTask } from '../../scenes/task-check.js';
import { SceneId } from '../../schema/task.js';
import { leaseTopics } from '../../schema/robot-profile.js';
import { ROSAPI } from '../../rosbridge/index.js';
import { SIM_SERVICES, SimRobot } from '../../../sim/robot-node.js';
import { choiceFlag, intFlag, numberFlag, parseFlags, requiredFlag } from '../args.js';
import type { Command } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { defaultTask } from './sheet.js';

const help = `keystep sim --robot <id> --scene <tshirt|table> [options]

Starts a simulated robot behind a rosbridge v2 server (JSON and CBOR). It serves the robot profile's
ROS interface: camera frames, joint states, step commands + keyframes in, step feedback out.
Runs until Ctrl-C.

Options:
  --robot <id>        robot profile from robots/ (aloha-agilex, aloha-stanford, agibot-g1, franka-fr3)
                      or a path to a profile JSON file
  --scene <name>      tshirt | table
  --task <text>       task the scene starts in (default: the scene's full task)
  --port <n>          rosbridge port (default 9090; 0 picks a free one)
  --host <addr>       address to listen on (default 127.0.0.1)
  --seed <n>          layout and miss seed (default 0)
  --miss-rate <p>     probability that an executed step misses, 0..1 (default 0)
  --camera-hz <n>     camera frames per second while subscribed (default 2)
  --step-ms <n>       simulated duration of one step in ms (default 200)
  --real-errors       answer protocol errors as the real rosbridge_server does: no status frames,
                      only a log line here (a ROS 1 profile's sim refuses ROS 2 type spellings
                      like sensor_msgs/msg/Image either way, as a ROS 1 server does)
  -h, --help          this text

The task is checked against the scene and the robot before the port opens.
Exit codes: 2 bad flags, 3 bad profile or task, 4 cannot listen (port taken, --host not an address
of this machine), 130 stopped by Ctrl-C/SIGTERM.`;

export const simCommand: Command = {
  help,
  async run(argv, io) {
    const { values } = parseFlags('sim', argv, {
      robot: { type: 'string' },
      scene: { type: 'string' },
      task: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      seed: { type: 'string' },
      'miss-rate': { type: 'string' },
      'camera-hz': { type: 'string' },
      'step-ms': { type: 'string' },
      'real-errors': { type: 'boolean' },
    });
    if (values.help) {
      io.out(help);
      return EXIT.ok;
    }
    const profile = loadProfile(requiredFlag('sim', 'robot', values.robot, 'aloha-agilex'));
    const scene = choiceFlag('sim', 'scene', values.scene, SceneId.options);
    const options = {
      profile,
      scene,
      task: values.task ?? defaultTask(scene),
      seed: intFlag('sim', 'seed', values.seed, 0, { min: 0, max: 2 ** 31 - 1 }),
      missRate: numberFlag('sim', 'miss-rate', values['miss-rate'], 0, { min: 0, max: 1 }),
      port: intFlag('sim', 'port', values.port, 9090, { min: 0, max: 65535 }),
      host: values.host ?? '127.0.0.1',
      cameraHz: numberFlag('sim', 'camera-hz', values['camera-hz'], 2, { min: 0, max: 60 }),
      stepMs: intFlag('sim', 'step-ms', values['step-ms'], 200, { min: 0, max: 60_000 }),
      realErrors: values['real-errors'] === true,
      log: (line: string) => io.out(`[sim] ${line}`),
    };
    // Before the port opens: a sim that cannot run its task must not sit on the port.
    checkTask(options.task, profile, scene);
    let robot: SimRobot;
    try {
      robot = await SimRobot.start(options);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === undefined || !/^(EADDR|EAI_|ENOTFOUND$|EACCES$)/.test(code)) throw cause;
      throw listenError(options.host, options.port, cause);
    }
    const ros = profile.ros;
    // Listening before "Ctrl-C to stop." is printed: a Ctrl-C right after it must find the handler.
    const stopped = new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    io.out(
      [
        `keystep sim: ${profile.name}`,
        `  scene ${scene}, task "${robot.world.options.task}", seed ${robot.world.options.seed}, miss rate ${robot.world.options.missRate}`,
        `  rosbridge ${robot.url}`,
        `  step commands  ${ros.stepCommand.name} (${ros.stepCommand.type})`,
        `  keyframes      ${ros.keyframe.name} (${ros.keyframe.type})`,
        `  feedback       ${ros.feedback.name} (${ros.feedback.type})`,
        ...profile.cameras.map((c) => `  camera ${c.name.padEnd(8)} ${c.topic} (${c.type}, ${c.resolution.width}x${c.resolution.height})`),
        ...profile.arms.map((a) => `  joints ${a.name.padEnd(8)} ${a.jointStates.name} (${a.jointStates.type})`),
        `  lease          ${leaseTopics(ros).request.name} -> ${leaseTopics(ros).state.name}`,
        `  services       ${Object.values(SIM_SERVICES).map((s) => s.name).join(', ')}, ${Object.values(ROSAPI).join(', ')}`,
        `  ROS ${ros.rosVersion}${ros.rosVersion === 1 ? ': ROS 2 type spellings are refused' : ''}; errors ${values['real-errors'] ? 'only logged, as the real rosbridge_server' : 'answered with status frames'}`,
        'Ctrl-C to stop.',
      ].join('\n'),
    );
    await stopped;
    await robot.close();
    io.out('keystep sim: stopped');
    return EXIT.interrupted;
  },
};
