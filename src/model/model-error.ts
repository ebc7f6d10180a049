/**
 * A model directory that cannot be used: a missing or unreadable file, a spec that does not parse, a
 * device the installed onnxruntime cannot run. Names the file and says what to do.
 */
export class ModelError extends Error {
  override readonly name = 'ModelError' as const;
  constructor(
    message: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isModelError(e: unknown): e is ModelError {
  return e instanceof ModelError;
}

/** The files a model directory must hold; models/train.py writes all of them. */
export const MODEL_FILES = ['spec.json', 'vq_encoder.onnx', 'vq_decoder.onnx', 'transformer.onnx'] as const;

export const missingFileHint = (dir: string) =>
  `a model directory holds ${MODEL_FILES.join(', ')} (models/train.py writes them); the shipped one is models/, so check --model ${dir}`;
