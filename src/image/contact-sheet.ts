import sharp, { type OverlayOptions } from 'sharp';

export interface SheetTile {
  /** Encoded image (PNG, JPEG...). */
  image: Uint8Array;
  /** Text under the image: a step's instruction, "observation", an outcome. */
  caption: string;
  /** Optional second caption line, smaller: attempt, outcome, distance. */
  note?: string;
}

export interface SheetOptions {
  title?: string;
  columns?: number;
  tileWidth?: number;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Greedy word wrap by character count: the caption font is fixed, so characters predict width. */
function wrap(text: string, maxChars: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line.length > 0 && line.length + 1 + word.length > maxChars) {
      lines.push(line);
      line = word;
    } else {
      line = line.length > 0 ? `${line} ${word}` : word;
    }
  }
  if (line.length > 0) lines.push(line);
  if (lines.length > maxLines) {
    const kept = lines.slice(0, maxLines);
    kept[maxLines - 1] = `${kept[maxLines - 1]!.slice(0, Math.max(0, maxChars - 1))}…`;
    return kept;
  }
  return lines;
}

/**
 * A grid of images with captions, one PNG: the way people look at a plan (observation, then each
 * step's text under its keyframe) or at a scene's canonical sequence.
 */
export async function contactSheet(tiles: readonly SheetTile[], options: SheetOptions = {}): Promise<Buffer> {
  const columns = Math.max(1, Math.min(options.columns ?? 4, tiles.length));
  const tileW = options.tileWidth ?? 320;
  const tileH = Math.round((tileW * 3) / 4);
  const captionH = 62;
  const pad = 10;
  const titleH = options.title ? 40 : 0;
  const rows = Math.ceil(tiles.length / columns);
  const width = columns * (tileW + pad) + pad;
  const height = titleH + rows * (tileH + captionH + pad) + pad;
  const fontSize = 15;
  const maxChars = Math.floor(tileW / (fontSize * 0.55));

  const texts: string[] = [];
  if (options.title) {
    texts.push(`<text x="${pad}" y="28" font-family="DejaVu Sans, sans-serif" font-size="20" font-weight="bold" fill="#111">${escapeXml(options.title)}</text>`);
  }
  const composites: OverlayOptions[] = [];
  for (let i = 0; i < tiles.length; i++) {
    const tile = tiles[i]!;
    const x = pad + (i % columns) * (tileW + pad);
    const y = titleH + pad + Math.floor(i / columns) * (tileH + captionH + pad);
    const resized = await sharp(tile.image).resize(tileW, tileH, { fit: 'contain', background: '#ffffff' }).png().toBuffer();
    composites.push({ input: resized, left: x, top: y });
    const lines = wrap(tile.caption, maxChars, tile.note ? 2 : 3);
    lines.forEach((l, k) => {
      texts.push(`<text x="${x + 2}" y="${y + tileH + 17 + k * 18}" font-family="DejaVu Sans, sans-serif" font-size="${fontSize}" fill="#111">${escapeXml(l)}</text>`);
    });
    if (tile.note) {
      // The note's font is smaller than the caption's: it fits about 1.25x the characters.
      const noteChars = Math.floor(maxChars * 1.25);
      const note = tile.note.length > noteChars ? `${tile.note.slice(0, noteChars - 1)}…` : tile.note;
      texts.push(`<text x="${x + 2}" y="${y + tileH + 17 + lines.length * 18}" font-family="DejaVu Sans, sans-serif" font-size="12" fill="#555">${escapeXml(note)}</text>`);
    }
  }
  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${texts.join('')}</svg>`;
  composites.push({ input: Buffer.from(overlay), left: 0, top: 0 });
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite(composites)
    .png()
    .toBuffer();
}
