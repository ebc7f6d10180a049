import type { RunVerdict } from '../run/run-verdict.js';

/** What keystep's exit status means, for scripts and CI that call it (README, "Exit codes"). */
export const EXIT = {
  ok: 0,
  /** The job ran and the answer is no: task not reached, plan invalid. */
  failed: 1,
  /** Bad command line: unknown flag, missing value, value out of range, a run id that leaves the runs folder. */
  usage: 2,
  /** Bad input file or configuration: robot profile, plan file, image, run log, model directory, a task the scene does not know or the robot cannot do. */
  config: 3,
  /** The environment got in the way: port in use, address not on this machine, connection refused, I/O error. */
  runtime: 4,
  /** Nothing to do: the task is already done in the robot's camera picture; nothing was sent. */
  nothingToDo: 5,
  /** Stopped by Ctrl-C (SIGINT) or SIGTERM; a run or rollout stopped this way says so and ends its log. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A run's exit status from its verdict; only an operator's Ctrl-C or SIGTERM aborts a run. */
export function exitCodeOf(verdict: RunVerdict): ExitCode {
  switch (verdict) {
    case 'succeeded':
      return EXIT.ok;
    case 'nothing_to_do':
      return EXIT.nothingToDo;
    case 'failed':
      return EXIT.failed;
    case 'aborted':
      return EXIT.interrupted;
  }
}
