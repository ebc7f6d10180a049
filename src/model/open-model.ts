import { PaletteWorldModel } from './palette-world-model.js';
import { modelSpecVersion } from './palette-spec.js';
import type { PlanningModel } from './planning-model.js';
import { DEFAULT_MODEL_DIR, VQ_MODEL_DIR } from './spec.js';
import { WorldModel, type ModelSource, type WorldModelOptions } from './world-model.js';

/**
 * The embedded world model of a model directory, whichever kind its spec.json says it is: version 2
 * a palette-patch model (palette_transformer.onnx and palette_pixels.onnx), otherwise a VQ model (vq_encoder, vq_decoder and
 * transformer.onnx). The planner, rollouts, the service and bench take either.
 */
export async function openWorldModel(options: WorldModelOptions = {}): Promise<PlanningModel> {
  const dir = options.dir ?? DEFAULT_MODEL_DIR;
  return modelSpecVersion(dir) === 2 ? PaletteWorldModel.open(options) : WorldModel.open({ ...options, dir });
}

/**
 * The model a backend opens: `oracle-vq` measures a VQ tokenizer, so without a directory it takes the
 * VQ model in models/vq rather than the default palette-patch model, which has no tokenizer to measure.
 */
export function backendModelSource<S extends ModelSource>(backend: string, source: S): S {
  return backend === 'oracle-vq' && source.dir === undefined ? { ...source, dir: VQ_MODEL_DIR } : source;
}
