import type { Point2 } from '../geometry.js';
import { svgPoints, toSvg } from '../geometry.js';
import { PALETTE } from '../palette.js';
import type { View } from '../scene.js';
import type { Piece, TshirtState } from './model.js';
import { FEATURES, foldOf, toTable } from './model.js';

function fill(piece: Piece): string {
  if (piece.kind === 'collar') return PALETTE.collar;
  return piece.flipped ? PALETTE.shirtInside : PALETTE.shirtOutside;
}

/** Outline in the other shirt colour, so every fold edge shows. */
function stroke(piece: Piece): string {
  if (piece.kind === 'collar') return PALETTE.shirtInside;
  return piece.flipped ? PALETTE.shirtOutside : PALETTE.shirtInside;
}

/**
 * The shirt's layers bottom first (base parts, then each fold's reflected pieces on top); a held
 * bottom corner is drawn lifted: a dog-ear showing the inside and a shadow on the table.
 */
export function drawShirt(state: TshirtState, stack: readonly Piece[], _view: View): string {
  const pose = state.pose;
  const parts: string[] = [];
  for (const piece of stack) {
    const poly = piece.poly.map((q) => toTable(pose, q));
    parts.push(
      `<polygon points="${svgPoints(poly)}" fill="${fill(piece)}" stroke="${stroke(piece)}" stroke-width="3" stroke-linejoin="round"/>`,
    );
  }
  const bottomFolded = foldOf(state, 'bottom') !== undefined;
  for (const arm of state.arms) {
    if (arm.holding === null || !arm.holding.startsWith('shirt.')) continue;
    const [sx, sy] = toSvg(arm.pos);
    parts.push(`<ellipse cx="${sx}" cy="${sy + 22}" rx="42" ry="20" fill="${PALETTE.shadow}"/>`);
    const corner = arm.holding === 'shirt.bottom_left' ? FEATURES.bottomLeft : arm.holding === 'shirt.bottom_right' ? FEATURES.bottomRight : null;
    if (corner !== null && !bottomFolded) {
      // Dog-ear: the corner curls up and shows the inside.
      const inward = corner[0] < 0 ? 1 : -1;
      const tri: Point2[] = [
        [corner[0] + inward * 0.003, corner[1] + 0.003],
        [corner[0] + inward * 0.06, corner[1]],
        [corner[0], corner[1] + 0.06],
      ].map((q) => toTable(pose, q as Point2));
      // Only the corner moves with the gripper; the held corner sits where the arm holds it.
      const off: Point2 = [arm.pos[0] - toTable(pose, corner)[0], arm.pos[1] - toTable(pose, corner)[1]];
      const moved = tri.map((q) => [q[0] + off[0], q[1] + off[1]] as Point2);
      parts.push(`<polygon points="${svgPoints(moved)}" fill="${PALETTE.shirtInside}" stroke="${PALETTE.shirtOutside}" stroke-width="3"/>`);
    }
  }
  return `<g id="tshirt">${parts.join('')}</g>`;
}
