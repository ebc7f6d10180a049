import type { PlanIssue } from '../schema/plan-issue.js';
import type { RobotProfile } from '../schema/robot-profile.js';
import type { SceneId } from '../schema/task.js';
import { sceneById } from '../scenes/registry.js';
import type { TaskResult } from '../scenes/scene.js';
import { incomplete, notDone, type ObservedStart, type PastStep, type SayUndone, type StepMeaning, type TaskCheck } from '../scenes/sequence.js';

export type { ObservedStart, PastStep, StepMeaning, TaskCheck } from '../scenes/sequence.js';
export { REACH_MARGIN_M } from '../scenes/table/sequence.js';

/**
 * Preconditions and effects per scene on an abstract state built from the run so far (`past`), the
 * observation and the plan's own steps. Three-valued: what none of them tells is unknown, and only a
 * known contradiction is an issue, so a replan from an odd state is never refused for a guess.
 *
 * The run so far matters where the picture cannot tell: a T-shirt whose half fold stopped at 60 %
 * looks folded to the camera, but the robot reported the fold missed, so "move the folded shirt
 * aside" must wait for the fold. The table's objects are where the observation shows them, so the
 * table goes by the observation alone.
 *
 * With the run's `task`, the state the plan ends in is also held against the task's goal: what is
 * known not done there is `task_incomplete` (a warning: the executor runs the plan and plans again).
 * A task the scene does not know is left to the planner, which refuses it before any plan exists.
 */
export function checkSequence(scene: SceneId, steps: readonly StepMeaning[], profile: RobotProfile, start?: ObservedStart, past: readonly PastStep[] = [], task?: TaskCheck): PlanIssue[] {
  const rules = sceneById(scene);
  return rules.checkSequence(steps, profile, start, past, task && withSay(rules.parseTask(task.text), task));
}

/** The task's goal with how to report what it leaves undone; undefined for a task the scene does not know. */
function withSay<G>(parsed: TaskResult<G>, task: TaskCheck): (G & { say: SayUndone }) | undefined {
  if (!parsed.ok) return undefined;
  const say: SayUndone = (missing) => (task.emptyPlan ? notDone(task.text, missing) : incomplete(task.text, missing));
  return { ...parsed.goal, say };
}

