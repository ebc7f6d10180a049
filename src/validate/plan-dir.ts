import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zodProblems } from '../errors/format.js';
import type { PlanDraft } from '../planner/planner.js';
import { Plan } from '../schema/plan.js';
import { issue, type PlanIssue } from '../schema/plan-issue.js';
import { PlanDirError } from './plan-dir-error.js';

/** A plan directory read into memory: the document, the draft with keyframe bytes, the observation. */
export interface PlanDir {
  dir: string;
  plan: Plan;
  draft: PlanDraft;
  observation?: Uint8Array;
}

export const PLAN_FILE = 'plan.json';

/**
 * Reads `<dir>/plan.json` and the PNGs it names. Throws PlanDirError only when there is no plan to
 * talk about (no directory, no plan.json, not JSON); a document that breaks the schema, or names a
 * PNG that is not there, comes back as issues (`schema`, `missing_keyframe`) naming file and field.
 */
export function readPlanDir(dir: string): { ok: true; planDir: PlanDir; issues: PlanIssue[] } | { ok: false; issues: PlanIssue[] } {
  const file = join(dir, PLAN_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new PlanDirError(`cannot read ${file} (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}); give a plan directory that holds plan.json and its PNGs`, file, [], { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new PlanDirError(`${file}: not valid JSON (${(cause as Error).message}); fix the syntax and try again`, file, [], { cause });
  }
  const parsed = Plan.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, issues: zodProblems(parsed.error).map((p) => issue('schema', stepOf(p.path), `${file}: ${p.path}: ${p.message}`)) };
  }
  const plan = parsed.data;
  const issues: PlanIssue[] = [];
  const readPng = (name: string, step: number | null): Uint8Array => {
    try {
      return new Uint8Array(readFileSync(join(dir, name)));
    } catch {
      issues.push(issue('missing_keyframe', step, `${file}: ${step === null ? 'observation' : `steps[${step}].keyframe`}: ${join(dir, name)} does not exist`));
      return new Uint8Array(0);
    }
  };
  const draft: PlanDraft = {
    id: plan.id,
    version: plan.version,
    backend: plan.backend,
    createdAt: plan.createdAt,
    ...(plan.scene !== undefined ? { scene: plan.scene } : {}),
    steps: plan.steps.map((s, k) => ({
      index: s.index,
      instruction: s.instruction,
      ...(s.action !== undefined ? { action: s.action } : {}),
      keyframe: readPng(s.keyframe, k),
    })),
  };
  const observation = plan.observation !== undefined ? readPng(plan.observation, null) : undefined;
  const planDir: PlanDir = { dir, plan, draft, ...(observation !== undefined && observation.length > 0 ? { observation } : {}) };
  return { ok: true, planDir, issues };
}

function stepOf(path: string): number | null {
  const m = /^steps\[(\d+)\]/.exec(path);
  return m ? Number(m[1]) : null;
}

/** Strict: the plan directory or a PlanDirError naming the file and every problem. */
export function loadPlanDir(dir: string): PlanDir {
  const read = readPlanDir(dir);
  if (!read.ok || read.issues.length > 0) {
    const problems = read.issues.map((i) => ({ path: i.step === null ? '(plan)' : `steps[${i.step}]`, message: i.message }));
    throw new PlanDirError(`${join(dir, PLAN_FILE)}: invalid plan\n${problems.map((p) => `  ${p.message}`).join('\n')}\n(see plans/plan.schema.json)`, join(dir, PLAN_FILE), problems);
  }
  return read.planDir;
}

export interface WritePlanInput {
  draft: PlanDraft;
  robot: string;
  task: string;
  observation?: Uint8Array;
}

/** Writes plan.json, step-NN.png per step and observation.png; returns the document written. */
export function writePlanDir(dir: string, input: WritePlanInput): Plan {
  mkdirSync(dir, { recursive: true });
  const { draft } = input;
  const width = Math.max(2, String(draft.steps.length).length);
  const name = (k: number) => `step-${String(k).padStart(width, '0')}.png`;
  draft.steps.forEach((s, k) => writeFileSync(join(dir, name(k)), s.keyframe));
  if (input.observation !== undefined) writeFileSync(join(dir, 'observation.png'), input.observation);
  const plan: Plan = {
    format: 'keystep.plan/1',
    id: draft.id,
    version: draft.version,
    robot: input.robot,
    task: input.task,
    ...(draft.scene !== undefined ? { scene: draft.scene } : {}),
    backend: draft.backend,
    createdAt: draft.createdAt,
    ...(input.observation !== undefined ? { observation: 'observation.png' } : {}),
    steps: draft.steps.map((s, k) => ({
      index: s.index,
      instruction: s.instruction,
      ...(s.action !== undefined ? { action: s.action } : {}),
      keyframe: name(k),
    })),
  };
  writeFileSync(join(dir, PLAN_FILE), `${JSON.stringify(plan, null, 2)}\n`);
  return plan;
}
