import { describe, expect, it } from 'vitest';
import { PALETTE, rgb } from '../../src/scenes/palette.js';
import { analysePicture } from '../../src/validate/picture.js';

const W = 128;
const H = 96;

function canvas(): Uint8Array {
  const out = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) out.set(rgb(PALETTE.table), i * 3);
  return out;
}
function paint(img: Uint8Array, hex: string, pixels: [number, number][]): void {
  for (const [x, y] of pixels) img.set(rgb(hex), (y * W + x) * 3);
}
const rect = (x0: number, y0: number, x1: number, y1: number): [number, number][] => {
  const out: [number, number][] = [];
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) out.push([x, y]);
  return out;
};

describe('analysePicture', () => {
  it("places a gripper by its drawing, not by stray specks of its colour", () => {
    const img = canvas();
    // A U-shaped gripper around (43, 33), and a 2x2 speck of the same colour far away.
    paint(img, PALETTE.gripperRight, [...rect(40, 30, 41, 37), ...rect(45, 30, 46, 37), ...rect(40, 36, 46, 37)]);
    paint(img, PALETTE.gripperRight, rect(110, 80, 111, 81));
    const g = analysePicture(img, W, H).blob.gripper_right;
    expect(g.lx).toBeCloseTo(43, 0);
    expect(g.largest).toBeGreaterThan(20);
    // The mean over every pixel of the colour is pulled towards the speck.
    expect(g.x).toBeGreaterThan(46);
  });

  it('counts a solid blob of a colour, not the same number of scattered pixels', () => {
    const scattered = canvas();
    const dots: [number, number][] = [];
    for (let k = 0; k < 25; k++) dots.push([20 + (k % 5) * 3, 20 + Math.floor(k / 5) * 3]);
    paint(scattered, PALETTE.bottle, dots);
    const solid = canvas();
    paint(solid, PALETTE.bottle, rect(20, 20, 24, 24));
    expect(analysePicture(scattered, W, H).blob.bottle.solid).toBe(1);
    expect(analysePicture(solid, W, H).blob.bottle.solid).toBe(25);
  });
});
