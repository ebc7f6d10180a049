import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlanDraft } from '../../src/planner/planner.js';
import { KEYFRAME_ISSUE_CODES, type IssueCode } from '../../src/schema/plan-issue.js';
import { decodeImage } from '../../src/validate/validate-draft.js';
import { CHECK_GROUP_NAMES, checkPlan, validatePlan, type CheckGroupName, type ValidationContext } from '../../src/validate/validate-plan.js';
import type { OraclePlan } from '../../sim/oracle-plan.js';
import { copyDraft, oracle, profile, TASK } from './helpers.js';

/** The code table's groups (src/schema/plan-issue.ts); `out_of_reach` comes from the sequence, which knows where objects are. */
const CODES: Record<CheckGroupName, ReadonlySet<IssueCode>> = {
  structure: new Set(['schema', 'step_count', 'step_index', 'empty_instruction', 'repeated_step']),
  capability: new Set(['unknown_arm', 'bimanual_unsupported', 'verb_unsupported', 'unknown_object']),
  language: new Set(['unparseable', 'action_mismatch']),
  sequence: new Set(['not_held', 'arm_busy', 'order', 'wrong_target', 'corners_not_held', 'already_done', 'object_unavailable', 'left_holding', 'task_incomplete', 'task_not_done', 'out_of_reach']),
  keyframes: KEYFRAME_ISSUE_CODES,
  safety: new Set(['out_of_workspace', 'forbidden_zone', 'plan_duration', 'plan_duration_near_limit']),
};

async function context(plan: PlanDraft, observation: Uint8Array): Promise<ValidationContext> {
  const [obs, ...keyframes] = await Promise.all([decodeImage(observation), ...plan.steps.map((s) => decodeImage(s.keyframe))]);
  return { observation: obs!, keyframes, task: TASK.table };
}

let table: OraclePlan;
let jpeg: Uint8Array;
beforeAll(async () => {
  table = await oracle('aloha-agilex', 'table', 1);
  jpeg = new Uint8Array(await sharp(table.draft.steps[2]!.keyframe).jpeg().toBuffer());
});

/** An oracle plan broken in many ways at once, so every group has something to say. */
function broken(): PlanDraft {
  const plan = copyDraft(table.draft);
  const [s0, s1, , s3] = plan.steps;
  plan.steps = [s1!, s0!, ...plan.steps.slice(2)].map((s, index) => ({ ...s, index }));
  plan.steps[0]!.keyframe = new Uint8Array(0);
  plan.steps[1]!.action = { ...plan.steps[1]!.action!, arms: ['middle'] };
  plan.steps[4]!.action = { ...plan.steps[4]!.action!, position: [0.95, 0] };
  plan.steps[2]!.keyframe = jpeg;
  plan.steps[3]!.instruction = `${s3!.instruction} and juggle it`;
  plan.steps.push({ ...plan.steps.at(-1)!, index: 40 });
  return plan;
}

describe('check groups', () => {
  it('each group, asked for alone, finds exactly its codes of the full validation, in the same order', async () => {
    const plan = broken();
    const robot = profile('aloha-agilex');
    const ctx = await context(plan, table.observation);
    const all = validatePlan(plan, robot, ctx).issues;
    for (const group of CHECK_GROUP_NAMES) {
      expect(checkPlan(plan, robot, ctx, [group]), group).toEqual(all.filter((i) => CODES[group].has(i.code)));
    }
    // Every group had something to find, and together they are the whole validation.
    expect(CHECK_GROUP_NAMES.filter((g) => !all.some((i) => CODES[g].has(i.code)))).toEqual([]);
    expect(checkPlan(plan, robot, ctx)).toEqual(all);
  });

  it("lists a step's issues as they always were: its keyframe file before the sequence", async () => {
    const plan = copyDraft(table.draft);
    plan.steps = [plan.steps[1]!, plan.steps[0]!, ...plan.steps.slice(2)].map((s, index) => ({ ...s, index }));
    plan.steps[0]!.keyframe = new Uint8Array(0);
    const issues = validatePlan(plan, profile('aloha-agilex'), await context(plan, table.observation)).issues;
    expect(issues.filter((i) => i.step === 0).map((i) => i.code).slice(0, 2)).toEqual(['missing_keyframe', 'not_held']);
  });

  it('checks only the header of a plan without a list of steps, and never throws', () => {
    const robot = profile('aloha-agilex');
    const notAPlan = { id: 'p', steps: 3 } as unknown as PlanDraft;
    expect(checkPlan(notAPlan, robot, {}, ['keyframes', 'sequence'])).toEqual([]);
    expect(checkPlan(notAPlan, robot).map((i) => [i.code, i.message])).toContainEqual(['schema', expect.stringContaining('plan.steps')]);
    expect(checkPlan(null as unknown as PlanDraft, robot).every((i) => i.code === 'schema')).toBe(true);
  });
});
