/** What part of a run went wrong, so a caller can tell a planner outage from a robot protocol bug. */
export type ExecutorErrorKind = 'not_provided' | 'observe' | 'planner' | 'validator' | 'dispatcher' | 'protocol';

/** An executor failure with the run and step it happened in. */
export class ExecutorError extends Error {
  override readonly name = 'ExecutorError' as const;
  constructor(
    readonly kind: ExecutorErrorKind,
    message: string,
    readonly runId?: string,
    readonly stepIndex?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A run log that cannot be read back: names the file and, for a bad event, its line. */
export class RunLogError extends Error {
  override readonly name = 'RunLogError' as const;
  constructor(
    message: string,
    readonly file: string,
    readonly line?: number,
    readonly problems: readonly { path: string; message: string }[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
