import type { RobotProfile } from '../schema/robot-profile.js';
import { SceneId } from '../schema/task.js';
import { Rng } from '../util/rng.js';
import { quoteText } from './language.js';
import { sceneById } from './registry.js';
import { UnsupportedTaskError } from './scene.js';
import { UnknownTaskError } from './unknown-task-error.js';

/** A task read against its scene: which scene it belongs to and what it asks of it. */
export interface CheckedTask {
  scene: SceneId;
  goal: unknown;
}

function knownTasks(scene: SceneId): string {
  return sceneById(scene)
    .tasks.map((t) => `"${t}"`)
    .join(', ');
}

/**
 * Reads a task before anything connects: it must be a task of `scene` (or, without one, of exactly the
 * scene whose words it uses), and the robot must be able to do it. Throws UnknownTaskError naming the
 * task, the scene and the tasks it knows, or the scene's UnsupportedTaskError when the robot lacks an
 * arm, a primitive or the reach (found by planning the task with the scene's oracle from a seeded start).
 */
export function checkTask(task: string, profile: RobotProfile, scene?: SceneId): CheckedTask {
  const text = task.trim();
  if (scene !== undefined) {
    const parsed = sceneById(scene).parseTask(text);
    if (!parsed.ok) {
      const elsewhere = SceneId.options.find((id) => id !== scene && sceneById(id).parseTask(text).ok);
      const hint = elsewhere ? ` ("${text}" is a ${elsewhere} task: is the robot in the ${elsewhere} scene?)` : '';
      throw new UnknownTaskError(`${quoteText(text)} is not a task of the ${scene} scene${hint}; the ${scene} scene knows ${knownTasks(scene)}`, { task: text, scene });
    }
    return supported({ scene, goal: parsed.goal }, text, profile);
  }
  for (const id of SceneId.options) {
    const parsed = sceneById(id).parseTask(text);
    if (parsed.ok) return supported({ scene: id, goal: parsed.goal }, text, profile);
  }
  const all = SceneId.options.map((id) => `${id}: ${knownTasks(id)}`).join('; ');
  throw new UnknownTaskError(`${quoteText(text)} is not a task keystep knows; the scenes know ${all}`, { task: text });
}

/** The scene's oracle refuses a task the robot cannot do with UnsupportedTaskError: let it. */
function supported(checked: CheckedTask, task: string, profile: RobotProfile): CheckedTask {
  const scene = sceneById(checked.scene);
  try {
    scene.oracle(scene.initial(profile, new Rng(0).fork('layout')), checked.goal, profile);
  } catch (error) {
    if (!(error instanceof UnsupportedTaskError)) throw error;
    throw new UnsupportedTaskError(`${profile.id} cannot do "${task}": ${error.message}`, { ...error.context, task });
  }
  return checked;
}
