import type { RunRecord } from '../executor/index.js';
import { verdictLine, verdictOf } from '../run/run-verdict.js';

/** One terminal line for the run events a person wants to watch; undefined for the rest. */
export function progressLine(record: RunRecord): string | undefined {
  const e = record.event;
  switch (e.type) {
    case 'run_started':
      return `run ${e.runId}: ${e.robot}, "${e.task}"${e.backend ? `, backend ${e.backend}` : ''} (replan limit ${e.limits.maxReplans}, step timeout ${e.limits.stepTimeoutMs} ms)`;
    case 'run_resumed': {
      const so = `${e.replans} replan${e.replans === 1 ? '' : 's'} so far`;
      switch (e.next?.action) {
        case 'resend':
          return `resumed at step ${e.next.stepIndex} (attempt ${e.next.attempt}, ${so}): re-sending it with its step id; a robot that already ran it answers with its result instead of acting again`;
        case 'send':
          return `resumed at step ${e.next.stepIndex} (attempt ${e.next.attempt}, ${so}): sending it`;
        case 'plan':
          return `resumed (${so}): planning again from a new camera frame; the new plan starts at step ${e.next.stepIndex}`;
        case undefined:
          return `resumed from the log (${so}, from ${e.start})`;
      }
      break;
    }
    case 'observed':
      return undefined;
    case 'plan_created':
      return `plan v${e.version}: ${e.plan.steps.length} steps${e.retry > 0 ? ` (retry ${e.retry} after validation)` : ''}`;
    case 'plan_validated':
      if (e.ok && e.prefix !== undefined) {
        return `plan v${e.version}: running its first ${e.prefix} step${e.prefix === 1 ? '' : 's'} (validated on their own), then planning again`;
      }
      return e.ok
        ? e.issues.length > 0
          ? `plan v${e.version} valid with ${e.issues.length} warning(s): ${e.issues.map((i) => i.message).join('; ')}`
          : undefined
        : `plan v${e.version} rejected: ${e.issues.filter((i) => i.severity === 'error').map((i) => `${i.code} ${i.message}`).join('; ')}`;
    case 'step_dispatched':
      return e.redispatch ? `  step ${e.stepIndex} re-sent with the same step id: ${e.instruction}` : undefined;
    case 'step_feedback': {
      const mark = e.status === 'done' ? 'done' : e.status.toUpperCase();
      return `  step ${String(e.stepIndex).padStart(2)} (v${e.planVersion}, attempt ${e.attempt}) ${e.instruction} -> ${mark}${e.reason ? `: ${e.reason}` : ''}`;
    }
    case 'replan':
      return `replanning (${e.replans}/${e.limit}) after step ${e.after.stepIndex} ${e.after.status}`;
    case 'plan_continued':
      // After a prefix of a refused draft, or a plan that stopped short of the task.
      return `plan done after step ${e.afterStep}, task not finished: planning again (${e.continuations}/${e.limit})`;
    case 'approval_requested':
      return e.scope === 'plan'
        ? `waiting for approval of plan v${e.planVersion} (${e.steps.length} step${e.steps.length === 1 ? '' : 's'} from step ${e.stepIndex})`
        : `waiting for approval of step ${e.stepIndex} (v${e.planVersion}, attempt ${e.attempt}): ${e.steps[0] ?? ''}`;
    case 'approval_given':
      return e.scope === 'plan' ? `plan v${e.planVersion} approved` : `step ${e.stepIndex} approved`;
    case 'approval_refused':
      return `${e.scope === 'plan' ? `plan v${e.planVersion}` : `step ${e.stepIndex}`} refused by the operator${e.note ? `: ${e.note}` : ''}${e.abort ? '; aborting' : '; replanning'}`;
    case 'paused':
      return 'paused';
    case 'resumed':
      return 'resumed';
    case 'connection_lost':
      return 'connection lost: dispatch paused, reconnecting...';
    case 'connection_restored':
      return 'connection restored';
    case 'bad_message':
      return e.count === 1 ? `ignored a bad message on ${e.topic}: ${e.reason}` : undefined;
    case 'finished': {
      const r = e.report;
      const continued = r.continuations ? `, ${r.continuations} partial plans continued` : '';
      return `${verdictLine(verdictOf(r), r.reason)} (${r.steps.length} step attempts, ${r.replans} replans${continued}, ${r.planVersions} plan versions)`;
    }
    default: {
      const never: never = e;
      return never;
    }
  }
}

/** "[#########.........] 37/100" */
export function progressBar(done: number, total: number, width = 30): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}
