import { zodProblems } from '../errors/format.js';
import { ErrorBody, PlanResponse, type PlanBody } from '../service/api-schema.js';
import type { PlanDraft, Planner, PlanRequest } from './planner.js';
import { RemotePlannerError } from './remote-planner-error.js';

export interface RemotePlannerOptions {
  /** The service, e.g. http://gpu-host:8080 (its /v1/plans is called). */
  url: string;
  /** Bearer token of a service started with --token-file. */
  token?: string;
  /** The run's sampling seed: the service derives each draft's seeds from it and the plan version, as a run in-process does. */
  seed?: number;
  /** Gives up on one plan after this long (default 10 minutes: a CPU-only service is slow). */
  timeoutMs?: number;
}

export const DEFAULT_REMOTE_TIMEOUT_MS = 600_000;

/**
 * A Planner that plans through a running `keystep serve` (POST /v1/plans): the robot PC keeps the
 * executor, the validator and the robot link; the GPU host draws the plans. The service validates
 * its plan too, but its verdict is not trusted here: the executor validates every draft again before
 * anything is sent. A lost service is a RemotePlannerError, which the executor reports as a planner
 * failure. Each request carries what the in-process planner gets: the picture, the history, the plan
 * version (past 1 the model samples) and, with a redraw, the refused draft and its issues, so that
 * the service repairs it from its first error instead of drawing blind.
 */
export class RemotePlanner implements Planner {
  readonly name = 'remote';
  private readonly endpoint: string;

  constructor(private readonly options: RemotePlannerOptions) {
    this.endpoint = new URL('/v1/plans', options.url).toString();
  }

  /** The same service for a run with another seed (a rollout's episode i plans with seed + i). */
  withSeed(seed: number): RemotePlanner {
    return new RemotePlanner({ ...this.options, seed });
  }

  async plan(request: PlanRequest): Promise<PlanDraft> {
    const body: PlanBody = {
      // The whole profile, so a robot the service has no file for plans as well as a shipped one.
      robot: request.robot as unknown as Record<string, unknown>,
      task: request.task,
      observation: Buffer.from(request.observation).toString('base64'),
      history: [...request.history],
      ...(request.scene !== undefined ? { scene: request.scene } : {}),
      sampling: { seed: this.options.seed ?? 0 },
      version: request.version,
      ...(request.rejected !== undefined && request.rejected.length > 0 && request.previous !== undefined && request.previous.steps.length > 0
        ? { refused: { issues: [...request.rejected], steps: request.previous.steps.map(stepOut) } }
        : {}),
    };
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.options.token !== undefined ? { authorization: `Bearer ${this.options.token}` } : {}) },
        body: JSON.stringify(body),
        signal,
      });
      text = await response.text();
    } catch (cause) {
      if (request.signal?.aborted) throw cause;
      const why = timeout.aborted ? `no answer within ${this.options.timeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS} ms` : causeText(cause);
      throw new RemotePlannerError('unreachable', `cannot reach the planner service at ${this.options.url}: ${why}; is keystep serve running there?`, this.options.url, undefined, { cause });
    }
    const json = parseJson(text);
    if (!response.ok) {
      const error = ErrorBody.safeParse(json);
      const what = error.success ? `${error.data.error}: ${error.data.message}` : text.slice(0, 200);
      const hint = response.status === 401 ? ' (give the service\'s token with --planner-token-file)' : '';
      throw new RemotePlannerError('refused', `the planner service at ${this.options.url} answered ${response.status}: ${what}${hint}`, this.options.url, response.status);
    }
    const parsed = PlanResponse.safeParse(json);
    if (!parsed.success) {
      const first = zodProblems(parsed.error)[0];
      throw new RemotePlannerError('bad_answer', `the planner service at ${this.options.url} answered something that is not a plan (${first ? `${first.path}: ${first.message}` : 'bad body'})`, this.options.url, response.status);
    }
    const plan = parsed.data.plan;
    return {
      id: plan.id,
      version: request.version,
      backend: `remote:${plan.backend}`,
      createdAt: plan.createdAt,
      ...(plan.scene !== undefined ? { scene: plan.scene } : {}),
      steps: plan.steps.map((s) => ({
        index: s.index,
        instruction: s.instruction,
        ...(s.action !== undefined ? { action: s.action } : {}),
        keyframe: new Uint8Array(Buffer.from(s.keyframe, 'base64')),
      })),
    };
  }
}

/** A step of a draft as the API carries it: the keyframe base64. */
function stepOut(step: PlanDraft['steps'][number]): NonNullable<PlanBody['refused']>['steps'][number] {
  return { index: step.index, instruction: step.instruction, ...(step.action !== undefined ? { action: step.action } : {}), keyframe: Buffer.from(step.keyframe).toString('base64') };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** fetch's "fetch failed" hides the socket error in `cause`. */
function causeText(error: unknown): string {
  const e = error as { message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(error);
}
