import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RunLog, runFiles, type RunEvent, type StepRecord } from '../executor/index.js';
import { verdictOf, type RunVerdict } from './run-verdict.js';

/** Where a run stands by its log: a verdict, or no `finished` record yet (killed: `--resume` it). */
export type RunState = RunVerdict | 'unfinished' | 'unreadable';

/** One run as `keystep runs` lists it and `keystep report` prints it, read from its events.jsonl. */
export interface RunSummary {
  /** The run's folder under the runs folder: "<run-id>", or "rollout-.../ep0003" for an episode. */
  id: string;
  dir: string;
  robot?: string;
  task?: string;
  scene?: string;
  backend?: string;
  seed?: number;
  /** ISO time of the first and the last event. */
  startedAt?: string;
  lastEventAt?: string;
  state: RunState;
  reason?: string;
  /** Step attempts, oldest first (from the report, or from the feedback logged so far). */
  steps: Omit<StepRecord, 'holding'>[];
  replans: number;
  planVersions: number;
  resumes: number;
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** Reads `<runsDir>/<id>/events.jsonl`; a log that cannot be read is a summary saying so, not a throw. */
export function summariseRun(runsDir: string, id: string): RunSummary {
  const dir = join(runsDir, id);
  let events: RunEvent[];
  try {
    events = RunLog.open(runsDir, id).readEvents().events;
  } catch (error) {
    return { id, dir, state: 'unreadable', reason: (error as Error).message, steps: [], replans: 0, planVersions: 0, resumes: 0 };
  }
  const started = events.find((e) => e.type === 'run_started');
  const finished = events.findLast((e) => e.type === 'finished');
  const report = finished?.type === 'finished' ? finished.report : undefined;
  const logged = events.flatMap((e) =>
    e.type === 'step_feedback'
      ? [{ stepIndex: e.stepIndex, attempt: e.attempt, instruction: e.instruction, status: e.status, planVersion: e.planVersion, ...(e.reason !== undefined ? { reason: e.reason } : {}) }]
      : [],
  );
  const steps = (report?.steps ?? logged).map(({ holding: _holding, ...s }: StepRecord) => s);
  return {
    id,
    dir,
    ...(started?.type === 'run_started'
      ? {
          robot: started.robot,
          task: started.task,
          ...(started.scene !== undefined ? { scene: started.scene } : {}),
          ...(started.backend !== undefined ? { backend: started.backend } : {}),
          ...(started.seed !== undefined ? { seed: started.seed } : {}),
        }
      : {}),
    ...(events[0]?.at !== undefined ? { startedAt: iso(events[0].at)! } : {}),
    ...(events.at(-1)?.at !== undefined ? { lastEventAt: iso(events.at(-1)!.at)! } : {}),
    state: report ? verdictOf(report) : 'unfinished',
    ...(report?.reason !== undefined ? { reason: report.reason } : {}),
    steps,
    replans: report?.replans ?? events.filter((e) => e.type === 'replan').length,
    planVersions: report?.planVersions ?? events.filter((e) => e.type === 'plan_created').length,
    resumes: events.filter((e) => e.type === 'run_resumed').length,
  };
}

const hasLog = (dir: string) => existsSync(join(dir, runFiles.events));

/**
 * Every run under the runs folder, oldest first: its own runs, and the episodes one level down in a
 * rollout's folder ("rollout-.../ep0000"). An absent folder has no runs.
 */
export function listRuns(runsDir: string): RunSummary[] {
  if (!existsSync(runsDir)) return [];
  const ids: string[] = [];
  for (const entry of readdirSync(runsDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    if (hasLog(join(runsDir, entry.name))) {
      ids.push(entry.name);
      continue;
    }
    for (const sub of readdirSync(join(runsDir, entry.name), { withFileTypes: true })) {
      if (sub.isDirectory() && hasLog(join(runsDir, entry.name, sub.name))) ids.push(`${entry.name}/${sub.name}`);
    }
  }
  return ids.map((id) => summariseRun(runsDir, id)).sort((a, b) => (a.startedAt ?? '').localeCompare(b.startedAt ?? '') || a.id.localeCompare(b.id));
}
