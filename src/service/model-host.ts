import { openWorldModel } from '../model/open-model.js';
import type { PlanningModel } from '../model/planning-model.js';
import type { ModelSource } from '../model/world-model.js';
import { ServiceError } from './service-error.js';

export type ModelState = 'loading' | 'ready' | 'failed' | 'none';

/**
 * The embedded world model the service plans with, opened once in the background at start-up, so
 * the service answers /healthz at once and /readyz says when plans can be served. Every plan and
 * every onnx run shares it.
 */
export class ModelHost {
  private state: ModelState;
  private error: string | undefined;
  private readonly opening: Promise<PlanningModel> | null;

  /** `source` null: no embedded model; onnx plans and runs are refused with 503. */
  constructor(readonly source: ModelSource | null, open: (source: ModelSource) => Promise<PlanningModel> = (s) => openWorldModel(s)) {
    if (source === null) {
      this.state = 'none';
      this.opening = null;
      return;
    }
    this.state = 'loading';
    this.opening = open(source).then(
      (model) => {
        this.state = 'ready';
        return model;
      },
      (cause: unknown) => {
        this.state = 'failed';
        this.error = (cause as Error).message;
        throw cause;
      },
    );
    // Failures are reported by status() and model(); nobody may be awaiting yet.
    this.opening.catch(() => undefined);
  }

  get devices(): string[] {
    return [...(this.source?.devices ?? ['cpu'])];
  }

  status(): { state: ModelState; error?: string } {
    return { state: this.state, ...(this.error !== undefined ? { error: this.error } : {}) };
  }

  /** The model once it is open; a 503 when there is none or it failed to open. */
  async model(): Promise<PlanningModel> {
    if (this.opening === null) throw new ServiceError(503, 'unavailable', 'this service runs without an embedded model (started with no model); the onnx backend is not available');
    try {
      return await this.opening;
    } catch (cause) {
      throw new ServiceError(503, 'unavailable', `the embedded model failed to open: ${(cause as Error).message}`, [], { cause });
    }
  }

  async close(): Promise<void> {
    if (this.opening === null) return;
    const model = await this.opening.catch(() => null);
    await model?.close();
  }
}
