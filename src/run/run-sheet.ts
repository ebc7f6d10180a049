import { contactSheet, type SheetTile } from '../image/contact-sheet.js';
import type { RunLog } from '../executor/index.js';

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
  const outcomes = new Map<string, string>();
  for (const e of events) if (e.type === 'step_feedback') outcomes.set(e.stepId, e.reason ? `${e.status}: ${e.reason}` : e.status);
  for (const e of events) {
    if (e.type !== 'step_dispatched' || e.redispatch) continue;
    tiles.push({ image: log.readFile(e.keyframe), caption: `${e.stepIndex + 1}. ${e.instruction}`, note: `plan v${e.planVersion} · ${outcomes.get(e.stepId) ?? 'no feedback'}` });
  }
  if (end) tiles.push({ image: end.frame, caption: end.goal ? 'final state: goal reached' : 'final state: goal NOT reached' });
  return tiles.length === 0 ? undefined : contactSheet(tiles, { title, columns: 4 });
}
