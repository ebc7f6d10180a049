import { UsageError } from '../../errors/usage-error.js';
import { loadProfile } from '../../profile/load.js';
import { checkRobot, type CheckRow } from '../../ros/robot-check.js';
import { rosbridgeUrlProblem } from '../../ros/rosbridge-url.js';
import { intFlag, parseFlags, requiredFlag } from '../args.js';
import type { Command } from '../command.js';
import { EXIT } from '../exit-codes.js';

const help = `keystep doctor --robot <id> --rosbridge ws://host:port [options]

Checks a robot before anything moves, and prints a table with what to fix:
  - the connection to rosbridge;
  - every topic of the profile through rosapi: in the ROS graph, of the profile's type, with the
    robot on the other end (publishing cameras, joints and feedback; subscribed to step commands,
    keyframes and lease requests);
  - the robot lease: answered, and free;
  - camera frames arriving, decodable, at the profile's resolution;
  - the clock: frames stamped, on the robot's ROS time.
Nothing is sent that a robot acts on.

Options:
  --robot <id>            robot profile (robots/<id>.json) or a path to one
  --rosbridge <url>       rosbridge server (default ws://127.0.0.1:9090)
  --camera-timeout <ms>   how long each camera gets to deliver a frame (default 10000)
  --connect-timeout <ms>  give up connecting after this long (default 5000)
  --json                  print the rows as JSON
  -h, --help              this text

Exit codes: 0 all green, 1 something to fix (or not checked), 2 bad flags, 3 bad profile, 4 no connection.`;

export const doctorCommand: Command = {
  help,
  async run(argv, io) {
    const { values } = parseFlags('doctor', argv, {
      robot: { type: 'string' },
      rosbridge: { type: 'string' },
      'camera-timeout': { type: 'string' },
      'connect-timeout': { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.help) {
      io.out(help);
      return EXIT.ok;
    }
    const url = values.rosbridge ?? 'ws://127.0.0.1:9090';
    const problem = rosbridgeUrlProblem(url);
    if (problem) throw new UsageError(`--rosbridge ${problem}`, 'doctor');
    const profile = loadProfile(requiredFlag('doctor', 'robot', values.robot, 'aloha-agilex'));
    const rows = await checkRobot({
      url,
      profile,
      cameraTimeoutMs: intFlag('doctor', 'camera-timeout', values['camera-timeout'], 10_000, { min: 100, max: 600_000 }),
      connectTimeoutMs: intFlag('doctor', 'connect-timeout', values['connect-timeout'], 5000, { min: 100, max: 600_000 }),
    });
    if (values.json) io.out(JSON.stringify({ robot: profile.id, url, ok: rows.every((r) => r.status === 'ok'), rows }));
    else io.out(table(`keystep doctor: ${profile.id} at ${url}`, rows));
    if (rows.some((r) => r.check === 'connection' && r.status === 'fail')) return EXIT.runtime;
    return rows.every((r) => r.status === 'ok') ? EXIT.ok : EXIT.failed;
  },
};

const MARK: Record<CheckRow['status'], string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL' };

function table(title: string, rows: readonly CheckRow[]): string {
  const width = Math.max(...rows.map((r) => r.check.length));
  const lines = rows.flatMap((r) => [`  ${MARK[r.status].padEnd(5)} ${r.check.padEnd(width)}  ${r.detail}`, ...(r.fix ? [`  ${''.padEnd(5)} ${''.padEnd(width)}  fix: ${r.fix}`] : [])]);
  const fails = rows.filter((r) => r.status === 'fail').length;
  const warns = rows.filter((r) => r.status === 'warn').length;
  const verdict =
    fails + warns === 0
      ? 'all green: the robot is ready for keystep run'
      : `${fails} to fix, ${warns} warning${warns === 1 ? '' : 's'}${fails > 0 ? ': a run would not work' : ''}`;
  return [title, ...lines, verdict].join('\n');
}
