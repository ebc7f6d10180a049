import type { RobotProfile } from '../schema/index.js';
import type { Point2 } from './geometry.js';
import { toSvg } from './geometry.js';
import { PALETTE } from './palette.js';
import type { ArmState } from './scene.js';

/** Where each gripper waits between steps: near the robot's edge of the table, over its own side. */
export function homePosition(arm: string, armCount: number): Point2 {
  if (armCount === 1) return [0, -0.32];
  if (arm === 'left') return [-0.34, -0.32];
  if (arm === 'right') return [0.34, -0.32];
  return [0, -0.32];
}

export function initialArms(profile: RobotProfile): ArmState[] {
  return profile.arms.map((a) => ({
    name: a.name,
    pos: homePosition(a.name, profile.arms.length),
    closed: false,
    holding: null,
  }));
}

export function armColor(name: string, armCount: number): string {
  if (armCount === 1) return PALETTE.gripperSingle;
  return name === 'right' ? PALETTE.gripperRight : PALETTE.gripperLeft;
}

/**
 * Grippers drawn as two fingers and a palm: apart when open, together when closed. Large and in the
 * arm's own colour, so two candidate outcomes that differ only in which arm moved stay far apart in
 * pixels, even in a blurry generated keyframe.
 */
export function drawArms(arms: readonly ArmState[]): string {
  return arms
    .map((arm) => {
      const [x, y] = toSvg(arm.pos);
      const color = armColor(arm.name, arms.length);
      const gap = arm.closed ? 16 : 40;
      const finger = (dx: number) =>
        `<rect x="${x + dx - 11}" y="${y - 36}" width="22" height="70" rx="6" fill="${color}"/>`;
      return `<g>${finger(-gap)}${finger(gap)}<rect x="${x - gap - 11}" y="${y + 24}" width="${2 * gap + 22}" height="22" rx="6" fill="${color}"/></g>`;
    })
    .join('');
}

export function moveArm(arms: readonly ArmState[], name: string, patch: Partial<Omit<ArmState, 'name'>>): ArmState[] {
  return arms.map((a) => (a.name === name ? { ...a, ...patch } : a));
}

/**
 * Joint angles for a gripper position: a planar 2-link reach plus waist yaw, enough for a
 * sensor_msgs/JointState that moves when the arm moves. Not a real arm's kinematics.
 */
export function jointPositions(arm: ArmState, jointCount: number, base: Point2): number[] {
  const dx = arm.pos[0] - base[0];
  const dy = arm.pos[1] - base[1];
  const reach = Math.min(Math.hypot(dx, dy), 0.7);
  const waist = Math.atan2(dx, dy);
  const elbow = Math.acos(Math.max(-1, Math.min(1, (reach * reach - 0.245) / 0.245)));
  const shoulder = -elbow / 2;
  const values = [waist, shoulder, elbow, 0, elbow / 2, 0];
  const out: number[] = [];
  for (let i = 0; i < jointCount - 1; i++) out.push(values[i] ?? 0);
  out.push(arm.closed ? 0.0 : 0.07);
  return out.map((v) => Math.round(v * 1e4) / 1e4);
}
