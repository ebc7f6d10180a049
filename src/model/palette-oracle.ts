import type { Planner, PlanDraft, PlanRequest } from '../planner/planner.js';
import { keyframeSizeOf, MODEL_IMAGE, rgbToPng, toModelRgb, type ImageSize } from './image-io.js';
import { decodePalette, encodePalette, fromCells, paletteCodec, toCells, type PaletteCodec } from './palette.js';
import { loadPaletteModelSpec, modelSpecVersion } from './palette-spec.js';
import { DEFAULT_MODEL_DIR, loadModelSpec } from './spec.js';

const CELL_PIXELS = 64;

/** The renderer's palette, as the default model's spec.json lists it (models/PALETTE.md). */
export function rendererPalette(dir = DEFAULT_MODEL_DIR): PaletteCodec {
  const palette = modelSpecVersion(dir) === 2 ? loadPaletteModelSpec(dir).palette : loadModelSpec(dir).palette;
  if (!palette) throw new Error(`${dir}/spec.json has no palette: the palette codec needs the renderer's colours`);
  return paletteCodec(palette);
}

/**
 * A plan's keyframes as a palette-patch model draws them (models/PALETTE.md): each keyframe squashed
 * to the model's picture size, encoded to 16x16 cells of 8x8 palette indices and painted back. A cell
 * equal to the picture the step starts from is copied from it, as the runtime copies a kept cell; the
 * pictures chain as the planner's do (the observation for the first step, the step before's drawn
 * keyframe after that). The codec is exact, so a copied cell is the cell itself: what this measures
 * is the snap of every pixel to its nearest palette colour and the round trip through the model's
 * picture size.
 */
export async function redrawThroughPalette(codec: PaletteCodec, draft: PlanDraft, observation: Uint8Array, size: ImageSize): Promise<PlanDraft> {
  const side = MODEL_IMAGE.width;
  const cellsOf = async (image: Uint8Array): Promise<Uint8Array> => toCells(encodePalette(await toModelRgb(image), codec), side);
  let previous = await cellsOf(observation);
  const steps = [];
  for (const step of draft.steps) {
    const target = await cellsOf(step.keyframe);
    const drawn = new Uint8Array(target.length);
    for (let at = 0; at < target.length; at += CELL_PIXELS) {
      const kept = sameCell(target, previous, at);
      drawn.set((kept ? previous : target).subarray(at, at + CELL_PIXELS), at);
    }
    steps.push({ ...step, keyframe: await rgbToPng(decodePalette(fromCells(drawn, side), codec), size) });
    previous = drawn;
  }
  return { ...draft, steps };
}

function sameCell(a: Uint8Array, b: Uint8Array, at: number): boolean {
  for (let i = at; i < at + CELL_PIXELS; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Backend `oracle-pal`: the sim oracle's plan with every keyframe drawn through the palette codec.
 * The ceiling of a palette-patch model, as oracle-vq is the VQ model's: where it fails, no training
 * of the transformer can help. Needs no model files.
 */
export class PaletteOraclePlanner implements Planner {
  readonly name: string;

  constructor(private readonly oracle: Planner, private readonly codec: PaletteCodec = rendererPalette()) {
    this.name = `${oracle.name}-pal`;
  }

  async plan(request: PlanRequest): Promise<PlanDraft> {
    const draft = await this.oracle.plan(request);
    return { ...(await redrawThroughPalette(this.codec, draft, request.observation, keyframeSizeOf(request.robot))), backend: this.name };
  }
}
