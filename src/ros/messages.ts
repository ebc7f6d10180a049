import sharp from 'sharp';
import { RosMessage, type CompressedImageInput, type ImageInput, type RosTime } from '../rosbridge/message-types.js';

/**
 * The ROS messages keystep sends and reads, as zod schemas, and the conversions between them and
 * PNG bytes. rosbridge carries uint8[] fields as base64 in JSON and as byte strings in CBOR; some
 * clients send plain number arrays: all three are accepted.
 */

/** The messages keystep reads, defined once with the rosbridge server's rules. */
export const StringMsg = RosMessage.StdString;
export const CompressedImageMsg = RosMessage.CompressedImage;
export const ImageMsg = RosMessage.Image;
export const JointStateMsg = RosMessage.JointState;
export type CompressedImageMsg = CompressedImageInput;
export type ImageMsg = ImageInput;

/** uint8[] as it arrives over rosbridge (base64 in JSON, bytes in CBOR, or a number list) -> bytes. */
export function bytesOf(data: string | Uint8Array | readonly number[]): Uint8Array {
  if (typeof data === 'string') return new Uint8Array(Buffer.from(data, 'base64'));
  if (data instanceof Uint8Array) return data;
  return Uint8Array.from(data);
}

export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** A ROS time stamp for now, in the field names of the robot's ROS version. */
export function stampNow(rosVersion: 1 | 2, nowMs = Date.now()): RosTime {
  const sec = Math.floor(nowMs / 1000);
  const nanos = Math.round((nowMs % 1000) * 1e6);
  return rosVersion === 1 ? { secs: sec, nsecs: nanos } : { sec, nanosec: nanos };
}

export function compressedImage(png: Uint8Array, frameId: string, rosVersion: 1 | 2): CompressedImageMsg {
  return { header: { frame_id: frameId, stamp: stampNow(rosVersion) }, format: 'png', data: base64(png) };
}

/** PNG -> sensor_msgs/Image rgb8, as a camera driver would publish it. */
export async function rawImage(png: Uint8Array, frameId: string, rosVersion: 1 | 2): Promise<ImageMsg> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    header: { frame_id: frameId, stamp: stampNow(rosVersion) },
    height: info.height,
    width: info.width,
    encoding: 'rgb8',
    is_bigendian: 0,
    step: info.width * 3,
    data: base64(data),
  };
}

/** Thrown for an image message keystep cannot turn into pixels; says which field and why. */
export class ImageMessageError extends Error {
  override readonly name = 'ImageMessageError' as const;
}

/**
 * Checks an image message and returns how to turn it into PNG bytes, without doing it yet: the check
 * is cheap and runs on every frame, the encoding runs only for frames someone asks for.
 * Throws ImageMessageError naming what is wrong.
 */
export function readImage(msg: unknown): () => Promise<Uint8Array> {
  const compressed = CompressedImageMsg.safeParse(msg);
  if (compressed.success) {
    const bytes = compressed.data.data;
    if (bytes.length === 0) throw new ImageMessageError('CompressedImage data is empty');
    if (compressed.data.format.toLowerCase().includes('png')) return () => Promise.resolve(bytes);
    return async () => new Uint8Array(await sharp(bytes).png().toBuffer());
  }
  const raw = ImageMsg.safeParse(msg);
  if (!raw.success) {
    throw new ImageMessageError(`not a sensor_msgs/Image or CompressedImage: ${raw.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const m = raw.data;
  const channels: Record<string, 1 | 3 | 4> = { rgb8: 3, bgr8: 3, rgba8: 4, bgra8: 4, mono8: 1 };
  if (m.width === 0 || m.height === 0) throw new ImageMessageError(`image is ${m.width}x${m.height}: nothing to decode`);
  const ch = channels[m.encoding];
  if (ch === undefined) throw new ImageMessageError(`encoding "${m.encoding}" is not supported (use rgb8, bgr8, rgba8, bgra8 or mono8)`);
  if (m.data.length < m.step * m.height || m.step < m.width * ch) {
    throw new ImageMessageError(`data has ${m.data.length} bytes, expected step ${m.step} x height ${m.height} with ${ch} channel(s) per pixel`);
  }
  return async () => {
    let pixels = m.data;
    if (m.step !== m.width * ch) {
      const packed = new Uint8Array(m.width * ch * m.height);
      for (let y = 0; y < m.height; y++) packed.set(pixels.subarray(y * m.step, y * m.step + m.width * ch), y * m.width * ch);
      pixels = packed;
    }
    if (m.encoding === 'bgr8' || m.encoding === 'bgra8') {
      pixels = Uint8Array.from(pixels);
      for (let i = 0; i < pixels.length; i += ch) [pixels[i], pixels[i + 2]] = [pixels[i + 2]!, pixels[i]!];
    }
    return new Uint8Array(
      await sharp(pixels.subarray(0, m.width * ch * m.height), { raw: { width: m.width, height: m.height, channels: ch } }).png().toBuffer(),
    );
  };
}

/** sensor_msgs/Image or CompressedImage -> PNG bytes. */
export async function imageToPng(msg: unknown): Promise<Uint8Array> {
  return readImage(msg)();
}
