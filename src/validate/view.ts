import type { Point2 } from '../schema/action.js';
import type { Camera } from '../schema/robot-profile.js';
import { toSvg } from '../scenes/geometry.js';
import { tableViewBox } from '../scenes/view.js';

/**
 * Table frame -> picture pixels for an overhead keyframe camera, the same fit the renderer uses (the
 * table plus a margin, stretched to the picture's aspect). Other mounts are projected; for them the
 * validator checks only what needs no positions (presence, counts, change).
 */
export interface PixelMapper {
  toPixel(p: Point2): [number, number];
  /** Picture pixel -> table frame (metres): the inverse of toPixel. */
  toTable(px: number, py: number): Point2;
  /** Pixels per metre (both axes are equal for the renderer's fit). */
  scale: number;
}

export function overheadMapper(camera: Camera, size: { width: number; height: number }): PixelMapper | null {
  if (camera.mount !== 'overhead') return null;
  const { x: x0, y: y0, w, h } = tableViewBox(camera.resolution.width / camera.resolution.height);
  const sx = size.width / w;
  const sy = size.height / h;
  return {
    toPixel(p) {
      const [mx, my] = toSvg(p);
      return [(mx - x0) * sx - 0.5, (my - y0) * sy - 0.5];
    },
    toTable(px, py) {
      // toSvg is millimetres with y flipped.
      return [((px + 0.5) / sx + x0) / 1000, -((py + 0.5) / sy + y0) / 1000];
    },
    scale: sx * 1000,
  };
}
