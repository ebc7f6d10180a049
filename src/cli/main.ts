import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isListenError } from '../errors/listen-error.js';
import { isProfileError } from '../errors/profile-error.js';
import { isUsageError } from '../errors/usage-error.js';
import { isImageFileError } from '../image/image-file-error.js';
import { PACKAGE_ROOT } from '../paths.js';
import { isRobotLinkError } from '../ros/errors.js';
import type { CliIo, Command } from './command.js';
import { EXIT, type ExitCode } from './exit-codes.js';

/**
 * Each command's one-line summary, and its module, loaded only when that command runs: a `sim` or
 * `run` process then never loads onnxruntime, fastify, BullMQ or the web view's server, and starts in
 * half the CPU time (sim --help: 0.5 s instead of 1.1 s; --version: 0.1 s).
 */
const COMMANDS = {
  demo: { summary: 'one T-shirt fold against the simulator, end to end (npm start)', load: async () => (await import('./commands/demo.js')).demoCommand },
  plan: { summary: 'make a plan (step texts + keyframes) from one picture and write it with a contact sheet', load: async () => (await import('./commands/plan.js')).planCommand },
  run: { summary: 'plan a task and execute it on a robot over rosbridge, replanning on misses', load: async () => (await import('./commands/run.js')).runCommand },
  rollout: { summary: 'measure success rates over simulated episodes, end to end over rosbridge', load: async () => (await import('./commands/rollout.js')).rolloutCommand },
  worker: { summary: 'run the episodes of queued rollouts (rollout --queue) from Redis', load: async () => (await import('./commands/worker.js')).workerCommand },
  serve: { summary: 'serve plans and runs for many robots over HTTP and WebSocket', load: async () => (await import('./commands/serve.js')).serveCommand },
  sim: { summary: 'start a simulated robot behind a rosbridge server', load: async () => (await import('./commands/sim.js')).simCommand },
  doctor: { summary: "check a robot's connection, topics, lease, cameras and clock against its profile", load: async () => (await import('./commands/doctor.js')).doctorCommand },
  sheet: { summary: 'write a contact sheet of an oracle episode in the simulator', load: async () => (await import('./commands/sheet.js')).sheetCommand },
  validate: { summary: 'check a saved plan against a robot profile before running it', load: async () => (await import('./commands/validate.js')).validateCommand },
  runs: { summary: 'list the runs under runs/ with their outcome', load: async () => (await import('./commands/runs.js')).runsCommand },
  report: { summary: "print a run's summary and write its contact sheet", load: async () => (await import('./commands/report.js')).reportCommand },
  bench: { summary: 'benchmark AR vs DiDA keyframe decoding of the embedded world model', load: async () => (await import('./commands/bench.js')).benchCommand },
} satisfies Record<string, { summary: string; load: () => Promise<Command> }>;
type CommandName = keyof typeof COMMANDS;

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `keystep: world-model plans (step text + goal keyframes), validated and executed over rosbridge

Usage: keystep <command> [options]   (keystep <command> --help for its options)
       keystep --version

Commands:
${lines.join('\n')}

Global options:
  --debug    print the stack trace with an error
  --version  print keystep's version`;
}

/** keystep's version, from its package.json (the source tree's or the installed package's). */
export function version(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
  tty: Boolean(process.stdout.isTTY),
};

/** Runs one CLI invocation and returns its exit code; never throws. */
export async function main(argv: string[], io: CliIo = defaultIo): Promise<ExitCode> {
  // --debug is global: before or after the command, it asks for stack traces with errors.
  const debug = argv.includes('--debug');
  const [name, ...rest] = argv.filter((a) => a !== '--debug');
  if (name === '--version' || name === '-v' || name === 'version') {
    io.out(`keystep ${version()}`);
    return EXIT.ok;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (!(name in COMMANDS)) {
    io.err(`keystep: unknown command "${name}"\n\n${usage()}`);
    return EXIT.usage;
  }
  const command = COMMANDS[name as CommandName];
  try {
    return await (await command.load()).run(rest, io);
  } catch (error) {
    const code = report(error, name, io, debug);
    if (debug && error instanceof Error && error.stack) io.err(error.stack);
    return code;
  }
}

/** Says what went wrong and what to do, and picks the exit code; a stack trace only with --debug. */
function report(error: unknown, command: string, io: CliIo, debug: boolean): ExitCode {
  if (isUsageError(error)) {
    io.err(`keystep ${command}: ${error.message}`);
    return EXIT.usage;
  }
  if (isProfileError(error) || isImageFileError(error)) {
    io.err(`keystep ${command}: ${error.message}`);
    return EXIT.config;
  }
  if (isListenError(error)) {
    io.err(`keystep ${command}: ${error.message}`);
    return EXIT.runtime;
  }
  if (isRobotLinkError(error)) {
    // Which failure it was and what to check is in the message; no stack, it is not a bug.
    io.err(`keystep ${command}: ${error.message}`);
    return EXIT.runtime;
  }
  const e = error as Error & { code?: string };
  switch (e?.name) {
    case 'UnknownTaskError':
    case 'UnsupportedTaskError':
    case 'RunLogError':
    case 'PlanDirError':
    case 'ModelError':
      io.err(`keystep ${command}: ${e.message}`);
      return EXIT.config;
    case 'PlannerError':
      io.err(`keystep ${command}: ${e.message}`);
      return EXIT.runtime;
  }
  if (e?.code === 'EADDRINUSE') {
    io.err(`keystep ${command}: ${e.message}: the port is taken; pick another with --port`);
    return EXIT.runtime;
  }
  const more = debug ? 'the stack trace follows' : 'run the command again with --debug for the stack trace';
  io.err(`keystep ${command}: unexpected error: ${e?.message ?? String(error)}\nThis is a bug in keystep: ${more}; please report it with the command line.`);
  return EXIT.runtime;
}
