import type { RunReport } from '../executor/index.js';

/** What a run came to, as people read it. */
export type RunVerdict = RunReport['outcome'] | 'nothing_to_do';

/**
 * The executor ends a run whose first plan is empty and passes validation (the task is already done
 * in the picture) as succeeded; it did nothing, and says so: `nothing_to_do`, never SUCCEEDED with 0
 * steps.
 */
export function verdictOf(report: Pick<RunReport, 'outcome' | 'steps'>): RunVerdict {
  return report.outcome === 'succeeded' && report.steps.length === 0 ? 'nothing_to_do' : report.outcome;
}

/** One line for a person: "SUCCEEDED", "NOTHING TO DO: ...", "FAILED: <reason>". */
export function verdictLine(verdict: RunVerdict, reason?: string): string {
  if (verdict === 'nothing_to_do') return 'NOTHING TO DO: the task is already done in the camera picture; nothing was sent to the robot';
  return `${verdict.toUpperCase()}${reason ? `: ${reason}` : ''}`;
}
