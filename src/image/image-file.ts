import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { ImageFileError } from './image-file-error.js';

const WHAT_TO_GIVE = "give a PNG, JPEG or WebP picture from the robot's keyframe camera";

const isPng = (bytes: Uint8Array) => bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;

/**
 * An observation from a file, as PNG bytes. The whole picture is decoded here, so a file that is not
 * an image, is empty or was cut off in a copy is refused up front with the file named, not half way
 * through planning with a decoder's stack trace.
 */
export async function readImageFile(file: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new ImageFileError(`cannot read ${file} (${code ?? (cause as Error).message}); ${WHAT_TO_GIVE}`, file, { cause });
  }
  if (bytes.length === 0) throw new ImageFileError(`${file} is empty (0 bytes); ${WHAT_TO_GIVE}`, file);
  try {
    // failOn 'truncated': a cut-off PNG or JPEG is an error, not a picture with a grey bottom.
    const image = sharp(bytes, { failOn: 'truncated' });
    const { width, height } = await image.metadata();
    if (!width || !height) throw new Error('no picture size');
    const png = await image.png().toBuffer();
    return isPng(bytes) ? bytes : new Uint8Array(png);
  } catch (cause) {
    const message = (cause as Error).message.split('\n')[0] ?? '';
    const why = /unsupported image format/i.test(message) ? 'is not an image keystep can read' : `is damaged or cut off (${message})`;
    throw new ImageFileError(`${file} ${why}; ${WHAT_TO_GIVE}${why.startsWith('is damaged') ? ', or copy the file again' : ''}`, file, { cause });
  }
}
