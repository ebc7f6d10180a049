import { existsSync } from 'node:fs';
import { join } from 'node:path';

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

/** The files a VQ model directory must hold; models/train.py writes all of them. */
export const MODEL_FILES = ['spec.json', 'vq_encoder.onnx', 'vq_decoder.onnx', 'transformer.onnx'] as const;
export type ModelFileName = (typeof MODEL_FILES)[number];

/** The path of one of a model directory's files; a ModelError saying what a model directory holds if it is missing. */
export function modelFile(dir: string, name: ModelFileName): string {
  const file = join(dir, name);
  if (!existsSync(file)) {
    throw new ModelError(
      `${file} not found: a model directory holds spec.json and its graphs, palette_transformer.onnx and palette_pixels.onnx (models/recipe.py writes them) or ${MODEL_FILES.slice(1).join(', ')} (models/train.py); the shipped one is models/, so check --model ${dir}`,
      file,
    );
  }
  return file;
}
