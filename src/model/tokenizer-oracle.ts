import type { Planner, PlanDraft, PlanRequest } from '../planner/planner.js';
import { keyframeSizeOf, type ImageSize } from './image-io.js';
import type { Picture } from './picture.js';
import type { PlanningModel } from './planning-model.js';

/**
 * A plan's keyframes as the embedded model's tokenizer draws them: each keyframe is encoded to the
 * model's codes and decoded against the picture its step starts from (the observation for the first
 * step, the step before's redrawn keyframe after that), exactly as the onnx backend draws the codes
 * its transformer writes. On the oracle's plan this is what a perfect transformer would hand the
 * robot: a closed loop on it is the ceiling the tokenizer leaves the onnx backend. Keyframes come out
 * at `size`, the keyframe camera's (keyframeSizeOf), as the onnx backend's do.
 */
export async function redrawThroughTokenizer(model: PlanningModel, draft: PlanDraft, observation: Uint8Array, size: ImageSize): Promise<PlanDraft> {
  let previous: Picture = await model.encodePicture(observation);
  const steps = [];
  for (const step of draft.steps) {
    const drawn = await model.decodePicture(await model.encodeImage(step.keyframe), previous);
    steps.push({ ...step, keyframe: await model.toPng(drawn.rgb, size) });
    previous = drawn;
  }
  return { ...draft, steps };
}

/**
 * Backend `oracle-vq`: the sim oracle's plan (true steps, true next states) with every keyframe
 * redrawn through the tokenizer. It answers "would the onnx backend succeed if its transformer made
 * no mistake?": where this backend fails, no training of the transformer can help, only the
 * tokenizer (or the picture size) can.
 */
export class TokenizerOraclePlanner implements Planner {
  readonly name: string;

  constructor(private readonly oracle: Planner, private readonly model: PlanningModel) {
    this.name = `${oracle.name}-vq`;
  }

  async plan(request: PlanRequest): Promise<PlanDraft> {
    const draft = await this.oracle.plan(request);
    return { ...(await redrawThroughTokenizer(this.model, draft, request.observation, keyframeSizeOf(request.robot))), backend: this.name };
  }
}
