/** Why a plan could not be had from the planner service: it was not reached, or it answered an error. */
export type RemotePlannerErrorKind = 'unreachable' | 'refused' | 'bad_answer';

/** A plan request to `keystep serve` that failed; names the service and, for an answer, its status. */
export class RemotePlannerError extends Error {
  override readonly name = 'RemotePlannerError' as const;
  constructor(
    readonly kind: RemotePlannerErrorKind,
    message: string,
    readonly url: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isRemotePlannerError(e: unknown): e is RemotePlannerError {
  return e instanceof RemotePlannerError;
}
