/** A plan directory that cannot be read at all: names the file and, for schema problems, every bad field. */
export class PlanDirError extends Error {
  override readonly name = 'PlanDirError' as const;
  constructor(
    message: string,
    readonly file: string,
    readonly problems: readonly { path: string; message: string }[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isPlanDirError(e: unknown): e is PlanDirError {
  return e instanceof PlanDirError;
}
