import type { DrawingFrame } from '../src/service/plan-stream-frames.js';

type PassFrame = Extract<DrawingFrame, { type: 'pass' }>;

/** The plan a live run is drawing, as its /drawing socket told it so far: per step its text and latest pass. */
export interface DrawingView {
  version: number;
  steps: { instruction?: string; pass?: PassFrame; kept?: boolean }[];
  /** The planner returned (or failed); the plan's record is on its way. */
  ended: boolean;
}

/** The drawing after one more frame. Pure; a frame of no drawing the page heard begin is dropped. */
export function withDrawingFrame(view: DrawingView | null, frame: DrawingFrame): DrawingView | null {
  if (frame.type === 'begin') return { version: frame.version, steps: [], ended: false };
  if (view === null) return null;
  const steps = [...view.steps];
  const at = (i: number) => (steps[i] = { ...steps[i] });
  switch (frame.type) {
    case 'step':
      at(frame.index).instruction = frame.instruction;
      return { ...view, steps };
    case 'pass':
      at(frame.step).pass = frame;
      return { ...view, steps };
    case 'keyframe':
      at(frame.step).kept = true;
      return { ...view, steps };
    case 'end':
      return frame.version === view.version ? (frame.drawn ? { ...view, ended: true } : null) : view;
  }
}

/**
 * A run's /drawing socket while the run is live. The service closes it (1000) when the run is not
 * running or stops; any other close (a restart, a dropped network) is followed by a new connection.
 */
export class DrawingFeed {
  private socket: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(private readonly options: { runId: string; onFrame: (frame: DrawingFrame) => void }) {
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}/v1/runs/${encodeURIComponent(this.options.runId)}/drawing`);
    this.socket = socket;
    socket.onmessage = (message) => this.options.onFrame(JSON.parse(String(message.data)) as DrawingFrame);
    socket.onclose = (close) => {
      if (this.socket !== socket || this.stopped || close.code === 1000) return;
      this.timer = setTimeout(() => this.connect(), 1000);
    };
  }

  close(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.socket?.close(1000);
  }
}
