import { PALETTE, rgb } from '../scenes/palette.js';
import type { SceneId } from '../schema/task.js';

/**
 * What the colour-blob detector can tell apart: the render palette grouped into the things plans talk
 * about. Each object also matches its colour under the renderer's translucent shadow (x0.75), which it
 * uses for details (a bowl's hollow, a bottle's label), so one object stays one blob.
 */
export const OBJECT_CLASSES = ['cup', 'plate', 'bowl', 'fork', 'napkin', 'bottle', 'shirt', 'collar'] as const;
export type ObjectClass = (typeof OBJECT_CLASSES)[number];
export const GRIPPER_CLASSES = ['gripper_left', 'gripper_right'] as const;
export type GripperClass = (typeof GRIPPER_CLASSES)[number];
export const BACKGROUND_CLASSES = ['floor', 'table', 'rack', 'bin', 'basket'] as const;
export type BackgroundClass = (typeof BACKGROUND_CLASSES)[number];
export type PixelClass = ObjectClass | GripperClass | BackgroundClass;

export const CLASSES: readonly PixelClass[] = [...OBJECT_CLASSES, ...GRIPPER_CLASSES, ...BACKGROUND_CLASSES];
/** Class index of a pixel; UNKNOWN when no palette colour is near (blend, noise, foreign colour). */
export const UNKNOWN = 255;
export const classIndex = (c: PixelClass): number => CLASSES.indexOf(c);

const SHADE = 0.75;
const shade = ([r, g, b]: [number, number, number]): [number, number, number] => [r * SHADE, g * SHADE, b * SHADE];

/** Reference colours per class (several per class: shaded variants, the shirt's two faces). */
function references(): { cls: PixelClass; color: [number, number, number] }[] {
  const out: { cls: PixelClass; color: [number, number, number] }[] = [];
  const add = (cls: PixelClass, hex: string, shaded = true) => {
    out.push({ cls, color: rgb(hex) });
    if (shaded) out.push({ cls, color: shade(rgb(hex)) });
  };
  add('floor', PALETTE.floor, false);
  add('table', PALETTE.table);
  add('table', PALETTE.tableEdge, false);
  add('rack', PALETTE.rack, false);
  add('bin', PALETTE.bin, false);
  add('basket', PALETTE.basket, false);
  add('cup', PALETTE.cup);
  add('plate', PALETTE.plate, false);
  add('bowl', PALETTE.bowl, false);
  add('fork', PALETTE.fork, false);
  add('napkin', PALETTE.napkin);
  add('bottle', PALETTE.bottle);
  add('shirt', PALETTE.shirtOutside, false);
  add('shirt', PALETTE.shirtInside, false);
  add('collar', PALETTE.collar, false);
  add('gripper_left', PALETTE.gripperLeft, false);
  add('gripper_right', PALETTE.gripperRight, false);
  return out;
}

/**
 * Largest RGB distance at which a pixel still counts as a palette colour. Palette colours are at least
 * ~60 apart; a learned decoder's colour shift stays well under this, while blends at edges mostly fall
 * between colours and are left unknown.
 */
export const MATCH_DISTANCE = 52;

/**
 * Distance for a strict match: a colour the scene does not have counts as appeared only in pixels this
 * close to it, because blurred edges between two colours land near a third (blue cloth over the table
 * blurs towards the fork's blue-grey).
 */
export const STRICT_DISTANCE = 26;

/** 32-level lookup table (5 bits per channel) from colour to class: classifying a picture is one lookup per pixel. */
function lookupTable(distance: number): Uint8Array {
  const refs = references();
  const lut = new Uint8Array(32 * 32 * 32);
  const max2 = distance * distance;
  for (let r = 0; r < 32; r++) {
    for (let g = 0; g < 32; g++) {
      for (let b = 0; b < 32; b++) {
        const pr = r * 8 + 4;
        const pg = g * 8 + 4;
        const pb = b * 8 + 4;
        let best = UNKNOWN;
        let bestD = max2;
        for (const ref of refs) {
          const d = (pr - ref.color[0]) ** 2 + (pg - ref.color[1]) ** 2 + (pb - ref.color[2]) ** 2;
          if (d < bestD) {
            bestD = d;
            best = classIndex(ref.cls);
          }
        }
        lut[(r << 10) | (g << 5) | b] = best;
      }
    }
  }
  return lut;
}
const LUT = lookupTable(MATCH_DISTANCE);
const STRICT_LUT = lookupTable(STRICT_DISTANCE);

/** Class index per pixel of raw RGB; `strict` matches only colours close to a palette colour. */
export function classify(rgbPixels: Uint8Array, strict = false): Uint8Array {
  const n = rgbPixels.length / 3;
  const out = new Uint8Array(n);
  const lut = strict ? STRICT_LUT : LUT;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    out[i] = lut[((rgbPixels[j]! >> 3) << 10) | ((rgbPixels[j + 1]! >> 3) << 5) | (rgbPixels[j + 2]! >> 3)]!;
  }
  return out;
}

/** The objects each scene is made of: what conservation and movement checks look at. */
export const SCENE_OBJECTS: Record<SceneId, readonly ObjectClass[]> = {
  table: ['cup', 'plate', 'bowl', 'fork', 'napkin', 'bottle'],
  tshirt: ['shirt', 'collar'],
};
