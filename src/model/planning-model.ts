import type { ImageSize } from './image-io.js';
import type { Picture } from './picture.js';
import type { KeyframeOptions, StepTextOptions } from './world-model.js';

/**
 * What the planner asks of an embedded world model, whatever it holds pictures as: learned VQ codes
 * (WorldModel, spec version 1) or palette cells (PaletteWorldModel, version 2; models/PALETTE.md).
 * `codes` are the picture as the model holds it; only the model that made them reads them.
 */
export interface PlanningModel {
  /** The model's square picture size. */
  readonly imageSize: ImageSize;
  /** Codes per grid cell: 1 for a VQ token, 64 palette indices for a palette cell. Accuracy counts whole cells. */
  readonly codesPerCell: number;
  /** DiDA passes of a keyframe whose caller names none: the model's own (a palette model's spec.json `decoding.passes`, else 2). */
  readonly didaPasses: number;
  /** A camera frame (PNG, any size, or SVG) as the model holds it, with the model-size RGB it stands for. */
  encodePicture(image: Uint8Array | string): Promise<Picture>;
  encodeImage(image: Uint8Array | string): Promise<Int32Array>;
  /** Codes to a Picture, drawn against `reference` (the picture they start from) where the model does that. */
  decodePicture(codes: Int32Array, reference?: Picture): Promise<Picture>;
  decodePng(codes: Int32Array, reference?: Picture): Promise<Buffer>;
  /** Model-size RGB to a keyframe PNG at `size` (the keyframe camera's). */
  toPng(rgb: Uint8Array, size?: ImageSize): Promise<Buffer>;
  /** The remaining steps, as text, from the picture of the current state. */
  stepTexts(robot: string, task: string, codes: ArrayLike<number>, options: StepTextOptions): Promise<string[]>;
  /** The most likely next-step texts after `keep` that are none of `refused`, best first (step-alternatives.ts). */
  stepAlternatives(robot: string, task: string, codes: ArrayLike<number>, options: { keep: readonly string[]; refused: readonly string[]; signal?: AbortSignal }): Promise<{ text: string; logProb: number }[]>;
  /** The keyframe after `step`, drawn from the picture it starts from (observation or previous keyframe). */
  keyframe(robot: string, task: string, codes: ArrayLike<number>, step: string, options: KeyframeOptions): Promise<Int32Array>;
  close(): Promise<void>;
}
