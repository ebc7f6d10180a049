import { contactSheet, type LegendEntry, type SheetTile } from '../image/contact-sheet.js';
import type { RunLog } from '../executor/index.js';
import type { StepOutcome } from '../schema/index.js';

/** A step's frame colour by the robot's verdict; a step with no verdict (the run stopped) gets none. */
export const VERDICT_FRAMES: Record<StepOutcome, string> = {
  done: '#2e9d44',
  miss: '#d7301f',
  rejected: '#f39c12',
  timeout: '#f39c12',
  cancelled: '#8c8c8c',
};
const GOAL = { reached: '#2e9d44', missed: '#d7301f' };

/** The legend of every sheet with verdict frames: what each colour means and what the notes say. */
export const VERDICT_LEGEND: { legend: LegendEntry[]; legendNotes: string[] } = {
  legend: [
    { colour: VERDICT_FRAMES.done, label: 'done: the outcome matches the keyframe (final state: goal reached)' },
    { colour: VERDICT_FRAMES.miss, label: 'miss: acted, the outcome differs (final state: goal not reached)' },
    { colour: VERDICT_FRAMES.rejected, label: 'rejected or timeout: did not act, or no answer' },
    { colour: VERDICT_FRAMES.cancelled, label: 'cancelled' },
    { colour: '#e0e0e0', label: 'no frame: no verdict (the observation, a step still in flight)' },
  ],
  legendNotes: ['Under each picture: the step, the plan version it came from (a new version after each replan) and the robot\'s verdict with its reason.'],
};

/** The frame of a step whose verdict is `status` (undefined: none yet). */
export function verdictFrame(status: StepOutcome | undefined): string | undefined {
  return status === undefined ? undefined : VERDICT_FRAMES[status];
}

/** The picture of how a run ended, when someone saw it (the simulator does; a log alone does not). */
export interface RunEnd {
  frame: Uint8Array;
  goal: boolean;
}

/**
 * A run as people look at it: the first observation, then every step's keyframe with the robot's
 * verdict on it, then the final state when it is known. `npm start` writes one per demo run, `keystep
 * rollout` one per episode (a cleared table reads better as twelve keyframes than as a success count),
 * `keystep report` one for any run from its log. Undefined when the run has no picture at all.
 */
export async function runSheet(log: RunLog, title: string, end?: RunEnd): Promise<Buffer | undefined> {
  const { events } = log.readEvents();
  const tiles: SheetTile[] = [];
  const first = events.find((e) => e.type === 'observed');
  if (first?.type === 'observed') tiles.push({ image: log.readFile(first.file), caption: 'observation' });
  const outcomes = new Map<string, { status: StepOutcome; text: string }>();
  for (const e of events) if (e.type === 'step_feedback') outcomes.set(e.stepId, { status: e.status, text: e.reason ? `${e.status}: ${e.reason}` : e.status });
  for (const e of events) {
    if (e.type !== 'step_dispatched' || e.redispatch) continue;
    const outcome = outcomes.get(e.stepId);
    const frame = verdictFrame(outcome?.status);
    tiles.push({ image: log.readFile(e.keyframe), caption: `${e.stepIndex + 1}. ${e.instruction}`, note: `plan v${e.planVersion} · ${outcome?.text ?? 'no feedback'}`, ...(frame ? { frame } : {}) });
  }
  if (end) tiles.push({ image: end.frame, caption: end.goal ? 'final state: goal reached' : 'final state: goal NOT reached', frame: end.goal ? GOAL.reached : GOAL.missed });
  return tiles.length === 0 ? undefined : contactSheet(tiles, { title, columns: 4, ...VERDICT_LEGEND });
}
