import type { RunRecord } from '../executor/index.js';
import type { BadMessage } from '../ros/robot-channel.js';

/**
 * Bad messages from the robot as run events (`bad_message`): the first of each topic and reason at
 * once, repeats counted and recorded at most once per `everyMs`, so a node flooding the feedback
 * topic with garbage leaves a readable log instead of one line per message. Messages that come before
 * the run's first event are held until then; none are recorded after `close()` (the run's `finished`
 * record stays last).
 */
export class BadMessageLog {
  private readonly kinds = new Map<string, { topic: string; reason: string; count: number; lastAt: number }>();
  private held: RunRecord[] = [];
  private write: ((record: RunRecord) => void) | undefined;
  private closed = false;

  constructor(
    private readonly everyMs = 5000,
    private readonly now: () => number = Date.now,
  ) {}

  add(message: BadMessage): void {
    if (this.closed) return;
    const key = `${message.topic}\n${message.reason}`;
    const kind = this.kinds.get(key);
    if (kind === undefined) {
      this.kinds.set(key, { topic: message.topic, reason: message.reason, count: 0, lastAt: this.now() });
      return this.emit(message.topic, message.reason, 1, sample(message.raw));
    }
    kind.count++;
    if (this.now() - kind.lastAt >= this.everyMs) this.flushKind(kind);
  }

  /** Starts writing (the run has logged its first event); what came before goes first. */
  attach(write: (record: RunRecord) => void): void {
    this.write = write;
    const held = this.held;
    this.held = [];
    held.forEach(write);
  }

  /** Records the repeats not yet recorded, then stops: call it before the run's last record. */
  close(): void {
    if (this.closed) return;
    for (const kind of this.kinds.values()) if (kind.count > 0) this.flushKind(kind);
    this.closed = true;
  }

  private flushKind(kind: { topic: string; reason: string; count: number; lastAt: number }): void {
    this.emit(kind.topic, kind.reason, kind.count, undefined);
    kind.count = 0;
    kind.lastAt = this.now();
  }

  private emit(topic: string, reason: string, count: number, raw: string | undefined): void {
    const record: RunRecord = { event: { type: 'bad_message', topic, reason: reason.slice(0, 2000), count, ...(raw !== undefined ? { sample: raw } : {}) } };
    if (this.write) this.write(record);
    else this.held.push(record);
  }
}

function sample(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  let text: string;
  try {
    text = JSON.stringify(raw, (_, v: unknown) => (v instanceof Uint8Array ? `<${v.byteLength} bytes>` : v)) ?? String(raw);
  } catch {
    text = String(raw);
  }
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}
