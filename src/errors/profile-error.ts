/** A robot profile that cannot be used: names the file and every bad field, and says what to do. */
export class ProfileError extends Error {
  override readonly name = 'ProfileError' as const;
  constructor(
    message: string,
    readonly file: string,
    readonly problems: readonly { path: string; message: string }[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isProfileError(e: unknown): e is ProfileError {
  return e instanceof ProfileError;
}
