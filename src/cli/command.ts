import type { ExitCode } from './exit-codes.js';

/** Where a command writes: real streams in the CLI, buffers in tests. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** True when stdout is a terminal (progress bars redraw in place). */
  tty: boolean;
}

/** A command's module: its --help text and what it does. Its one-line summary is in main.ts, so listing the commands loads none of them. */
export interface Command {
  help: string;
  run(argv: string[], io: CliIo): Promise<ExitCode>;
}
