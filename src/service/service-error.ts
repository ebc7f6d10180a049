/** One thing wrong with a request: where (`body.robot`, `params.id`) and what. */
export interface RequestProblem {
  path: string;
  message: string;
}

/**
 * A request the service refuses or cannot serve, with the HTTP status it answers with. `code` is a
 * stable word for programs (`bad_request`, `not_found`, `conflict`, ...); `issues` name the fields.
 */
export class ServiceError extends Error {
  override readonly name = 'ServiceError' as const;
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly issues: readonly RequestProblem[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** A 400 about one field of the request. */
  static badField(path: string, message: string): ServiceError {
    return new ServiceError(400, 'bad_request', `${path}: ${message}`, [{ path, message }]);
  }
}

export function isServiceError(e: unknown): e is ServiceError {
  return e instanceof ServiceError;
}
