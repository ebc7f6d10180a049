import { z } from 'zod';

/**
 * A robot as keystep sees it: arms, cameras, what it can do, how to reach it over ROS, and its limits.
 * Profiles live in `robots/<id>.json`; `robots/robot-profile.schema.json` is exported from this file.
 * Objects are strict so a typo in a profile is an error, not a silently ignored field.
 */

/** Axis-aligned box in the table frame (metres): origin at the table centre, x to the robot's right,
 * y away from the robot, z up from the table top. */
export const Box3 = z.strictObject({
  min: z.tuple([z.number(), z.number(), z.number()]),
  max: z.tuple([z.number(), z.number(), z.number()]),
}).refine((b) => b.min.every((v, i) => v < b.max[i]!), {
  message: 'every min must be below its max',
});
export type Box3 = z.infer<typeof Box3>;

export const RosTopic = z.strictObject({
  name: z.string().regex(/^\/[A-Za-z0-9_/]*[A-Za-z0-9_]$/, 'a ROS topic name like /camera_f/color/image_raw'),
  type: z.string().regex(/^[A-Za-z0-9_]+\/(msg\/)?[A-Za-z0-9_]+$/, 'a ROS type like sensor_msgs/Image or sensor_msgs/msg/Image'),
});
export type RosTopic = z.infer<typeof RosTopic>;

export const Gripper = z.strictObject({
  kind: z.enum(['parallel', 'suction', 'hand']),
  /** Largest opening in metres. */
  maxOpening: z.number().positive(),
  /** The gripper's joint in the arm's JointState, published after the arm's joints (none for suction). */
  joint: z.string().min(1).optional(),
});

export const Arm = z.strictObject({
  /** Name used in instructions and actions: "left", "right", or "arm" on a one-arm robot. */
  name: z.string().regex(/^[a-z][a-z0-9_]*$/),
  dof: z.number().int().min(1).max(12),
  joints: z.array(z.string().min(1)).min(1),
  gripper: Gripper,
  /** Where the gripper can reach, in the table frame. */
  workspace: Box3,
  /** Topic carrying this arm's sensor_msgs/JointState. */
  jointStates: RosTopic,
}).refine((a) => a.joints.length === a.dof, {
  // A gripper joint listed here made a 6-DoF arm look like a 7-DoF one.
  error: (issue) => {
    const a = issue.input as { joints: unknown[]; dof: number };
    return `lists ${a.joints.length} joint names for dof ${a.dof}: list exactly the arm's ${a.dof} joints, and put a gripper joint in gripper.joint`;
  },
  path: ['joints'],
});
export type Arm = z.infer<typeof Arm>;

/** Where a camera looks from; the simulator renders each camera from its mount. */
export const CameraMount = z.enum(['overhead', 'front', 'low', 'left_wrist', 'right_wrist', 'wrist']);
export type CameraMount = z.infer<typeof CameraMount>;

export const Camera = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/),
  topic: z.string().regex(/^\/[A-Za-z0-9_/]*[A-Za-z0-9_]$/),
  type: z.enum([
    'sensor_msgs/Image', 'sensor_msgs/msg/Image',
    'sensor_msgs/CompressedImage', 'sensor_msgs/msg/CompressedImage',
  ]),
  resolution: z.strictObject({ width: z.number().int().min(16).max(4096), height: z.number().int().min(16).max(4096) }),
  mount: CameraMount,
  /** For wrist cameras: the arm the camera rides on. */
  arm: z.string().optional(),
});
export type Camera = z.infer<typeof Camera>;

/** What a robot can be asked to do; the instruction parser maps words to these. */
export const Verb = z.enum(['pick', 'place', 'fold', 'grasp', 'tidy', 'move', 'upright', 'release']);
export type Verb = z.infer<typeof Verb>;

/**
 * The lease topics (std_msgs/String carrying JSON, see schema/lease.ts): keystep asks on `request`,
 * the robot answers on `state`. Optional: by default `/keystep/lease` and `/keystep/lease_state`
 * with the step command's type (see leaseTopics).
 */
export const LeaseTopics = z.strictObject({
  request: RosTopic,
  state: RosTopic,
});
export type LeaseTopics = z.infer<typeof LeaseTopics>;

export const RosInterface = z.strictObject({
  /** 1 for ROS 1 (rosbridge_server on roscore), 2 for ROS 2: decides the type spellings a server accepts. */
  rosVersion: z.union([z.literal(1), z.literal(2)]),
  /** std_msgs/String carrying a JSON StepCommand. */
  stepCommand: RosTopic,
  /** sensor_msgs/CompressedImage carrying the goal keyframe of a step (header.frame_id tags it). */
  keyframe: RosTopic,
  /** std_msgs/String carrying a JSON StepFeedback. */
  feedback: RosTopic,
  lease: LeaseTopics.optional(),
});
export type RosInterface = z.infer<typeof RosInterface>;

/** The lease topics of a robot: the profile's, or the defaults in the spelling of its step topic. */
export function leaseTopics(ros: RosInterface): LeaseTopics {
  return ros.lease ?? {
    request: { name: '/keystep/lease', type: ros.stepCommand.type },
    state: { name: '/keystep/lease_state', type: ros.feedback.type },
  };
}

/** `pkg/msg/Name`: how ROS 2 spells a message type; a ROS 1 rosbridge refuses it. */
export function isRos2Spelling(type: string): boolean {
  return /^[^/]+\/msg\/[^/]+$/.test(type);
}

/** Every topic type a profile names, with its path in the profile, for checks that look at them all. */
export function profileTopics(p: Pick<RobotProfile, 'arms' | 'cameras' | 'ros'>): { path: (string | number)[]; name: string; type: string }[] {
  const lease = leaseTopics(p.ros);
  return [
    ...p.arms.map((a, i) => ({ path: ['arms', i, 'jointStates', 'type'], name: a.jointStates.name, type: a.jointStates.type })),
    ...p.cameras.map((c, i) => ({ path: ['cameras', i, 'type'], name: c.topic, type: c.type })),
    ...(['stepCommand', 'keyframe', 'feedback'] as const).map((k) => ({ path: ['ros', k, 'type'], name: p.ros[k].name, type: p.ros[k].type })),
    ...(p.ros.lease ? [{ path: ['ros', 'lease', 'request', 'type'], ...lease.request }, { path: ['ros', 'lease', 'state', 'type'], ...lease.state }] : []),
  ];
}

export const Zone = z.strictObject({
  name: z.string().min(1),
  /** Box in the table frame that no target may fall in. */
  box: Box3,
});

export const Limits = z.strictObject({
  stepTimeoutMs: z.number().int().positive(),
  maxReplans: z.number().int().min(0),
  minSteps: z.number().int().min(1).default(1),
  maxSteps: z.number().int().min(1),
  /** Upper bound on the sum of expected step durations of one plan. */
  maxPlanDurationS: z.number().positive(),
  /** Expected time one primitive takes on this robot, used for plan duration checks. */
  stepDurationS: z.number().positive(),
});

export const RobotProfile = z.strictObject({
  $schema: z.string().optional(),
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes'),
  name: z.string().min(1),
  arms: z.array(Arm).min(1),
  cameras: z.array(Camera).min(1),
  /** The camera whose view keyframes are drawn in and compared against. */
  keyframeCamera: z.string(),
  primitives: z.array(Verb).min(1),
  /** Whether two arms can act together in one step (bimanual folds, both-corner grasps). */
  bimanual: z.boolean(),
  ros: RosInterface,
  limits: Limits,
  forbiddenZones: z.array(Zone).default([]),
}).superRefine((p, ctx) => {
  const seen = new Set<string>();
  p.arms.forEach((arm, i) => {
    if (seen.has(arm.name)) ctx.addIssue({ code: 'custom', path: ['arms', i, 'name'], message: `duplicate arm "${arm.name}"` });
    seen.add(arm.name);
  });
  const cams = new Set<string>();
  p.cameras.forEach((cam, i) => {
    if (cams.has(cam.name)) ctx.addIssue({ code: 'custom', path: ['cameras', i, 'name'], message: `duplicate camera "${cam.name}"` });
    cams.add(cam.name);
    if (cam.arm !== undefined && !seen.has(cam.arm)) {
      ctx.addIssue({ code: 'custom', path: ['cameras', i, 'arm'], message: `camera rides on arm "${cam.arm}", which the profile does not have` });
    }
  });
  if (!cams.has(p.keyframeCamera)) {
    ctx.addIssue({ code: 'custom', path: ['keyframeCamera'], message: `"${p.keyframeCamera}" is not one of the profile's cameras` });
  }
  if (p.bimanual && p.arms.length < 2) {
    ctx.addIssue({ code: 'custom', path: ['bimanual'], message: 'a bimanual robot needs at least two arms' });
  }
  if (p.ros.rosVersion === 1) {
    // The real ROS 1 rosbridge_server logs "not a valid type string" and delivers nothing: refuse it here, with the fix.
    for (const t of profileTopics(p)) {
      if (!isRos2Spelling(t.type)) continue;
      const ros1 = t.type.replace('/msg/', '/');
      ctx.addIssue({
        code: 'custom',
        path: t.path,
        message: `"${t.type}" is the ROS 2 spelling, but ros.rosVersion is 1: a ROS 1 rosbridge refuses it and delivers nothing on ${t.name}. Write "${ros1}", or set ros.rosVersion to 2 if the robot runs ROS 2`,
      });
    }
  }
  if (p.limits.minSteps > p.limits.maxSteps) {
    ctx.addIssue({ code: 'custom', path: ['limits', 'minSteps'], message: 'minSteps is above maxSteps' });
  }
});
export type RobotProfile = z.infer<typeof RobotProfile>;
export type RobotProfileInput = z.input<typeof RobotProfile>;
