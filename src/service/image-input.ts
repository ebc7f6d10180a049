import sharp from 'sharp';
import { ServiceError } from './service-error.js';

/** A side longer than this is refused before decoding (the largest camera a profile may have). */
export const MAX_IMAGE_SIDE = 4096;

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];
const startsWith = (bytes: Uint8Array, magic: readonly number[]) => magic.every((b, i) => bytes[i] === b);

/**
 * A picture sent as base64 (or a data: URL), as the PNG the planners and the validator take. The
 * bytes must be a PNG or JPEG that decodes whole and is at most MAX_IMAGE_SIDE a side; anything
 * else is a 400 naming `path`, never an error deeper in.
 */
export async function decodePicture(text: string, path: string): Promise<Uint8Array> {
  const bytes = new Uint8Array(Buffer.from(text.replace(/^data:[^,]*,/, ''), 'base64'));
  const png = startsWith(bytes, PNG_MAGIC);
  if (!png && !startsWith(bytes, JPEG_MAGIC)) throw ServiceError.badField(path, 'not a PNG or JPEG picture');
  let width: number | undefined;
  let height: number | undefined;
  try {
    ({ width, height } = await sharp(bytes).metadata());
  } catch (cause) {
    throw ServiceError.badField(path, `the picture cannot be read: ${(cause as Error).message}`);
  }
  if (!width || !height || width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) {
    throw ServiceError.badField(path, `the picture is ${width ?? '?'}x${height ?? '?'}; at most ${MAX_IMAGE_SIDE} px a side`);
  }
  try {
    // Decoding it whole catches a truncated or corrupt body here; a JPEG becomes the PNG planners take.
    return new Uint8Array(await sharp(bytes, { failOn: 'error' }).png().toBuffer());
  } catch (cause) {
    throw ServiceError.badField(path, `the picture cannot be decoded: ${(cause as Error).message}`);
  }
}
