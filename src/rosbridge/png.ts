import { deflateSync } from 'node:zlib';

/**
 * rosbridge's "png compression" (spec 3.1.2, pngcompression.encode): the UTF-8 bytes of a JSON op
 * laid out as the pixels of a near-square 8-bit RGB image, padded with '\n' (JSON whitespace, so
 * the decoder can parse the padded text as is), PNG-encoded and base64'd into `{op:'png', data}`.
 */

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, body: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'ascii');
  out.set(body, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
  return out;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** PNG file bytes holding `text` as RGB pixels. */
export function textToPng(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const width = Math.max(1, Math.floor(Math.sqrt(bytes.length / 3)));
  const height = Math.max(1, Math.ceil(bytes.length / 3 / width));
  const rowBytes = width * 3;
  // Each scanline starts with filter type 0 (None).
  const raw = Buffer.alloc(height * (rowBytes + 1), 0x0a);
  for (let y = 0; y < height; y++) {
    raw[y * (rowBytes + 1)] = 0;
    bytes.copy(raw, y * (rowBytes + 1) + 1, y * rowBytes, Math.min(bytes.length, (y + 1) * rowBytes));
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

/** The `data` of a rosbridge `png` op. */
export function pngEncode(text: string): string {
  return textToPng(text).toString('base64');
}
