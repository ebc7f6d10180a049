/**
 * Every colour the renderer uses. Colours are far apart in RGB so a nearest-colour blob detector
 * (plan validation, the sim controller) can tell every object apart, even after VQ decoding blurs them.
 */
export const PALETTE = {
  floor: '#3a3f44',
  table: '#c9b99b',
  tableEdge: '#8a7a5e',
  // T-shirt: the outside, the inside (what a fold shows), the collar band.
  shirtOutside: '#2f6fd6',
  shirtInside: '#173d80',
  collar: '#ffd23f',
  // Table-clearing objects.
  cup: '#e63946',
  plate: '#f4f4f4',
  bowl: '#f4a261',
  fork: '#7b8cde',
  napkin: '#ff8fab',
  bottle: '#2a9d8f',
  // Receptacles.
  rack: '#6d597a',
  bin: '#1b1b1b',
  basket: '#9c6644',
  // Grippers, one colour per arm.
  gripperLeft: '#00e5ff',
  gripperRight: '#7cff6b',
  gripperSingle: '#00e5ff',
  shadow: '#00000040',
} as const;

export type PaletteName = keyof typeof PALETTE;

/** '#rrggbb' -> [r, g, b]. */
export function rgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1, 7), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
