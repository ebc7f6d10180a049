/** An image file keystep cannot use (missing, empty, not an image, cut off): names the file and what to do. */
export class ImageFileError extends Error {
  override readonly name = 'ImageFileError' as const;
  constructor(
    message: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isImageFileError(e: unknown): e is ImageFileError {
  return e instanceof ImageFileError;
}
