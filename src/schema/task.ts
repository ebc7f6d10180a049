import { z } from 'zod';

export const SceneId = z.enum(['tshirt', 'table']);
export type SceneId = z.infer<typeof SceneId>;

/** What a person asks for. The scene is optional: planners that see only images infer it. */
export const Task = z.strictObject({
  text: z.string().trim().min(1, 'a task needs words, e.g. "fold the t-shirt"').max(500),
  scene: SceneId.optional(),
});
export type Task = z.infer<typeof Task>;
