import type { SceneId } from '../schema/task.js';

/** A task no scene knows, or not the given scene: names the task, the scene and the tasks it knows. */
export class UnknownTaskError extends Error {
  override readonly name = 'UnknownTaskError' as const;
  constructor(
    message: string,
    readonly context: { task: string; scene?: SceneId },
  ) {
    super(message);
  }
}

export function isUnknownTaskError(e: unknown): e is UnknownTaskError {
  return e instanceof UnknownTaskError;
}
