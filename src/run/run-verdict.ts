import { RunVerdict, type RunReport } from '../executor/index.js';

export { RunVerdict };

/**
 * The run's verdict as its `finished` record states it; logs written before the record carried one
 * get the same rule: succeeded with no step sent is `nothing_to_do`.
 */
export function verdictOf(report: Pick<RunReport, 'outcome' | 'steps' | 'verdict'>): RunVerdict {
  if (report.verdict !== undefined) return report.verdict;
  return report.outcome === 'succeeded' && report.steps.length === 0 ? 'nothing_to_do' : report.outcome;
}

/** One line for a person: "SUCCEEDED", "NOTHING TO DO: ...", "FAILED: <reason>". */
export function verdictLine(verdict: RunVerdict, reason?: string): string {
  if (verdict === 'nothing_to_do') return 'NOTHING TO DO: the task is already done in the camera picture; nothing was sent to the robot';
  return `${verdict.toUpperCase()}${reason ? `: ${reason}` : ''}`;
}
