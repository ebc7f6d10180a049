import type { PlanProgress } from '../planner/plan-progress.js';
import type { PlanDraft, Planner, PlanRequest } from '../planner/planner.js';
import type { DrawingFrame } from './plan-stream-frames.js';
import { framesOf } from './progress-frames.js';

export type DrawingWatcher = (frame: DrawingFrame) => void;

/** The plan a run is drawing now: its version, and its step texts once settled (for a watcher that comes late). */
interface Drawing {
  version: number;
  texts: readonly string[];
}

/**
 * The plans the service's runs are drawing, told as they are drawn to whoever watches the run
 * (GET /v1/runs/{id}/drawing). Nothing is written, and nothing is kept but the step texts of the
 * drawing in progress: the run log stays the only record of a run.
 */
export class RunDrawings {
  private readonly watchers = new Map<string, Set<DrawingWatcher>>();
  private readonly current = new Map<string, Drawing>();

  /** Frames of the run's drawings from now on; a drawing in progress starts with its `begin` and step texts. */
  watch(runId: string, watcher: DrawingWatcher): () => void {
    let watching = this.watchers.get(runId);
    if (!watching) this.watchers.set(runId, (watching = new Set()));
    watching.add(watcher);
    const now = this.current.get(runId);
    if (now) {
      watcher({ type: 'begin', version: now.version });
      now.texts.forEach((instruction, index) => watcher({ type: 'step', index, instruction }));
    }
    return () => {
      watching.delete(watcher);
      if (watching.size === 0 && this.watchers.get(runId) === watching) this.watchers.delete(runId);
    };
  }

  /** The run's planner, its progress told to the run's watchers; the plan it returns is the planner's own. */
  planner(runId: string, planner: Planner): Planner {
    return { name: planner.name, plan: (request) => this.draw(runId, planner, request) };
  }

  private async draw(runId: string, planner: Planner, request: PlanRequest): Promise<PlanDraft> {
    const drawing: Drawing = { version: request.version, texts: [] };
    this.current.set(runId, drawing);
    const tell = (frame: DrawingFrame) => {
      for (const watcher of this.watchers.get(runId) ?? []) watcher(frame);
    };
    tell({ type: 'begin', version: drawing.version });
    // Pictures are painted after the pass that asked, and only for someone watching: chained, so frames keep their order.
    let told = Promise.resolve();
    const onProgress = (progress: PlanProgress) => {
      request.onProgress?.(progress);
      if (progress.type === 'texts') drawing.texts = [...progress.texts];
      if (!this.watchers.has(runId)) return;
      told = told.then(async () => (await framesOf(progress)).forEach(tell)).catch(() => undefined);
    };
    let drawn = false;
    try {
      const draft = await planner.plan({ ...request, onProgress });
      drawn = true;
      return draft;
    } finally {
      await told;
      if (this.current.get(runId) === drawing) this.current.delete(runId);
      tell({ type: 'end', version: drawing.version, drawn });
    }
  }
}
