import { meanAbsDiff, strongDiffArea } from '../image/compare.js';
import type { RobotProfile } from '../schema/robot-profile.js';
import type { SceneId } from '../schema/task.js';
import { RECEPTACLES, TIPPABLE, type ObjectId } from '../scenes/table/model.js';
import { homePosition } from '../scenes/arms.js';
import { issue, type PlanIssue } from '../schema/plan-issue.js';
import { OBJECT_CLASSES, SCENE_OBJECTS, classIndex, type GripperClass, type ObjectClass } from './palette-classes.js';
import { GRIPPER_INDEXES, type Blob, type Picture } from './picture.js';
import type { ObservedStart } from './sequence.js';
import type { PixelMapper } from './view.js';

/**
 * Tolerances of the picture checks. Measured on oracle renders and on the same renders pushed through
 * a 64x64 round trip with a colour shift (what the embedded model's VQ decoder does to a keyframe);
 * each sits well clear of both (see test/validate/no-false-alarm.test.ts).
 */
export const KEYFRAME_LIMITS = {
  /** Smallest keyframe side, pixels. */
  minWidth: 32,
  minHeight: 24,
  /** Largest relative difference between the keyframe's and the camera's aspect ratio. */
  aspectTolerance: 0.04,
  /** Luminance standard deviation under which a picture is blank. */
  blankLumaStd: 4,
  /** Mean neighbour luminance step above which a picture is noise (renders ~3-8, uniform noise ~85). */
  noiseLumaStep: 28,
  /** Share of rows and columns whose floor share may differ from the observation's (profile distance). */
  backgroundProfile: 0.12,
  /** A keyframe is the previous picture again when both its mean difference and changed area are under these. */
  unchangedMeanDiff: 0.0012,
  unchangedArea: 0.0004,
  /** Changed area above which one step changed (nearly) everything. */
  totalChangeArea: 0.45,
  /** Pixels an object needs to count as present; below `lostPixels` it is gone. */
  presentPixels: 6,
  lostPixels: 1,
  /** A colour the reference never showed must cover this many pixels in one blob to count as appeared. */
  appearedPixels: 14,
  /** An object in more blobs than before counts as a second one only with this many times its pixels. */
  appearedGrowth: 1.5,
  /**
   * A colour the scene has no object of counts as appeared from one solid blob this big (strict
   * colour, see Picture.solid). Grippers smeared over the shirt by the VQ decoder make bottle-teal blobs
   * of up to 15 px in the tokenizer's drawings of true T-shirt states; the smallest table object, the
   * fork, covers 19-38 px.
   */
  foreignPixels: 18,
  /** Shift (pixels at 128x96, ~10 mm each, see blobShift) beyond which an object the step does not touch moved. */
  movedPixels: 6,
  /** Pixels an object needs in both pictures for its centroid to be compared. */
  movedMinPixels: 10,
  /** Gripper shift (see blobShift) that counts as the arm moving. */
  armMovedPixels: 7,
  /** Distance (pixels) within which a gripper sits at its home position or over an object it may hold. */
  nearPixels: 5,
} as const;

export function gripperClassOf(arm: string, armCount: number): GripperClass {
  if (armCount === 1) return 'gripper_left';
  return arm === 'right' ? 'gripper_right' : 'gripper_left';
}

/** Blank or noise: the picture is not a scene at all, so no other picture check applies. */
export function textureIssues(p: Picture, step: number): PlanIssue[] {
  if (p.lumaStd < KEYFRAME_LIMITS.blankLumaStd) {
    return [issue('keyframe_blank', step, `step ${step}'s keyframe is blank (luminance spread ${p.lumaStd.toFixed(1)}, a scene has far more)`)];
  }
  if (p.lumaStep > KEYFRAME_LIMITS.noiseLumaStep) {
    return [issue('keyframe_noise', step, `step ${step}'s keyframe is noise (mean neighbour step ${p.lumaStep.toFixed(1)}, a scene stays under ${KEYFRAME_LIMITS.noiseLumaStep})`)];
  }
  return [];
}

function floorProfile(p: Picture): { rows: Float64Array; cols: Float64Array } {
  const floor = classIndex('floor');
  const rows = new Float64Array(p.height);
  const cols = new Float64Array(p.width);
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < p.width; x++) {
      if (p.classes[y * p.width + x] === floor) {
        rows[y]! += 1 / p.width;
        cols[x]! += 1 / p.height;
      }
    }
  }
  return { rows, cols };
}

/** The floor around the table sits where the observation has it: same camera, same framing. */
export function backgroundIssues(k: Picture, observation: Picture, step: number): PlanIssue[] {
  const a = floorProfile(observation);
  const b = floorProfile(k);
  let d = 0;
  for (let y = 0; y < a.rows.length; y++) d += Math.abs(a.rows[y]! - b.rows[y]!) / a.rows.length;
  for (let x = 0; x < a.cols.length; x++) d += Math.abs(a.cols[x]! - b.cols[x]!) / a.cols.length;
  if (d > KEYFRAME_LIMITS.backgroundProfile) {
    return [issue('background_mismatch', step, `step ${step}'s keyframe does not frame the table as the observation does (floor layout differs by ${d.toFixed(2)}, at most ${KEYFRAME_LIMITS.backgroundProfile}): another camera, crop or scene?`)];
  }
  return [];
}

export function changeIssues(k: Picture, prev: Picture, step: number, prevName: string): PlanIssue[] {
  const mean = meanAbsDiff(k.rgb, prev.rgb);
  const area = strongDiffArea(k.rgb, prev.rgb);
  if (mean < KEYFRAME_LIMITS.unchangedMeanDiff && area < KEYFRAME_LIMITS.unchangedArea) {
    return [issue('keyframe_unchanged', step, `step ${step}'s keyframe shows no change from ${prevName} (mean difference ${mean.toFixed(4)}): the step would do nothing`)];
  }
  if (area > KEYFRAME_LIMITS.totalChangeArea) {
    return [issue('keyframe_change_total', step, `step ${step}'s keyframe differs from ${prevName} over ${(area * 100).toFixed(0)}% of the picture; one step changes one thing`)];
  }
  return [];
}

export interface ObjectCheckInput {
  scene: SceneId;
  step: number;
  k: Picture;
  prev: Picture;
  prevName: string;
  /** Reference for which colours exist at all: the observation, or the first good keyframe. */
  reference: Picture;
  /** The object the step acts on (scene vocabulary id), when it parses. */
  actedOn?: string;
  /** Arms the step names; undefined when the step leaves it open. */
  arms?: string[];
  profile: RobotProfile;
}

/** Objects conserved, nothing the step does not touch moves, and the arm that moves is the one named. */
export function objectIssues(x: ObjectCheckInput): PlanIssue[] {
  const out: PlanIssue[] = [];
  const L = KEYFRAME_LIMITS;
  const own = new Set<ObjectClass>(SCENE_OBJECTS[x.scene]);
  for (const cls of OBJECT_CLASSES) {
    const now = x.k.blob[cls];
    const ref = x.reference.blob[cls];
    const before = x.prev.blob[cls];
    // The collar is part of the shirt: hidden while crumpled or under the half fold, shown when tidied.
    if (cls === 'collar') continue;
    if (!own.has(cls)) {
      // A colour the scene does not have: only a solid blob counts (blurred edges make stray pixels of any colour).
      if (now.solid >= L.foreignPixels && Math.max(ref.solid, before.solid) < L.foreignPixels / 2) {
        out.push(issue('object_appeared', x.step, `step ${x.step}'s keyframe shows ${describe(cls)} (${now.solid} px) that the observation does not have`));
      }
      continue;
    }
    if (ref.pixels < L.presentPixels && before.pixels < L.presentPixels) {
      if (now.largest >= L.appearedPixels) {
        out.push(issue('object_appeared', x.step, `step ${x.step}'s keyframe shows ${describe(cls)} (${now.largest} px) that ${x.prevName} does not have`));
      }
      continue;
    }
    if (before.pixels >= L.presentPixels && now.pixels <= L.lostPixels) {
      out.push(issue('object_lost', x.step, `the ${describe(cls)} in ${x.prevName} is gone from step ${x.step}'s keyframe`));
      continue;
    }
    // The object in hand may be cut in two by the gripper; any other object must stay one blob, or
    // at least keep its pixels: a thin object drawn in pieces has about the pixels it had, a second
    // one adds its own.
    if (cls !== x.actedOn && now.blobs > Math.max(before.blobs, ref.blobs, 1) && now.pixels > before.pixels * L.appearedGrowth) {
      out.push(issue('object_appeared', x.step, `step ${x.step}'s keyframe shows ${now.blobs} separate ${describe(cls)} blobs where ${x.prevName} has ${before.blobs}: an object appeared`));
      continue;
    }
    if (x.scene === 'table' && cls !== x.actedOn && before.largest >= L.movedMinPixels && now.largest >= L.movedMinPixels) {
      const d = blobShift(before, now);
      if (d > L.movedPixels) {
        out.push(issue('object_moved', x.step, `the ${cls} moved ${d.toFixed(0)} px between ${x.prevName} and step ${x.step}'s keyframe, but the step acts on ${x.actedOn === undefined ? 'something else' : `the ${x.actedOn}`}`));
      }
    }
  }
  if (x.arms !== undefined && x.profile.arms.length >= 2) {
    const names = x.profile.arms.map((a) => a.name);
    const classes = names.map((n) => gripperClassOf(n, names.length));
    if (new Set(classes).size === names.length) {
      const moved: string[] = [];
      names.forEach((n, i) => {
        const a = x.prev.blob[classes[i]!];
        const b = x.k.blob[classes[i]!];
        if (a.largest >= L.presentPixels && b.largest >= L.presentPixels && blobShift(a, b) > L.armMovedPixels) moved.push(n);
      });
      const stray = moved.filter((n) => !x.arms!.includes(n));
      if (stray.length > 0) {
        out.push(issue('arm_mismatch', x.step, `step ${x.step} names ${x.arms.map((a) => `the ${a} arm`).join(' and ')}, but its keyframe shows ${stray.map((a) => `the ${a} gripper`).join(' and ')} moving`));
      }
    }
  }
  return out;
}

/**
 * How far a gripper or an object moved: the smaller of its largest piece's shift and the shift of all
 * its pixels together, so it counts as moved only when both moved. A drawn gripper or thin object (the fork) can come out as fragments, and the largest
 * of them can change from one keyframe to the next while the thing stays where it was (held-out
 * plans the sim carries out: an idle gripper's largest piece moved 7.5 px, its pixels together
 * 2.5 px; a fork's largest piece 6 px); what moves carries all its pixels with it.
 */
function blobShift(a: Blob, b: Blob): number {
  return Math.min(Math.hypot(a.lx - b.lx, a.ly - b.ly), Math.hypot(a.x - b.x, a.y - b.y));
}

function describe(cls: ObjectClass): string {
  return cls === 'shirt' ? 'shirt-coloured cloth' : cls === 'collar' ? 'collar-coloured cloth' : `${cls}-coloured object`;
}

/**
 * What the observation says about the start of the plan: where each table object is (on the table, in
 * a receptacle, under a gripper so possibly held, or absent) and which grippers wait empty at home.
 */
export function observedStart(obs: Picture, scene: SceneId, profile: RobotProfile, mapper: PixelMapper | null): ObservedStart {
  const L = KEYFRAME_LIMITS;
  const start: ObservedStart = { objects: {}, emptyArms: [], positions: {} };
  const grippers = profile.arms.map((a) => ({ name: a.name, blob: obs.blob[gripperClassOf(a.name, profile.arms.length)] }));
  if (mapper !== null) {
    for (const g of grippers) {
      const [hx, hy] = mapper.toPixel(homePosition(g.name, profile.arms.length));
      // The gripper's drawing sits a little below its point (the palm), hence the loose match.
      if (g.blob.pixels >= L.presentPixels && Math.hypot(g.blob.x - hx, g.blob.y - hy) <= L.nearPixels + 2) start.emptyArms.push(g.name);
    }
  }
  if (scene !== 'table') return start;
  for (const cls of SCENE_OBJECTS.table) {
    const b = obs.blob[cls];
    if (b.pixels < L.presentPixels) {
      start.objects[cls] = b.pixels <= L.lostPixels ? 'absent' : undefined;
      continue;
    }
    if (mapper === null) continue;
    const inReceptacle = Object.values(RECEPTACLES).some((r) => {
      const [x0, y0] = mapper.toPixel([r.rect.min[0], r.rect.max[1]]);
      const [x1, y1] = mapper.toPixel([r.rect.max[0], r.rect.min[1]]);
      return b.x >= x0 && b.x <= x1 && b.y >= y0 && b.y <= y1;
    });
    const nearGripper = grippers.some((g) => g.blob.pixels >= L.presentPixels && Math.hypot(g.blob.x - b.x, g.blob.y - b.y) <= L.nearPixels * 2);
    start.objects[cls] = inReceptacle ? 'stowed' : nearGripper ? 'near_gripper' : 'table';
    // An object beside a gripper is read too when it is whole (CLEAR_OF_GRIPPER): the robot's holding
    // report may say it lies there, not held.
    if (start.objects[cls] === 'stowed') continue;
    const whole = clearOfGrippers(obs, cls);
    if (start.objects[cls] === 'table' || whole) start.positions![cls] = mapper.toTable(b.lx, b.ly);
    // A footprint a gripper touches may be partly covered (a tipped cup with an open gripper on it
    // showed 85 px, an upright cup's size: oracle rollout, table seed 11). Covering only shrinks a
    // footprint, so then only the pose with the larger one is read.
    const read = TIPPABLE.has(cls as ObjectId) ? poseOf(obs, cls, mapper) : undefined;
    const pose = read !== undefined && (whole || POSE_LIMITS[cls as keyof typeof POSE_LIMITS][read].minArea !== undefined) ? read : undefined;
    if (pose !== undefined) (start.poses ??= {})[cls] = pose;
  }
  return start;
}

/**
 * An object counts as whole when no gripper pixel is closer than this (Chebyshev pixels at 128x96).
 * A gripper's one-pixel halo is nobody's colour, so an object the gripper touches or covers shows its
 * nearest gripper pixel 2 px away; 3 leaves a pixel of table between them.
 */
export const CLEAR_OF_GRIPPER = 3;

function clearOfGrippers(obs: Picture, cls: ObjectClass): boolean {
  const k = classIndex(cls);
  const { width, height, classes } = obs;
  const r = CLEAR_OF_GRIPPER - 1;
  for (let i = 0; i < classes.length; i++) {
    if (classes[i] !== k) continue;
    const x = i % width;
    const y = (i - x) / width;
    for (let dy = -r; dy <= r; dy++) {
      for (let dx = -r; dx <= r; dx++) {
        const nx = x + dx;
        const ny = y + dy;
        if (nx >= 0 && ny >= 0 && nx < width && ny < height && GRIPPER_INDEXES.has(classes[ny * width + nx]!)) return false;
      }
    }
  }
  return true;
}

/**
 * Upright or tipped, read from an object's footprint in the overhead view: its area (cm² on the
 * table) and elongation (the square root of its pixel covariance's eigenvalue ratio). Measured on the
 * renders of 45 layouts per pose over the three table robots (`at 128x96`):
 *   cup 73-78 cm² upright, 119-125 tipped; bowl 170-188 (elongation 1.00-1.08) upright, 92-101
 *   (1.73-1.96) tipped; bottle 63-69 (1.00-1.07) upright, 184-193 (2.92-3.16) tipped.
 * The bounds below sit well inside the gaps; anything between them is not read (undefined), and only
 * objects seen on the table away from a gripper are read at all.
 */
export const POSE_LIMITS: Record<'cup' | 'bowl' | 'bottle', { upright: { maxArea?: number; minArea?: number; maxElongation?: number }; tipped: { maxArea?: number; minArea?: number; minElongation?: number } }> = {
  cup: { upright: { maxArea: 92 }, tipped: { minArea: 105 } },
  bowl: { upright: { minArea: 150, maxElongation: 1.3 }, tipped: { maxArea: 125, minElongation: 1.5 } },
  bottle: { upright: { maxArea: 100, maxElongation: 1.4 }, tipped: { minArea: 150, minElongation: 2.2 } },
};

function poseOf(obs: Picture, cls: ObjectClass, mapper: PixelMapper): 'upright' | 'tipped' | undefined {
  const limits = POSE_LIMITS[cls as keyof typeof POSE_LIMITS];
  if (limits === undefined) return undefined;
  const k = classIndex(cls);
  let n = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < obs.classes.length; i++) {
    if (obs.classes[i] !== k) continue;
    const x = i % obs.width;
    const y = (i - x) / obs.width;
    n++;
    sx += x;
    sy += y;
    sxx += x * x;
    syy += y * y;
    sxy += x * y;
  }
  if (n === 0) return undefined;
  const [mx, my] = [sx / n, sy / n];
  const [cxx, cyy, cxy] = [sxx / n - mx * mx, syy / n - my * my, sxy / n - mx * my];
  const half = (cxx + cyy) / 2;
  const root = Math.sqrt(Math.max(0, half * half - (cxx * cyy - cxy * cxy)));
  const elongation = Math.sqrt((half + root) / Math.max(half - root, 1e-6));
  const pxPerCm = mapper.scale / 100;
  const area = n / (pxPerCm * pxPerCm);
  const within = (v: number, min = -Infinity, max = Infinity) => v >= min && v <= max;
  const u = limits.upright;
  const t = limits.tipped;
  if (within(area, u.minArea, u.maxArea) && within(elongation, 0, u.maxElongation)) return 'upright';
  if (within(area, t.minArea, t.maxArea) && within(elongation, t.minElongation)) return 'tipped';
  return undefined;
}
