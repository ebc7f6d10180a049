import { CLASSES, GRIPPER_CLASSES, OBJECT_CLASSES, UNKNOWN, classIndex, classify, type PixelClass } from './palette-classes.js';

/** One class's pixels in a picture: how many, where, and how they break into blobs. */
export interface Blob {
  pixels: number;
  /** Centroid of all its pixels; NaN when there are none. */
  x: number;
  y: number;
  /** Blobs of at least MIN_BLOB_PIXELS and MIN_BLOB_SHARE of the largest (object classes only). */
  blobs: number;
  /**
   * Pixels of the largest connected blob within STRICT_DISTANCE of the class's colour, gripper halos
   * left out: what the check for a colour the scene does not have counts. A drawn object is solid; a
   * gripper smeared over cloth makes scattered blend pixels (green over blue reads as the bottle).
   */
  solid: number;
  /** Pixels of the largest blob, and its centroid (what moved-object and moved-arm checks compare). */
  largest: number;
  lx: number;
  ly: number;
}

/**
 * What the keyframe checks need from one decoded picture at the compare size (128x96): the palette
 * class of every pixel, per-class blobs, and two texture numbers for the blank and noise checks.
 */
export interface Picture {
  width: number;
  height: number;
  rgb: Uint8Array;
  classes: Uint8Array;
  blob: Record<PixelClass, Blob>;
  /** Standard deviation of luminance (0..255): near 0 for a blank picture. */
  lumaStd: number;
  /** Mean absolute luminance step between horizontal and vertical neighbours (0..255): noise is high. */
  lumaStep: number;
}

/** Blobs smaller than this are blur fringes or occlusion slivers, not objects. */
export const MIN_BLOB_PIXELS = 10;
export const MIN_BLOB_SHARE = 0.5;

const OBJECT_INDEXES = new Set(OBJECT_CLASSES.map(classIndex));
/** Class indexes of the grippers' colours. */
export const GRIPPER_INDEXES: ReadonlySet<number> = new Set(GRIPPER_CLASSES.map(classIndex));
/** Marks a pixel next to a gripper: its colour is a blend of the gripper and whatever is under it. */
const HALO = 254;

export function analysePicture(rgb: Uint8Array, width: number, height: number): Picture {
  const n = width * height;
  const classes = classify(rgb);
  const strictClasses = classify(rgb, true);
  // Gripper edges blend with what they cover into colours that match other objects (cyan over pink
  // reads as the fork): the ring around every gripper pixel is nobody's.
  for (let i = 0; i < n; i++) {
    if (!GRIPPER_INDEXES.has(classes[i]!)) continue;
    const x = i % width;
    const y = (i - x) / width;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const nx = x + dx;
        const ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const j = ny * width + nx;
        if (!GRIPPER_INDEXES.has(classes[j]!)) classes[j] = HALO;
      }
    }
  }
  const count = new Array<number>(CLASSES.length).fill(0);
  const sx = new Array<number>(CLASSES.length).fill(0);
  const sy = new Array<number>(CLASSES.length).fill(0);
  const luma = new Float32Array(n);
  let sum = 0;
  let sum2 = 0;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    const c = classes[i]!;
    if (c < CLASSES.length) {
      count[c]!++;
      sx[c]! += i % width;
      sy[c]! += Math.floor(i / width);
    }
    const l = 0.299 * rgb[j]! + 0.587 * rgb[j + 1]! + 0.114 * rgb[j + 2]!;
    luma[i] = l;
    sum += l;
    sum2 += l * l;
  }
  const mean = sum / n;
  const lumaStd = Math.sqrt(Math.max(0, sum2 / n - mean * mean));
  let step = 0;
  let steps = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (x + 1 < width) {
        step += Math.abs(luma[i]! - luma[i + 1]!);
        steps++;
      }
      if (y + 1 < height) {
        step += Math.abs(luma[i]! - luma[i + width]!);
        steps++;
      }
    }
  }
  for (let i = 0; i < n; i++) if (classes[i] === HALO) strictClasses[i] = UNKNOWN;
  const none = { blobs: 0, largest: 0, lx: NaN, ly: NaN };
  const blob = {} as Record<PixelClass, Blob>;
  CLASSES.forEach((cls, k) => {
    const p = count[k]!;
    // Objects connect through grippers and their halos; a gripper is one drawing of its own colour, so
    // stray specks of it (a decoder's leftovers) do not pull its centroid.
    const c = OBJECT_INDEXES.has(k)
      ? (components(classes, width, height, k, (l) => l === HALO || GRIPPER_INDEXES.has(l)) ?? none)
      : GRIPPER_INDEXES.has(k)
        ? (components(classes, width, height, k, () => false) ?? none)
        : none;
    const solid = OBJECT_INDEXES.has(k) ? (components(strictClasses, width, height, k, () => false)?.largest ?? 0) : 0;
    blob[cls] = { pixels: p, solid, x: p > 0 ? sx[k]! / p : NaN, y: p > 0 ? sy[k]! / p : NaN, ...c };
  });
  for (let i = 0; i < n; i++) if (classes[i] === HALO) classes[i] = UNKNOWN;
  return { width, height, rgb, classes, blob, lumaStd, lumaStep: steps > 0 ? step / steps : 0 };
}

interface Components {
  blobs: number;
  largest: number;
  lx: number;
  ly: number;
}

/**
 * Connected blobs (8-neighbour) of the pixels whose label is `c`. `through` says which other labels a
 * blob may cross without counting them (an object held under a gripper is still one blob).
 */
function components(labels: Uint8Array, width: number, height: number, c: number, through: (label: number) => boolean): Components | undefined {
  const seen = new Uint8Array(labels.length);
  const stack: number[] = [];
  const found: { size: number; x: number; y: number }[] = [];
  for (let start = 0; start < labels.length; start++) {
    if (labels[start] !== c || seen[start]) continue;
    let size = 0;
    let sx = 0;
    let sy = 0;
    seen[start] = 1;
    stack.push(start);
    while (stack.length > 0) {
      const i = stack.pop()!;
      const x = i % width;
      const y = (i - x) / width;
      if (labels[i] === c) {
        size++;
        sx += x;
        sy += y;
      }
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const j = ny * width + nx;
          const lj = labels[j]!;
          if (!seen[j] && (lj === c || through(lj))) {
            seen[j] = 1;
            stack.push(j);
          }
        }
      }
    }
    if (size > 0) found.push({ size, x: sx / size, y: sy / size });
  }
  if (found.length === 0) return undefined;
  const big = found.reduce((a, b) => (b.size > a.size ? b : a));
  return {
    blobs: found.filter((f) => f.size >= MIN_BLOB_PIXELS && f.size >= MIN_BLOB_SHARE * big.size).length,
    largest: big.size,
    lx: big.x,
    ly: big.y,
  };
}
