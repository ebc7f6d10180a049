import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** What a stream needs of a WebSocket; `ws` fits it, and a test can pass anything that does. */
export interface EventSocket {
  send(text: string): void;
  close(code?: number, reason?: string): void;
  readonly readyState: number;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'message', listener: (data: unknown) => void): unknown;
}

const OPEN = 1;

/**
 * Reads the complete lines added to a file since the last read. A last line without its newline is
 * a write in progress (or a torn one a resumed run will cut off): it is held back until it ends.
 */
export class LineTail {
  private offset = 0;
  private partial = '';
  /** Index of the next complete line: in events.jsonl, its sequence number. */
  line = 0;

  constructor(private readonly file: string) {}

  read(): string[] {
    const fd = openSync(this.file, 'r');
    let text = '';
    try {
      const size = fstatSync(fd).size;
      if (size < this.offset) return [];
      const buffer = Buffer.alloc(size - this.offset);
      let got = 0;
      while (got < buffer.length) {
        const n = readSync(fd, buffer, got, buffer.length - got, this.offset + got);
        if (n === 0) break;
        got += n;
      }
      this.offset += got;
      text = buffer.subarray(0, got).toString('utf8');
    } finally {
      closeSync(fd);
    }
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop()!;
    this.line += lines.length;
    return lines;
  }
}

export interface EventStreamOptions {
  /** The run's events.jsonl. */
  file: string;
  /** The first sequence number to send. */
  since: number;
  /** Subscribes to "the log grew"; returns the unsubscribe. */
  subscribe: (listener: () => void) => () => void;
  /** Also look at the file this often, for a log written by another process (keystep run). */
  pollMs?: number;
}

/**
 * Sends the records of a run's events.jsonl over `socket`, one text frame per record, from
 * `since` on and then as they are appended: exactly the lines of the log, each carrying its `seq`,
 * nothing invented beside them. After the `finished` record the socket is closed (1000). Frames
 * from the client are ignored. A reconnecting client passes the last seq it got + 1 as `since`.
 */
export function streamEvents(socket: EventSocket, options: EventStreamOptions): void {
  const tail = new LineTail(options.file);
  let closed = false;
  const pump = () => {
    if (closed || socket.readyState !== OPEN) return;
    let lines: string[];
    const first = tail.line;
    try {
      lines = tail.read();
    } catch {
      // The run directory went away under us; the stream cannot go on.
      stop();
      socket.close(1011, 'the run log cannot be read');
      return;
    }
    for (const [i, line] of lines.entries()) {
      const seq = first + i;
      const record = withSeq(line, seq);
      if (record === null) {
        stop();
        socket.close(1011, `events.jsonl line ${seq + 1} is not a record`);
        return;
      }
      if (seq >= options.since) socket.send(record.text);
      // Nothing follows `finished`, also for a client that asked to start past it.
      if (record.finished) {
        stop();
        socket.close(1000, 'finished');
        return;
      }
    }
  };
  const unsubscribe = options.subscribe(pump);
  const timer = setInterval(pump, options.pollMs ?? 1000);
  const stop = () => {
    closed = true;
    unsubscribe();
    clearInterval(timer);
  };
  socket.on('close', stop);
  socket.on('message', () => undefined);
  pump();
}

/** The line as sent: as written when it has its seq (RunLog always writes one), else with it added. */
function withSeq(line: string, seq: number): { text: string; finished: boolean } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const record = parsed as { seq?: unknown; type?: unknown };
  const finished = record.type === 'finished';
  return { text: record.seq === seq ? line : JSON.stringify({ ...record, seq }), finished };
}
