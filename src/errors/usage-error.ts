/** A bad command line. The message says which flag and what to do; `command` picks the help to show. */
export class UsageError extends Error {
  override readonly name = 'UsageError' as const;
  constructor(message: string, readonly command?: string) {
    super(message);
  }
}

export function isUsageError(e: unknown): e is UsageError {
  return e instanceof UsageError;
}
