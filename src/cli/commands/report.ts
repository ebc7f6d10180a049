import { existsSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { RunLog, RunLogError, runFiles } from '../../executor/index.js';
import { runSheet } from '../../run/run-sheet.js';
import { summariseRun, type RunSummary } from '../../run/run-summary.js';
import { verdictLine } from '../../run/run-verdict.js';
import { UsageError } from '../../errors/usage-error.js';
import { parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { EXIT } from '../exit-codes.js';

const help = `keystep report <run> [--runs DIR] [--json]

Prints one run's summary from its events.jsonl (robot, task, outcome, every step attempt with the
robot's verdict, replans) and the path of its contact sheet, sheet.png in the run's folder: the
observation, then every step's keyframe with the verdict. A run without one (keystep run writes none)
gets it now; demo and rollout sheets, which also show the simulator's final state, are kept.

<run> is a run id under the runs folder (as keystep runs lists it, rollout episodes included:
rollout-.../ep0003) or the path of a run's folder.

Options:
  --runs <dir>   the runs folder (default runs)
  --json         print one JSON object: the summary (as keystep runs --json) plus "sheet"
  -h, --help     this text

Exit codes: 0 printed, 2 bad command line, 3 no such run or an unreadable run log.`;

/** A run id under the runs folder, or a run folder's path; ".." never walks out of the runs folder. */
function findRun(runsDir: string, ref: string): { root: string; id: string } {
  const underRuns = !isAbsolute(ref) && !ref.split(/[\\/]/).includes('..');
  if (underRuns && existsSync(join(runsDir, ref, runFiles.events))) return { root: runsDir, id: ref };
  if (existsSync(join(ref, runFiles.events))) return { root: dirname(ref), id: basename(ref) };
  throw new RunLogError(`no run "${ref}" under ${runsDir} and no run folder at ${ref}; keystep runs${runsDir === 'runs' ? '' : ` --runs ${runsDir}`} lists the runs`, join(runsDir, ref, runFiles.events));
}

function summaryText(r: RunSummary, sheet: string | undefined): string {
  const done = r.steps.filter((s) => s.status === 'done').length;
  const verdict = r.state === 'unfinished' ? `UNFINISHED: the log has no finished record (the process was killed?); keystep run --resume ${r.id} continues it` : verdictLine(r.state === 'unreadable' ? 'failed' : r.state, r.reason);
  return [
    `run       ${r.id} (${r.dir})`,
    `robot     ${r.robot ?? '?'}${r.scene ? `, scene ${r.scene}` : ''}${r.backend ? `, backend ${r.backend}` : ''}${r.seed !== undefined ? `, seed ${r.seed}` : ''}`,
    `task      "${r.task ?? '?'}"`,
    `time      ${r.startedAt ?? '?'} .. ${r.lastEventAt ?? '?'}${r.resumes > 0 ? ` (resumed ${r.resumes}x)` : ''}`,
    `outcome   ${verdict}`,
    `steps     ${r.steps.length} attempts, ${done} done, ${r.replans} replans, ${r.planVersions} plan versions`,
    ...r.steps.map((s) => `  step ${String(s.stepIndex).padStart(2)} (v${s.planVersion}, attempt ${s.attempt}) ${s.instruction} -> ${s.status === 'done' ? 'done' : s.status.toUpperCase()}${s.reason && s.reason !== s.status ? `: ${s.reason}` : ''}`),
    `sheet     ${sheet ?? 'none: the run has no observation and no step'}`,
  ].join('\n');
}

export const reportCommand: Command = {
  help,
  async run(argv, io) {
    const { values, positionals } = parseFlags('report', argv, { runs: { type: 'string' }, json: { type: 'boolean' } }, true);
    if (values.help) {
      io.out(help);
      return EXIT.ok;
    }
    if (positionals.length !== 1) throw new UsageError('give exactly one run, e.g. keystep report 2026-01-05-10-00-00-3fa2c1 (keystep runs lists them)', 'report');
    const { root, id } = findRun(values.runs ?? 'runs', positionals[0]!);
    const summary = summariseRun(root, id);
    if (summary.state === 'unreadable') throw new RunLogError(summary.reason ?? `cannot read ${join(summary.dir, runFiles.events)}`, join(summary.dir, runFiles.events));
    let sheet: string | undefined = join(summary.dir, 'sheet.png');
    if (!existsSync(sheet)) {
      const png = await runSheet(RunLog.open(root, id), `run ${summary.id} · ${summary.robot ?? '?'} · "${summary.task ?? '?'}" · ${summary.state}`);
      if (png) writeFileSync(sheet, png);
      else sheet = undefined;
    }
    io.out(values.json ? JSON.stringify({ ...summary, sheet: sheet ?? null }) : summaryText(summary, sheet));
    return EXIT.ok;
  },
};
