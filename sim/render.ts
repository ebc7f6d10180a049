import sharp from 'sharp';
import type { Camera } from '../src/schema/index.js';
import type { SceneModule, SceneStateBase } from '../src/scenes/scene.js';
import { sceneSvg, viewOf } from '../src/scenes/view.js';

/**
 * Fastest zlib level: the simulator encodes a frame for every camera tick, keyframe and imagined
 * outcome, and sends each over loopback once. A 640x480 render is about 40 KB at level 1 against 31 KB
 * at level 6, and encodes several times faster; the pixels are the same. RGB without alpha: every
 * scene paints an opaque floor under the whole view, so alpha is 255 everywhere and carries nothing;
 * without it a frame is a sixth smaller and is written and read about a third faster.
 */
export async function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg)).removeAlpha().png({ compressionLevel: 1 }).toBuffer();
}

/** Raw RGB pixels (3 bytes per pixel, row-major), for image comparison without a PNG round trip. */
export async function svgToRgb(svg: string): Promise<Uint8Array> {
  const { data } = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/** A camera frame of a state, as PNG, at the camera's resolution. */
export async function renderCamera<S extends SceneStateBase>(scene: SceneModule<S, unknown>, state: S, camera: Camera): Promise<Buffer> {
  return svgToPng(sceneSvg(scene, state, viewOf(camera), camera.resolution));
}
