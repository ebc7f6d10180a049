import { z } from 'zod';
import { Verb } from './robot-profile.js';

/** A point on the table, metres, in the table frame (see robot-profile.ts). */
export const Point2 = z.tuple([z.number(), z.number()]);
export type Point2 = z.infer<typeof Point2>;

/**
 * The structured form of one step: what an instruction means to a robot. Scene-agnostic on purpose,
 * so validation can check arms, verbs and vocabulary without knowing the scene's internals.
 */
export const Action = z.strictObject({
  verb: Verb,
  /** Arms that act; two names for a bimanual step. */
  arms: z.array(z.string().min(1)).min(1),
  /** Scene vocabulary id of the thing acted on: "shirt", "cup", "napkin"... */
  object: z.string().min(1),
  /** Part of the object: "left_sleeve", "bottom", "collar", "bottom_corners"... */
  part: z.string().optional(),
  /** Where it goes: a receptacle ("rack", "bin", "basket") or a place ("aside"). */
  target: z.string().optional(),
  /** Slot inside the target receptacle, or variant of the place; the keyframe shows which. */
  slot: z.number().int().min(0).optional(),
  /** Where the gripper acts, in the table frame, for workspace and forbidden-zone checks. */
  position: Point2.optional(),
});
export type Action = z.infer<typeof Action>;
