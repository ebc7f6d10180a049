import sharp from 'sharp';
import WebSocket from 'ws';
import { keyframeSizeOf, rgbToPng, toModelRgb, type ImageSize } from '../model/image-io.js';
import type { Planner, PlanDraft, PlanRequest } from '../planner/planner.js';
import type { PlannedStep } from '../schema/index.js';
import { WorkerAnswer, WorkerMetadata, type WorkerPlanRequest } from './worker-protocol.js';

/** A worker that cannot be reached, speaks another protocol, fails a request or hangs up. */
export class WorkerError extends Error {
  override readonly name = 'WorkerError' as const;
  constructor(
    message: string,
    readonly url: string,
    readonly code = 'worker_failed',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface WorkerPlannerOptions {
  /** Connecting and reading the metadata frame, ms (default 10 s). */
  connectTimeoutMs?: number;
  /** Sent with every request (WorkerPlanRequest.seed); withSeed() gives a planner with another on the same connection. */
  seed?: number;
}

interface Connection {
  socket: WebSocket;
  metadata: WorkerMetadata;
}

/**
 * A planner backend served by a model worker (worker-protocol.ts): one WebSocket, opened on the first
 * plan and again after it is lost, requests sent one at a time. The observation goes out at the
 * worker's picture size; keyframes come back at it and leave as the embedded model's do, at the
 * robot's keyframe camera size. Progress frames become PlanRequest.onProgress events.
 */
export class WorkerPlanner implements Planner {
  readonly name = 'worker';
  private connection: Promise<Connection> | null = null;
  private turn: Promise<unknown> = Promise.resolve();
  private seq = 0;

  constructor(
    readonly url: string,
    private readonly options: WorkerPlannerOptions = {},
  ) {}

  /** The worker's metadata frame (connects if needed). */
  async metadata(): Promise<WorkerMetadata> {
    return (await this.connect()).metadata;
  }

  /** This planner's connection and queue, with `seed` sent on its requests: one per request of a service. */
  withSeed(seed: number): Planner {
    return { name: this.name, plan: (request) => this.queued(request, seed) };
  }

  plan(request: PlanRequest): Promise<PlanDraft> {
    return this.queued(request, this.options.seed);
  }

  private queued(request: PlanRequest, seed: number | undefined): Promise<PlanDraft> {
    const mine = this.turn.then(() => this.planNow(request, seed));
    this.turn = mine.catch(() => undefined);
    return mine;
  }

  async close(): Promise<void> {
    const open = this.connection;
    this.connection = null;
    const c = await open?.catch(() => null);
    c?.socket.close(1000);
  }

  private connect(): Promise<Connection> {
    this.connection ??= new Promise<Connection>((resolve, reject) => {
      const socket = new WebSocket(this.url, { maxPayload: 64 * 1024 * 1024 });
      const timer = setTimeout(() => fail(new WorkerError(`the worker at ${this.url} sent no metadata within ${this.options.connectTimeoutMs ?? 10_000} ms`, this.url, 'worker_timeout')), this.options.connectTimeoutMs ?? 10_000);
      const fail = (e: Error) => {
        clearTimeout(timer);
        socket.terminate();
        this.connection = null;
        reject(e);
      };
      socket.once('error', (e) => fail(new WorkerError(`cannot reach the worker at ${this.url}: ${e.message}`, this.url, 'worker_unreachable', { cause: e })));
      socket.once('message', (data) => {
        let parsed;
        try {
          parsed = WorkerMetadata.safeParse(JSON.parse(String(data)));
        } catch {
          parsed = null;
        }
        if (!parsed?.success) return fail(new WorkerError(`the worker at ${this.url} did not open with a metadata frame of protocol 1: ${String(data).slice(0, 200)}`, this.url, 'worker_protocol'));
        clearTimeout(timer);
        socket.on('error', () => undefined);
        socket.once('close', () => {
          if (this.connection === current) this.connection = null;
        });
        resolve({ socket, metadata: parsed.data });
      });
    });
    const current = this.connection;
    return current;
  }

  private async planNow(request: PlanRequest, seed: number | undefined): Promise<PlanDraft> {
    request.signal?.throwIfAborted();
    const { socket, metadata } = await this.connect();
    const picture = metadata.model.picture;
    const keyframeSize = keyframeSizeOf(request.robot);
    const rgb = await toModelRgb(request.observation, picture);
    const observation = await sharp(rgb, { raw: { ...picture, channels: 3 } }).png().toBuffer();
    const id = `plan-${++this.seq}`;
    const frame: WorkerPlanRequest = {
      type: 'plan',
      id,
      task: request.task,
      robot: { id: request.robot.id, arms: request.robot.arms.length },
      observation: observation.toString('base64'),
      history: [...request.history],
      version: request.version,
      ...(seed !== undefined ? { seed } : {}),
      ...(request.previous && request.rejected ? { refused: { steps: request.previous.steps.map((s) => s.instruction), issues: [...request.rejected] } } : {}),
    };
    const texts: string[] = [];
    const steps: PlannedStep[] = [];
    let textsTold = false;
    const tellTexts = () => {
      if (!textsTold) request.onProgress?.({ type: 'texts', texts: [...texts] });
      textsTold = true;
    };
    await new Promise<void>((resolve, reject) => {
      // Keyframes are converted as they come, in order; `done` waits for the last.
      let converted = Promise.resolve();
      const finish = (error?: Error) => {
        socket.off('message', onMessage);
        socket.off('close', onClose);
        request.signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve();
      };
      const onClose = () => finish(new WorkerError(`the worker at ${this.url} closed the connection during a plan`, this.url, 'worker_lost'));
      // The worker would go on with a request nobody wants: drop the connection, the next plan opens another.
      const onAbort = () => {
        socket.close(1000);
        finish(request.signal!.reason instanceof Error ? request.signal!.reason : new Error('plan aborted'));
      };
      const onMessage = (data: WebSocket.RawData) => {
        let answer: WorkerAnswer;
        try {
          const parsed = WorkerAnswer.safeParse(JSON.parse(String(data)));
          if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
          answer = parsed.data;
        } catch (e) {
          socket.close(1002);
          return finish(new WorkerError(`the worker at ${this.url} sent a frame outside the protocol (${(e as Error).message}): ${String(data).slice(0, 200)}`, this.url, 'worker_protocol'));
        }
        if (answer.id !== id && !(answer.type === 'error' && answer.id == null)) return;
        switch (answer.type) {
          case 'step':
            texts[answer.index] = answer.instruction;
            return;
          case 'pass': {
            tellTexts();
            const { picture: png, type, id: _id, ...rest } = answer;
            request.onProgress?.({ type, ...rest, draw: 0, picture: async () => cameraPng(png, picture, keyframeSize) });
            return;
          }
          case 'keyframe': {
            tellTexts();
            const { step, instruction, keyframe } = answer;
            converted = converted.then(async () => {
              const png = await cameraPng(keyframe, picture, keyframeSize);
              steps[step] = { index: step, instruction, keyframe: png };
              request.onProgress?.({ type: 'keyframe', step, instruction, keyframe: png });
            });
            return;
          }
          case 'done':
            tellTexts();
            converted.then(
              () => finish(),
              (e: Error) => finish(new WorkerError(`a keyframe from the worker at ${this.url} is not a picture: ${e.message}`, this.url, 'worker_protocol', { cause: e })),
            );
            return;
          case 'error':
            return finish(new WorkerError(`the worker at ${this.url} refused the plan: ${answer.error}: ${answer.message}`, this.url, answer.error));
        }
      };
      socket.on('message', onMessage);
      socket.once('close', onClose);
      request.signal?.addEventListener('abort', onAbort, { once: true });
      socket.send(JSON.stringify(frame));
    });
    if (steps.length !== texts.length || steps.some((s) => s === undefined)) {
      throw new WorkerError(`the worker at ${this.url} wrote ${texts.length} steps but sent ${steps.filter(Boolean).length} keyframes`, this.url, 'worker_protocol');
    }
    return {
      id: `${request.robot.id}-worker`,
      version: request.version,
      backend: this.name,
      createdAt: new Date().toISOString(),
      ...(request.scene ? { scene: request.scene } : {}),
      steps,
    };
  }
}

/** A picture at the worker's size as a keyframe PNG at the camera's, as the embedded model's toPng makes it. */
async function cameraPng(base64: string, picture: ImageSize, keyframeSize: ImageSize): Promise<Uint8Array> {
  const { data, info } = await sharp(Buffer.from(base64, 'base64')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== picture.width || info.height !== picture.height) throw new Error(`it is ${info.width}x${info.height}, the metadata says ${picture.width}x${picture.height}`);
  return new Uint8Array(await rgbToPng(new Uint8Array(data), keyframeSize, picture));
}
