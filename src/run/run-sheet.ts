import { contactSheet, type SheetTile } from '../image/contact-sheet.js';
import type { RunLog } from '../executor/index.js';

/**
 * A run as people look at it: the first observation, then every step's keyframe with the robot's
 * verdict on it, then the final state. `npm start` writes one per demo run, `keystep rollout` one per
 * episode (a cleared table reads better as twelve keyframes than as a success count).
 */
export async function runSheet(log: RunLog, finalFrame: Uint8Array, goal: boolean, title: string): Promise<Buffer> {
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
  tiles.push({ image: finalFrame, caption: goal ? 'final state: goal reached' : 'final state: goal NOT reached' });
  return contactSheet(tiles, { title, columns: 4 });
}
