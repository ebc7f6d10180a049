import type { LoggedEvent } from './run-view.js';

export type FeedState = 'connecting' | 'live' | 'reconnecting' | 'ended';

export interface EventFeedOptions {
  runId: string;
  /** Each record, in seq order, exactly once. */
  onEvent: (event: LoggedEvent) => void;
  onState: (state: FeedState) => void;
}

/**
 * A run's event stream that outlives the connection: when the socket drops (the service restarted,
 * the network blinked) it connects again with `since` = the last seq + 1, waiting a little longer
 * after each failure, until the stream ends with `finished`.
 */
export class EventFeed {
  private socket: WebSocket | null = null;
  private nextSeq = 0;
  private retryMs = 200;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(private readonly options: EventFeedOptions) {
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}/v1/runs/${encodeURIComponent(this.options.runId)}/events?since=${this.nextSeq}`);
    this.socket = socket;
    this.options.onState(this.nextSeq === 0 ? 'connecting' : 'reconnecting');
    socket.onopen = () => {
      this.retryMs = 200;
      this.options.onState('live');
    };
    socket.onmessage = (message) => {
      const event = JSON.parse(String(message.data)) as LoggedEvent;
      if (event.seq < this.nextSeq) return;
      this.nextSeq = event.seq + 1;
      this.options.onEvent(event);
    };
    socket.onclose = (close) => {
      if (this.socket !== socket || this.stopped) return;
      if (close.code === 1000 && close.reason === 'finished') {
        this.options.onState('ended');
        return;
      }
      this.options.onState('reconnecting');
      this.timer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 2000);
    };
  }

  close(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.socket?.close(1000);
  }
}
