import sharp from 'sharp';
import { COMPARE_SIZE } from '../image/compare.js';
import type { SceneId } from '../schema/task.js';
import type { ValidationResult, ValidatorInput } from './contract.js';
import { analysePicture } from './picture.js';
import { validatePlan, type DecodedImage } from './validate-plan.js';

/** Width and height from a PNG's IHDR chunk, without a round trip through libvips; null if not a PNG. */
function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes.length < 24 || bytes[12] !== 0x49 || bytes[13] !== 0x48 || bytes[14] !== 0x44 || bytes[15] !== 0x52) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** Decodes an encoded image to the compare size; a failure is data, not a throw. */
export async function decodeImage(bytes: unknown): Promise<DecodedImage> {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) return { ok: false, error: 'no image bytes' };
  try {
    const image = sharp(bytes, { failOn: 'error' });
    const size = pngSize(bytes) ?? (await image.metadata());
    const { data } = await image
      .resize(COMPARE_SIZE.width, COMPARE_SIZE.height, { fit: 'fill', kernel: 'cubic' })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const rgb = new Uint8Array(data.buffer, data.byteOffset, data.length);
    return { ok: true, width: size.width ?? COMPARE_SIZE.width, height: size.height ?? COMPARE_SIZE.height, picture: analysePicture(rgb, COMPARE_SIZE.width, COMPARE_SIZE.height) };
  } catch (cause) {
    return { ok: false, error: (cause as Error).message };
  }
}

/**
 * The validator a run calls before it sends a plan's steps (contract.ts): decodes the observation and
 * every keyframe (in parallel, through sharp's thread pool), then runs the pure checks. Never rejects.
 */
export async function validateDraft(input: ValidatorInput & { scene?: SceneId }): Promise<ValidationResult> {
  const steps = Array.isArray(input.plan?.steps) ? input.plan.steps : [];
  const [observation, ...keyframes] = await Promise.all([
    input.observation !== undefined ? decodeImage(input.observation) : Promise.resolve(undefined),
    ...steps.map((s) => decodeImage((s as { keyframe?: unknown } | null)?.keyframe)),
  ]);
  const scene = input.scene ?? input.plan?.scene;
  return validatePlan(input.plan, input.robot, {
    ...(scene !== undefined ? { scene } : {}),
    ...(observation !== undefined ? { observation } : {}),
    keyframes,
    ...(input.history !== undefined ? { history: input.history } : {}),
    ...(input.task !== undefined ? { task: input.task } : {}),
  });
}
