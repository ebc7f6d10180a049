/** What keystep's exit status means, for scripts and CI that call it. */
export const EXIT = {
  ok: 0,
  /** The job ran and the answer is no: task not reached, plan invalid, rollout below target. */
  failed: 1,
  /** Bad command line: unknown flag, missing value, value out of range. */
  usage: 2,
  /** Bad input file or configuration: robot profile, plan file, run log, model directory, unknown task for the scene. */
  config: 3,
  /** The environment got in the way: port in use, connection refused, I/O error. */
  runtime: 4,
  /** Stopped by SIGINT / SIGTERM. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
