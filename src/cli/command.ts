import type { ExitCode } from './exit-codes.js';

/** Where a command writes: real streams in the CLI, buffers in tests. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** True when stdout is a terminal (progress bars redraw in place). */
  tty: boolean;
}

export interface Command {
  summary: string;
  help: string;
  run(argv: string[], io: CliIo): Promise<ExitCode>;
}
