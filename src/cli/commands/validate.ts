import { loadProfile } from '../../profile/load.js';
import { validateDraft } from '../../validate/validate-draft.js';
import { isPlanDirError } from '../../validate/plan-dir-error.js';
import { readPlanDir } from '../../validate/plan-dir.js';
import type { PlanIssue } from '../../schema/plan-issue.js';
import { parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { UsageError } from '../../errors/usage-error.js';

const help = `keystep validate <plan-dir> [--robot <id>] [--json]

Checks a saved plan (plan.json and its step PNGs) before anything moves: structure, what the robot can
do, that every instruction parses, step order, keyframes (readable, not blank or noise, objects kept,
one change per step), safety (workspace, forbidden zones, duration) and whether the plan finishes its
task (a warning: what is known left undone in the end state).

Exit status: 0 valid (warnings allowed), 1 invalid, 2 bad command line, 3 unreadable plan (no
plan.json, not JSON, or breaking the plan format) or profile.

Options:
  --robot <id>   robot profile to check against (default: the plan's "robot")
  --json         print { "ok": boolean, "issues": [ { "code", "severity", "step", "message" } ] }
  -h, --help     this text`;

function line(i: PlanIssue): string {
  return `  ${i.severity.padEnd(7)} ${i.step === null ? 'plan   ' : `step ${String(i.step).padEnd(2)}`} ${i.code}: ${i.message}`;
}

export const validateCommand: Command = {
  help,
  async run(argv, io) {
    const { values, positionals } = parseFlags('validate', argv, { robot: { type: 'string' }, json: { type: 'boolean' } }, true);
    if (values.help) {
      io.out(help);
      return EXIT.ok;
    }
    if (positionals.length !== 1) throw new UsageError('give exactly one plan directory, e.g. keystep validate plans/fold-1', 'validate');
    const dir = positionals[0]!;
    let read: ReturnType<typeof readPlanDir>;
    try {
      read = readPlanDir(dir);
    } catch (error) {
      if (!isPlanDirError(error)) throw error;
      io.err(`keystep validate: ${error.message}`);
      return EXIT.config;
    }
    if (!read.ok) {
      // plan.json breaks the schema: there is no plan to judge, only a file to fix (exit 3, not INVALID).
      if (values.json) io.out(JSON.stringify({ ok: false, issues: read.issues.map(({ code, severity, step, message }) => ({ code, severity, step, message })) }));
      io.err(`keystep validate: ${dir}/plan.json does not follow the plan format (see plans/plan.schema.json):`);
      for (const i of read.issues) io.err(line(i));
      return EXIT.config;
    }
    const { plan, draft, observation } = read.planDir;
    const robot = loadProfile(values.robot ?? plan.robot);
    const result = await validateDraft({ plan: draft, robot, task: plan.task, ...(observation !== undefined ? { observation } : {}) });
    const issues: PlanIssue[] = [...read.issues, ...(result.issues as PlanIssue[])];
    const ok = !issues.some((i) => i.severity === 'error');
    if (values.json) {
      io.out(JSON.stringify({ ok, issues: issues.map(({ code, severity, step, message }) => ({ code, severity, step, message })) }));
    } else {
      const errors = issues.filter((i) => i.severity === 'error').length;
      const warnings = issues.length - errors;
      io.out(`${dir}: ${ok ? 'valid' : 'INVALID'} (${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'})`);
      for (const i of issues) io.out(line(i));
    }
    return ok ? EXIT.ok : EXIT.failed;
  },
};
