import sharp from 'sharp';
import type { PlanDraft } from '../../src/planner/planner.js';
import { loadProfile } from '../../src/profile/load.js';
import type { RobotProfile } from '../../src/schema/robot-profile.js';
import type { SceneId } from '../../src/schema/task.js';
import { Rng } from '../../src/util/rng.js';
import { oraclePlan, type OraclePlan } from '../../sim/oracle-plan.js';
import { validateDraft } from '../../src/validate/validate-draft.js';
import { svgToPng } from '../../sim/render.js';
import { sceneSvg, type Size } from '../../src/scenes/view.js';
import type { SceneStateBase, View } from '../../src/scenes/scene.js';
import { sceneById } from '../../src/scenes/registry.js';
import { SimWorld } from '../../sim/world.js';
import { rgb } from '../../src/scenes/palette.js';
import { analysePicture, type Picture } from '../../src/validate/picture.js';

/** Keyframes at the size the embedded model draws them: fast to render, and what the validator sees most. */
export const SIZE: Size = { width: 128, height: 96 };
export const TASK: Record<SceneId, string> = { table: 'clear the table', tshirt: 'fold the t-shirt' };

const profiles = new Map<string, RobotProfile>();
export function profile(id: string): RobotProfile {
  let p = profiles.get(id);
  if (!p) profiles.set(id, (p = loadProfile(id)));
  return p;
}

export function world(robot: string, scene: SceneId, seed: number): SimWorld {
  return new SimWorld({ profile: profile(robot), scene, task: TASK[scene], seed, missRate: 0 });
}

export async function oracle(robot: string, scene: SceneId, seed: number): Promise<OraclePlan & { world: SimWorld }> {
  const w = world(robot, scene, seed);
  return { ...(await oraclePlan(w, { size: SIZE })), world: w };
}

export function validate(plan: PlanDraft, robot: RobotProfile, observation?: Uint8Array, task?: string) {
  return validateDraft({ plan, robot, ...(observation !== undefined ? { observation } : {}), ...(task !== undefined ? { task } : {}) });
}

/** The errors, and any `task_incomplete` warning: a plan the oracle says finishes the task must not be called short. */
export const errorsOf = (r: { issues: { severity: string; code: string; step: number | null; message: string }[] }) =>
  r.issues.filter((i) => i.severity === 'error' || i.code === 'task_incomplete');

/** A copy of a draft whose steps can be edited freely. */
export function copyDraft(d: PlanDraft): PlanDraft {
  return { ...d, steps: d.steps.map((s) => ({ ...s, ...(s.action ? { action: { ...s.action, arms: [...s.action.arms] } } : {}) })) };
}

export function render(scene: SceneId, state: SceneStateBase, view: View = { mount: 'overhead' }, size: Size = SIZE): Promise<Buffer> {
  return svgToPng(sceneSvg(sceneById(scene), state, view, size));
}

export async function solidPng(rgb: [number, number, number], size: Size = SIZE): Promise<Uint8Array> {
  return new Uint8Array(await sharp({ create: { width: size.width, height: size.height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer());
}

export async function noisePng(seed: number, size: Size = SIZE): Promise<Uint8Array> {
  const rng = new Rng(seed);
  const data = Buffer.alloc(size.width * size.height * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  return new Uint8Array(await sharp(data, { raw: { width: size.width, height: size.height, channels: 3 } }).png().toBuffer());
}

/** A filled circle drawn into a PNG (pixel coordinates of a 128x96 picture). */
export async function drawDisc(png: Uint8Array, hex: string, cx: number, cy: number, r: number): Promise<Uint8Array> {
  const meta = await sharp(png).metadata();
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${meta.width}" height="${meta.height}"><circle cx="${cx}" cy="${cy}" r="${r}" fill="${hex}"/></svg>`;
  return new Uint8Array(await sharp(png).composite([{ input: Buffer.from(svg) }]).png().toBuffer());
}

/** What a 64x64 VQ decoder does to a keyframe: detail lost, edges blurred, colours shifted a little. */
export async function likeModel(png: Uint8Array): Promise<Uint8Array> {
  const { data } = await sharp(png).resize(64, 64, { fit: 'fill', kernel: 'lanczos3' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  for (let i = 0; i < data.length; i += 3) {
    data[i] = Math.min(255, data[i]! + 10);
    data[i + 2] = Math.max(0, data[i + 2]! - 8);
  }
  return new Uint8Array(await sharp(data, { raw: { width: 64, height: 64, channels: 3 } }).blur(0.6).resize(SIZE.width, SIZE.height, { fit: 'fill', kernel: 'cubic' }).png().toBuffer());
}

/** Pixel lists for hand-drawn pictures of the picture checks. */
export type Px = [number, number][];
export const rect = (x0: number, y0: number, x1: number, y1: number): Px => {
  const out: Px = [];
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) out.push([x, y]);
  return out;
};
export const shift = (px: Px, dx: number): Px => px.map(([x, y]) => [x + dx, y]);

/** A SIZE picture of `background` with each pixel list painted in its colour, as the validator analyses it. */
export function painted(background: string, strokes: [string, Px][]): Picture {
  const { width: W, height: H } = SIZE;
  const img = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) img.set(rgb(background), i * 3);
  for (const [hex, px] of strokes) for (const [x, y] of px) img.set(rgb(hex), (y * W + x) * 3);
  return analysePicture(img, W, H);
}
