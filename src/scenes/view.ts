/**
 * What a camera sees of a scene, as an SVG document: the view box a mount sees, the projection of
 * oblique mounts, and the scene drawn with its grippers. Pure; rasterising is the simulator's job.
 */
import type { Camera } from '../schema/index.js';
import { drawArms } from './arms.js';
import { TABLE, toSvg } from './geometry.js';
import { PALETTE } from './palette.js';
import type { SceneModule, SceneStateBase, View } from './scene.js';

export interface Size {
  width: number;
  height: number;
}

/** The view box (SVG millimetres) that a mount sees, fitted to the image's aspect ratio. */
function viewBox(view: View, state: SceneStateBase, size: Size): { x: number; y: number; w: number; h: number } {
  const aspect = size.width / size.height;
  if (view.mount === 'left_wrist' || view.mount === 'right_wrist' || view.mount === 'wrist') {
    const armName = view.arm ?? (view.mount === 'left_wrist' ? 'left' : view.mount === 'right_wrist' ? 'right' : undefined);
    const arm = state.arms.find((a) => a.name === armName) ?? state.arms[0];
    const [cx, cy] = arm ? toSvg(arm.pos) : [0, 0];
    const w = 380;
    const h = w / aspect;
    // The camera sits behind the fingers, so the view is centred a little ahead of the gripper.
    return { x: cx - w / 2, y: cy - h / 2 - 60, w, h };
  }
  return tableViewBox(aspect);
}

/**
 * The view box of the mounts that see the whole table (overhead, front, low): the table plus a margin,
 * fitted to the picture's aspect. Exported so code that maps table positions to pixels (validation)
 * uses the renderer's own fit.
 */
export function tableViewBox(aspect: number): { x: number; y: number; w: number; h: number } {
  let w = TABLE.halfW * 2000 + 100;
  let h = w / aspect;
  const minH = TABLE.halfD * 2000 + 100;
  if (h < minH) {
    h = minH;
    w = h * aspect;
  }
  return { x: -w / 2, y: -h / 2, w, h };
}

/** Oblique mounts squash depth; an affine stand-in for perspective that keeps every object visible. */
function projection(view: View): string {
  switch (view.mount) {
    case 'front':
      return 'matrix(1 0 0 0.62 0 60)';
    case 'low':
      return 'matrix(1.05 0 0 0.4 0 150)';
    case 'overhead':
    case 'left_wrist':
    case 'right_wrist':
    case 'wrist':
      return '';
  }
}

/** The whole picture a camera takes of a state, as an SVG document. */
export function sceneSvg<S extends SceneStateBase>(scene: SceneModule<S, unknown>, state: S, view: View, size: Size): string {
  const vb = viewBox(view, state, size);
  const [tx, ty] = toSvg([-TABLE.halfW, TABLE.halfD]);
  const table = `<rect x="${tx}" y="${ty}" width="${TABLE.halfW * 2000}" height="${TABLE.halfD * 2000}" fill="${PALETTE.table}" stroke="${PALETTE.tableEdge}" stroke-width="8"/>`;
  const transform = projection(view);
  const body = `${table}${scene.draw(state, view)}${drawArms(state.arms)}`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size.width}" height="${size.height}" ` +
    `viewBox="${vb.x} ${vb.y} ${vb.w} ${vb.h}" preserveAspectRatio="none">` +
    `<rect x="${vb.x}" y="${vb.y}" width="${vb.w}" height="${vb.h}" fill="${PALETTE.floor}"/>` +
    (transform ? `<g transform="${transform}">${body}</g>` : body) +
    `</svg>`
  );
}

export function viewOf(camera: Camera): View {
  return camera.arm === undefined ? { mount: camera.mount } : { mount: camera.mount, arm: camera.arm };
}
