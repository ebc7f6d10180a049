import sharp from 'sharp';
import type { RobotProfile } from '../schema/index.js';

/**
 * The picture size the world model sees and draws. Camera frames are 4:3; the model squashes them to a
 * square so a 4x-downsampling tokenizer gives a 16x16 token grid, and keyframes are stretched back to
 * KEYFRAME_SIZE (the controller's compare size) on the way out, then enlarged to the camera's size. Training data goes through the same
 * resize as runtime observations, so the model never sees a picture prepared differently.
 */
export const MODEL_IMAGE = { width: 128, height: 128 } as const;
export type ImageSize = { width: number; height: number };
export const KEYFRAME_SIZE = { width: 128, height: 96 } as const;

/**
 * Raw RGB (row-major, 3 bytes per pixel) at MODEL_IMAGE from an encoded image or an SVG document.
 *
 * An SVG is rasterised at its own size first, as a camera delivers a frame, and only then resized.
 * Handed to the resize directly, libvips loads an SVG already shrunk (shrink-on-load), which gives
 * other pixels: 0.5-0.9/255 mean and up to 41/255 apart on sim frames, enough to change 18 of 256
 * tokens of a table picture. Phases 1-6 were trained on such pictures while the runtime saw camera
 * PNGs, and on held-out table layouts the model then stopped every "clear the table" plan after the
 * fork (8 of 12 steps), where it wrote all 12 from the pictures it was trained on.
 */
export async function toModelRgb(image: Uint8Array | string, model: ImageSize = MODEL_IMAGE): Promise<Uint8Array> {
  // Rasterised to raw pixels, not to PNG: the same pixels as a camera PNG, without the compression.
  const input =
    typeof image === 'string'
      ? await sharp(Buffer.from(image))
          .raw()
          .toBuffer({ resolveWithObject: true })
          .then(({ data, info }) => sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } }))
      : sharp(image);
  const { data } = await input
    .resize(model.width, model.height, { fit: 'fill', kernel: 'lanczos3' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/**
 * Model-size RGB (`model`, the spec's imageSize) to a keyframe PNG at `size`: the keyframe camera's
 * resolution (keyframeSizeOf), or KEYFRAME_SIZE by default. The picture is first stretched back to the
 * camera's aspect at KEYFRAME_SIZE's width (cubic, as it always was: 128x96 for a 4:3 camera, the
 * controller's and the validator's compare size), then enlarged to `size` with nearest-neighbour: the
 * pictures are painted in a few palette colours, and a smoother enlargement would invent colours
 * between them. A robot gets a keyframe as large as its camera's frames; the sim controller and the
 * validator, which shrink every picture to the compare size, give the same verdicts on both (checked
 * on held-out steps: test/model/keyframe-size.test.ts).
 */
export async function rgbToPng(rgb: Uint8Array, size: ImageSize = KEYFRAME_SIZE, model: ImageSize = MODEL_IMAGE): Promise<Buffer> {
  const drawn = sharp(rgb, { raw: { width: model.width, height: model.height, channels: 3 } });
  const base = { width: KEYFRAME_SIZE.width, height: Math.max(1, Math.round((KEYFRAME_SIZE.width * size.height) / size.width)) };
  // A camera no larger than the base: one resize straight to it.
  if (size.width <= base.width) return drawn.resize(size.width, size.height, { fit: 'fill', kernel: 'cubic' }).png({ compressionLevel: 6 }).toBuffer();
  const small = await drawn.resize(base.width, base.height, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer();
  return sharp(small, { raw: { ...base, channels: 3 } })
    .resize(size.width, size.height, { fit: 'fill', kernel: 'nearest' })
    .png({ compressionLevel: 6 })
    .toBuffer();
}

/** The size a robot's keyframes are drawn at: its keyframe camera's resolution (KEYFRAME_SIZE if it names none). */
export function keyframeSizeOf(profile: Pick<RobotProfile, 'cameras' | 'keyframeCamera'>): ImageSize {
  const camera = profile.cameras.find((c) => c.name === profile.keyframeCamera);
  return camera ? { width: camera.resolution.width, height: camera.resolution.height } : KEYFRAME_SIZE;
}
