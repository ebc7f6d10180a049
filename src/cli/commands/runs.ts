import { listRuns, type RunSummary } from '../../run/run-summary.js';
import { parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { EXIT } from '../exit-codes.js';

const help = `keystep runs [--runs DIR] [--json]

Lists the runs under the runs folder, oldest first, with their outcome read from each run's
events.jsonl: succeeded, nothing_to_do, failed, aborted, unfinished (no finished record: the process
was killed; keystep run --resume <run-id> continues it) or unreadable. Rollout episodes are listed as
rollout-.../epNNNN.

Options:
  --runs <dir>   the runs folder (default runs)
  --json         print one JSON array: { id, dir, robot, task, scene, backend, seed, startedAt,
                 lastEventAt, state, reason, steps, replans, planVersions, resumes } per run
  -h, --help     this text

keystep report <run> prints one run and writes its contact sheet.`;

function line(r: RunSummary, idWidth: number): string {
  const done = r.steps.filter((s) => s.status === 'done').length;
  const when = r.startedAt ? r.startedAt.slice(0, 19).replace('T', ' ') : '?'.padEnd(19);
  const what = r.state === 'unreadable' ? (r.reason ?? '') : `${r.robot ?? '?'} "${r.task ?? '?'}"`;
  return `${r.id.padEnd(idWidth)}  ${when}  ${r.state.replace(/_/g, ' ').toUpperCase().padEnd(13)}  ${`${done}/${r.steps.length}`.padStart(7)}  ${what}`;
}

export const runsCommand: Command = {
  help,
  async run(argv, io) {
    const { values } = parseFlags('runs', argv, { runs: { type: 'string' }, json: { type: 'boolean' } });
    if (values.help) {
      io.out(help);
      return EXIT.ok;
    }
    const runsDir = values.runs ?? 'runs';
    const runs = listRuns(runsDir);
    if (values.json) {
      io.out(JSON.stringify(runs));
      return EXIT.ok;
    }
    if (runs.length === 0) {
      io.out(`no runs under ${runsDir}`);
      return EXIT.ok;
    }
    const width = Math.max(3, ...runs.map((r) => r.id.length));
    io.out(`${'run'.padEnd(width)}  ${'started (UTC)'.padEnd(19)}  ${'outcome'.padEnd(13)}  ${'done'.padStart(7)}  robot "task"`);
    for (const r of runs) io.out(line(r, width));
    return EXIT.ok;
  },
};
