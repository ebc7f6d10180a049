import { repairFrom, type HistoryEntry, type PlanIssue, type PlanRequest } from '../planner/planner.js';

/**
 * Where one draft stands among the planner's tries: which draft of which plan version it is, whether
 * it repairs the draft before it, and what the run's history says to avoid. Derived from the previous
 * draft's attempt and the request (nextAttempt); the planner keeps the latest one between calls.
 */
export interface PlanAttempt {
  /** The plan version this draft is for. */
  readonly version: number;
  /** Drafts of this version before this one: the validator refused them. */
  readonly draft: number;
  /**
   * Not the run's first draft of its first plan: a validator refusal or a replan after a miss. Greedy
   * decoding would draw the same plan again from the same picture, so a retry samples.
   */
  readonly retry: boolean;
  /** Repairs in a row, this one included; 0 when this draft draws every step anew. */
  readonly repairs: number;
  /** Steps of `request.previous` this draft keeps; 0 = none. */
  readonly keep: number;
  /**
   * The step (by PutOffRule.subjectOf) the robot failed `after` times in a row, which the plan should
   * not start with; null = none.
   */
  readonly putOff: { readonly subject: string; readonly after: number } | null;
  /** The step the robot just failed (the text of the last history entry), drawn bolder; null = none. */
  readonly missed: string | null;
  /**
   * Steps the robot refused without moving (status `rejected`) at the end of the history, with its
   * reasons: nothing has changed since, so the robot would refuse each of them again, and the plan
   * should not start with one (robotRefusalIssue).
   */
  readonly refusedByRobot: readonly { readonly instruction: string; readonly reason?: string }[];
}

/** When a step counts as stuck (OnnxPlannerOptions.putOffAfter, stepSubject). */
export interface PutOffRule {
  /** Failures in a row; 0 = never put a step off. */
  after: number;
  /** What a step acts on: steps with the same subject are the same step. */
  subjectOf: (instruction: string) => string;
}

/**
 * The attempt `request` makes after `last` (null before the planner's first draft).
 *
 * A repair keeps the refused draft's steps before its first error and redraws from there. When a
 * repair is refused again, the fault may lie in the picture the failing step starts from (keyframes
 * drift along a chain), so each further repair in a row starts one step earlier, never before step 1.
 * The streak is counted across plan versions: only a draft that is no repair ends it.
 */
export function nextAttempt(last: PlanAttempt | null, request: PlanRequest, putOff: PutOffRule): PlanAttempt {
  const draft = last !== null && last.version === request.version ? last.draft + 1 : 0;
  const firstError = request.previous ? repairFrom(request.rejected, request.previous.steps.length) : 0;
  const repairs = firstError > 0 ? (last?.repairs ?? 0) + 1 : 0;
  const stuck = stuckStep(request.history, putOff.after, putOff.subjectOf);
  return {
    version: request.version,
    draft,
    retry: draft > 0 || request.version > 1,
    repairs,
    keep: firstError > 0 ? Math.max(1, firstError - (repairs - 1)) : 0,
    putOff: stuck === null ? null : { subject: stuck, after: putOff.after },
    missed: stuckStep(request.history, 1),
    refusedByRobot: refusedSinceLastMove(request.history),
  };
}

/** The `rejected` entries at the end of `history`, oldest first: what the robot refused since it last moved. */
function refusedSinceLastMove(history: readonly HistoryEntry[]): PlanAttempt['refusedByRobot'] {
  const refused: { instruction: string; reason?: string }[] = [];
  for (let i = history.length - 1; i >= 0 && history[i]!.status === 'rejected'; i--) {
    const { instruction, reason } = history[i]!;
    refused.unshift({ instruction, ...(reason !== undefined ? { reason } : {}) });
  }
  return refused;
}

/**
 * The temperature draw `draw` of an attempt samples at, or undefined for the caller's default (greedy
 * text, the sampler's own keyframe temperature). A retry samples from its first draw, and so does every
 * redraw of refused texts or a refused keyframe: greedy would draw the refused one again. A
 * `retryTemperature` of 0 keeps every draw at the default.
 */
export function drawTemperature(attempt: PlanAttempt, draw: number, retryTemperature: number): number | undefined {
  return (attempt.retry || draw > 0) && retryTemperature > 0 ? retryTemperature : undefined;
}

/**
 * The put-off step as an error of `texts` when their first written step (after `first` kept ones) is
 * it, so that the text redraws ask the model for its best other first step that passes; null when
 * there is nothing to put off.
 */
export function putOffIssue(attempt: PlanAttempt, texts: readonly string[], first: number, subjectOf: (instruction: string) => string): PlanIssue | null {
  const text = texts[first];
  if (attempt.putOff === null || text === undefined || subjectOf(text) !== attempt.putOff.subject) return null;
  return { code: 'put_off', severity: 'error', step: first, message: `"${text}" failed ${attempt.putOff.after} or more times in a row; another step first` };
}

/**
 * A refusal of `texts` when their first step is one the robot refused since it last moved, so that
 * the text redraws ask the model for its best other first step (another arm, another object): sent
 * again unchanged, it would be refused again. Only the first step: later ones run after the robot
 * has moved. Null otherwise.
 */
export function robotRefusalIssue(attempt: PlanAttempt, texts: readonly string[]): PlanIssue | null {
  const text = texts[0];
  const refusal = attempt.refusedByRobot.find((r) => r.instruction === text);
  if (refusal === undefined) return null;
  const why = refusal.reason !== undefined ? ` (${refusal.reason})` : '';
  return { code: 'robot_refused', severity: 'error', step: 0, message: `the robot refused "${text}"${why} and has not moved since; another step first` };
}

/**
 * The step the robot failed `times` times or more in a row at the end of `history` (misses, refusals,
 * timeouts since the last done step, all with the same `key`: by default the text), or null.
 */
export function stuckStep(history: readonly HistoryEntry[], times: number, key: (instruction: string) => string = (t) => t): string | null {
  if (times <= 0) return null;
  let count = 0;
  let stuck: string | null = null;
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i]!;
    if (h.status === 'done' || h.status === 'cancelled' || (stuck !== null && key(h.instruction) !== stuck)) break;
    stuck = key(h.instruction);
    count++;
  }
  return count >= times ? stuck : null;
}

/**
 * What the text draws of one draft have learned: the latest draw's first refused step and, per prefix
 * of steps, every text refused right after it, so that an alternative once refused stays refused.
 */
export class TextRefusals {
  /** The latest draw's texts and its first refused step; null when it passed or the plan as a whole was refused. */
  private latestRefusal: { readonly texts: readonly string[]; readonly step: number } | null = null;
  private readonly refusedAfter = new Map<string, string[]>();

  get latest(): { readonly texts: readonly string[]; readonly step: number } | null {
    return this.latestRefusal;
  }

  /**
   * Notes a draw's errors (those in the steps it wrote). An error of the whole plan (step null) names
   * no step to depart from, so it leaves no refusal to go by.
   */
  note(texts: readonly string[], errors: readonly PlanIssue[]): void {
    const steps = errors.map((i) => i.step);
    this.latestRefusal = errors.length > 0 && !steps.includes(null) ? { texts: [...texts], step: Math.min(...(steps as number[])) } : null;
  }

  /** Records `text` as refused right after `prefix`, and returns every text refused there so far. */
  refuse(prefix: readonly string[], text: string): readonly string[] {
    const key = prefix.join('\n');
    const refused = this.refusedAfter.get(key) ?? [];
    this.refusedAfter.set(key, refused);
    refused.push(text);
    return [...refused];
  }
}
