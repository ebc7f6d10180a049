import sharp, { type OverlayOptions } from 'sharp';

export interface SheetTile {
  /** Encoded image (PNG, JPEG...). */
  image: Uint8Array;
  /** Text under the image: a step's instruction, "observation", an outcome. */
  caption: string;
  /** Optional smaller text under the caption: attempt, outcome, a miss's reason. Wrapped, never cut. */
  note?: string;
  /** Colour of a frame around the image (a verdict: see the sheet's legend); no frame without it. */
  frame?: string;
}

/** One entry of a sheet's legend: a frame colour and what it means. */
export interface LegendEntry {
  colour: string;
  label: string;
}

export interface SheetOptions {
  title?: string;
  columns?: number;
  tileWidth?: number;
  /** What the frame colours mean, drawn under the title. */
  legend?: readonly LegendEntry[];
  /** Lines of text under the legend (what the notes say). */
  legendNotes?: readonly string[];
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/**
 * Greedy word wrap by character count: the caption font is fixed, so characters predict width. A word
 * longer than a line (a path, a step id) is broken; with `maxLines`, the last line kept ends in "…".
 */
function wrap(text: string, maxChars: number, maxLines = Infinity): string[] {
  const lines: string[] = [];
  let line = '';
  for (const whole of text.split(/\s+/).filter((w) => w.length > 0)) {
    let word = whole;
    while (word.length > maxChars) {
      if (line.length > 0) lines.push(line);
      lines.push(word.slice(0, maxChars));
      word = word.slice(maxChars);
      line = '';
    }
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

const FONT = 'DejaVu Sans, sans-serif';
const CAPTION = { size: 15, line: 18 };
const NOTE = { size: 12, line: 15 };
/** Frame width around a tile's image, inside the tile. */
const FRAME = 5;

/**
 * A grid of images with captions, one PNG: the way people look at a plan (observation, then each
 * step's text under its keyframe) or at a scene's canonical sequence. A row is as tall as its longest
 * caption and note, so a miss's reason is read whole; a legend under the title says what the frame
 * colours mean.
 */
export async function contactSheet(tiles: readonly SheetTile[], options: SheetOptions = {}): Promise<Buffer> {
  const columns = Math.max(1, Math.min(options.columns ?? 4, tiles.length));
  const tileW = options.tileWidth ?? 320;
  const tileH = Math.round((tileW * 3) / 4);
  const pad = 10;
  const width = columns * (tileW + pad) + pad;
  const maxChars = Math.floor(tileW / (CAPTION.size * 0.55));
  // The note's font is smaller than the caption's: it fits about 1.25x the characters.
  const noteChars = Math.floor(maxChars * 1.25);

  const texts: string[] = [];
  const text = (x: number, y: number, font: { size: number }, fill: string, body: string, bold = false) =>
    texts.push(`<text x="${x}" y="${y}" font-family="${FONT}" font-size="${font.size}"${bold ? ' font-weight="bold"' : ''} fill="${fill}">${escapeXml(body)}</text>`);
  const shapes: string[] = [];
  let top = 0;
  if (options.title) {
    text(pad, 28, { size: 20 }, '#111', options.title, true);
    top = 40;
  }
  if (options.legend && options.legend.length > 0) {
    // Entries flow left to right and wrap onto more lines at the sheet's width.
    let x = pad;
    let y = top + 6;
    for (const entry of options.legend) {
      const w = 22 + Math.ceil(entry.label.length * NOTE.size * 0.58) + 18;
      if (x > pad && x + w > width - pad) {
        x = pad;
        y += 20;
      }
      shapes.push(`<rect x="${x}" y="${y + 1}" width="16" height="12" fill="none" stroke="${entry.colour}" stroke-width="${FRAME - 1}"/>`);
      text(x + 22, y + 12, NOTE, '#333', entry.label);
      x += w;
    }
    top = y + 20;
  }
  for (const line of options.legendNotes ?? []) {
    for (const l of wrap(line, Math.floor((width - 2 * pad) / (NOTE.size * 0.58)))) {
      text(pad, top + 12, NOTE, '#555', l);
      top += NOTE.line;
    }
  }
  if (top > 0) top += 4;

  const laidOut = tiles.map((tile) => ({ tile, caption: wrap(tile.caption, maxChars, 3), note: tile.note ? wrap(tile.note, noteChars) : [] }));
  const composites: OverlayOptions[] = [];
  let y = top + pad;
  for (let row = 0; row * columns < laidOut.length; row++) {
    const cells = laidOut.slice(row * columns, (row + 1) * columns);
    const captionH = Math.max(...cells.map((c) => c.caption.length * CAPTION.line + c.note.length * NOTE.line)) + 8;
    for (const [k, { tile, caption, note }] of cells.entries()) {
      const x = pad + k * (tileW + pad);
      const inset = tile.frame ? FRAME : 0;
      const resized = await sharp(tile.image)
        .resize(tileW - 2 * inset, tileH - 2 * inset, { fit: 'contain', background: tile.frame ?? '#ffffff' })
        .png()
        .toBuffer();
      if (tile.frame) shapes.push(`<rect x="${x}" y="${y}" width="${tileW}" height="${tileH}" fill="${tile.frame}"/>`);
      composites.push({ input: resized, left: x + inset, top: y + inset });
      caption.forEach((l, n) => text(x + 2, y + tileH + 17 + n * CAPTION.line, CAPTION, '#111', l));
      const noteTop = y + tileH + 17 + caption.length * CAPTION.line - 3;
      note.forEach((l, n) => text(x + 2, noteTop + n * NOTE.line, NOTE, '#555', l));
    }
    y += tileH + captionH + pad;
  }
  const height = y;
  // Frames go under the images (drawn first), text over everything.
  const background = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join('')}</svg>`;
  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${texts.join('')}</svg>`;
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite([{ input: Buffer.from(background), left: 0, top: 0 }, ...composites, { input: Buffer.from(overlay), left: 0, top: 0 }])
    .png()
    .toBuffer();
}
