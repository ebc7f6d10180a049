import type { Point2 } from '../../schema/index.js';
import { toSvg } from '../geometry.js';
import { PALETTE } from '../palette.js';
import type { View } from '../scene.js';
import type { ObjectId, Pose, Receptacle, TableObject, TableState } from './model.js';
import { DRAW_SCALE, RECEPTACLES, RECEPTACLE_IDS } from './model.js';

/**
 * Top-down pictures of the table scene in SVG millimetres. Shapes are drawn in a local frame (mm,
 * x along the object's angle, y down as in SVG) and placed with one transform.
 */

const SHADOW = PALETTE.shadow;

/** One object's shape in its local frame. `solid` replaces every colour (for the lifted shadow). */
function shape(id: ObjectId, pose: Pose, solid?: string): string {
  const fill = (c: string) => solid ?? c;
  const detail = (svg: string) => (solid ? '' : svg);
  switch (id) {
    case 'cup':
      if (pose === 'upright') {
        return (
          `<rect x="28" y="-9" width="26" height="18" rx="6" fill="${fill(PALETTE.cup)}"/>` +
          `<circle r="40" fill="${fill(PALETTE.cup)}"/>` +
          detail(`<circle r="30" fill="${SHADOW}"/>`)
        );
      }
      // Lying on its side: a body seen from the side, the mouth at one end, the handle on top.
      return (
        `<rect x="-22" y="-54" width="40" height="22" rx="8" fill="${fill(PALETTE.cup)}"/>` +
        `<rect x="-48" y="-38" width="92" height="76" rx="8" fill="${fill(PALETTE.cup)}"/>` +
        detail(`<ellipse cx="44" cy="0" rx="14" ry="38" fill="${PALETTE.cup}" stroke="${SHADOW}" stroke-width="5"/>`) +
        detail(`<ellipse cx="44" cy="0" rx="8" ry="28" fill="${SHADOW}"/>`) +
        detail(`<rect x="-48" y="-38" width="92" height="76" rx="8" fill="none" stroke="${SHADOW}" stroke-width="4"/>`)
      );
    case 'plate':
      return (
        `<circle r="85" fill="${fill(PALETTE.plate)}"/>` +
        detail(`<circle r="85" fill="none" stroke="${SHADOW}" stroke-width="4"/>`) +
        detail(`<circle r="58" fill="none" stroke="${SHADOW}" stroke-width="3"/>`)
      );
    case 'bowl':
      if (pose === 'upright') {
        return (
          `<circle r="65" fill="${fill(PALETTE.bowl)}"/>` +
          detail(`<circle r="50" fill="none" stroke="${SHADOW}" stroke-width="6"/>`) +
          detail(`<circle r="20" fill="${SHADOW}"/>`)
        );
      }
      // On its side: a dome with the rim seen edge-on.
      return (
        `<path d="M -66 0 A 66 58 0 0 0 66 0 Z" fill="${fill(PALETTE.bowl)}"/>` +
        `<ellipse cx="0" cy="0" rx="66" ry="16" fill="${fill(PALETTE.bowl)}"/>` +
        detail(`<ellipse cx="0" cy="0" rx="56" ry="9" fill="${SHADOW}"/>`) +
        detail(`<path d="M -66 0 A 66 58 0 0 0 66 0" fill="none" stroke="${SHADOW}" stroke-width="4"/>`)
      );
    case 'fork': {
      const tines = [-16, -7, 2, 11].map((y) => `<rect x="42" y="${y}" width="48" height="6" rx="2" fill="${fill(PALETTE.fork)}"/>`).join('');
      return (
        `<rect x="-90" y="-9" width="112" height="18" rx="9" fill="${fill(PALETTE.fork)}"/>` +
        `<path d="M 14 -7 L 44 -17 L 44 17 L 14 7 Z" fill="${fill(PALETTE.fork)}"/>` +
        tines
      );
    }
    case 'napkin':
      return (
        `<rect x="-55" y="-55" width="110" height="110" rx="3" fill="${fill(PALETTE.napkin)}"/>` +
        detail(`<path d="M -55 -55 L 55 55 M -55 0 L 55 0" stroke="${SHADOW}" stroke-width="2" fill="none"/>`)
      );
    case 'bottle':
      if (pose === 'upright') {
        // From above: the body, the shoulder ring, the cap.
        return (
          `<circle r="38" fill="${fill(PALETTE.bottle)}"/>` +
          detail(`<circle r="24" fill="none" stroke="${SHADOW}" stroke-width="4"/>`) +
          detail(`<circle r="12" fill="${SHADOW}"/>`)
        );
      }
      // Lying down: a long rounded body, the neck and the cap.
      return (
        `<rect x="-112" y="-35" width="160" height="70" rx="22" fill="${fill(PALETTE.bottle)}"/>` +
        `<path d="M 44 -30 L 76 -14 L 76 14 L 44 30 Z" fill="${fill(PALETTE.bottle)}"/>` +
        `<rect x="74" y="-14" width="26" height="28" rx="4" fill="${fill(PALETTE.bottle)}"/>` +
        detail(`<rect x="96" y="-16" width="16" height="32" rx="3" fill="${SHADOW}"/>`) +
        detail(`<rect x="-70" y="-35" width="60" height="70" fill="${SHADOW}"/>`)
      );
  }
}

function place(p: Point2, angle: number, scale: number, body: string, offset: [number, number] = [0, 0]): string {
  const [x, y] = toSvg(p);
  const deg = Math.round((-angle * 180) / Math.PI * 100) / 100;
  return `<g transform="translate(${x + offset[0]} ${y + offset[1]}) rotate(${deg}) scale(${scale})">${body}</g>`;
}

function receptacle(r: Receptacle): string {
  const [x0, y0] = toSvg([r.rect.min[0], r.rect.max[1]]);
  const w = (r.rect.max[0] - r.rect.min[0]) * 1000;
  const h = (r.rect.max[1] - r.rect.min[1]) * 1000;
  switch (r.id) {
    case 'rack': {
      // A wire dish rack: a frame, cross wires, and a cradle per slot.
      const wires = [0.25, 0.5, 0.75].map((f) => `<line x1="${x0 + 10}" y1="${y0 + h * f}" x2="${x0 + w - 10}" y2="${y0 + h * f}" stroke="${PALETTE.table}" stroke-width="3"/>`).join('');
      const cradles = r.slots
        .map((s) => {
          const [cx, cy] = toSvg(s.pos);
          return `<rect x="${cx - 58}" y="${cy - 58}" width="116" height="116" rx="14" fill="none" stroke="${PALETTE.table}" stroke-width="5"/>`;
        })
        .join('');
      return `<rect x="${x0}" y="${y0}" width="${w}" height="${h}" rx="12" fill="${PALETTE.rack}" stroke="${PALETTE.tableEdge}" stroke-width="6"/>${wires}${cradles}`;
    }
    case 'bin':
      return (
        `<rect x="${x0}" y="${y0}" width="${w}" height="${h}" rx="26" fill="${PALETTE.bin}" stroke="${PALETTE.tableEdge}" stroke-width="10"/>` +
        `<rect x="${x0 + 16}" y="${y0 + 16}" width="${w - 32}" height="${h - 32}" rx="18" fill="none" stroke="${PALETTE.floor}" stroke-width="4"/>`
      );
    case 'basket': {
      const weave = [0.2, 0.4, 0.6, 0.8]
        .map((f) => `<line x1="${x0 + 8}" y1="${y0 + h * f}" x2="${x0 + w - 8}" y2="${y0 + h * f}" stroke="${PALETTE.tableEdge}" stroke-width="4"/>`)
        .join('');
      const ribs = [0.33, 0.66]
        .map((f) => `<line x1="${x0 + w * f}" y1="${y0 + 8}" x2="${x0 + w * f}" y2="${y0 + h - 8}" stroke="${PALETTE.tableEdge}" stroke-width="4"/>`)
        .join('');
      return `<rect x="${x0}" y="${y0}" width="${w}" height="${h}" rx="16" fill="${PALETTE.basket}" stroke="${PALETTE.tableEdge}" stroke-width="6"/>${weave}${ribs}`;
    }
  }
}

/** Scales of stowed objects (of the unscaled shapes), so each fits its slot: bottles lie down in the bin. */
const STOWED_SCALE: Record<ObjectId, number> = { cup: 1.1, plate: 0.66, bowl: 0.9, fork: 1.25, napkin: 1.05, bottle: 0.75 };

function stowed(o: TableObject): string {
  const pose: Pose = o.id === 'bottle' ? 'tipped' : 'upright';
  return place(o.pos, o.angle, STOWED_SCALE[o.id], shape(o.id, pose));
}

/** The lifted look: bigger, with a shadow dropped down and to the right. */
function lifted(o: TableObject, at: Point2): string {
  const k = DRAW_SCALE * 1.3;
  return place(at, o.angle, k, shape(o.id, o.pose, SHADOW), [30, 36]) + place(at, o.angle, k, shape(o.id, o.pose));
}

export function draw(state: TableState, _view: View): string {
  const parts: string[] = RECEPTACLE_IDS.map((id) => receptacle(RECEPTACLES[id]));
  const onTable = state.objects.filter((o) => o.at.kind === 'table');
  // Flat things under standing ones, so a cup next to a napkin is never hidden.
  const flat = (o: TableObject) => (o.id === 'napkin' ? 0 : o.id === 'plate' ? 1 : o.id === 'fork' ? 2 : 3);
  for (const o of [...onTable].sort((a, b) => flat(a) - flat(b))) parts.push(place(o.pos, o.angle, DRAW_SCALE, shape(o.id, o.pose)));
  for (const o of state.objects) if (o.at.kind === 'receptacle') parts.push(stowed(o));
  for (const o of state.objects) {
    if (o.at.kind !== 'held') continue;
    const armName = o.at.arm;
    const arm = state.arms.find((a) => a.name === armName);
    parts.push(lifted(o, arm ? arm.pos : o.pos));
  }
  return parts.join('');
}
