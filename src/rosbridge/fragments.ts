import type { FragmentOut, OpId } from './protocol.js';

/**
 * rosbridge fragmentation (spec 3.1.1): a JSON text cut into `fragment` ops whose `data` fields
 * concatenate back to it.
 *
 * Reassembly differs from rosbridge's Defragment on purpose where that one is fragile: fragments
 * are kept per connection (rosbridge shares one table between all clients, so ids collide), joined
 * in `num` order rather than arrival order, and bounded in count, bytes and age so a client that
 * never finishes a message cannot grow the server forever.
 */

/**
 * Splits `text` into fragments of at most `size` UTF-16 units, never between the halves of a
 * surrogate pair. `maxFragments` raises the size when a tiny fragment_size would otherwise turn
 * one message into a flood of frames.
 */
export function splitFragments(text: string, size: number, id: string, maxFragments = 10_000): FragmentOut[] {
  const step = Math.max(1, Math.floor(size), Math.ceil(text.length / maxFragments));
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + step);
    const code = text.charCodeAt(end - 1);
    if (end < text.length && end - start > 1 && code >= 0xd800 && code <= 0xdbff) end -= 1;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces.map((data, num) => ({ op: 'fragment', id, data, num, total: pieces.length }));
}

export interface FragmentLimits {
  /** An incomplete message is dropped this long after its last fragment arrived. */
  readonly timeoutMs: number;
  /** Incomplete messages one connection may have open at once. */
  readonly maxMessages: number;
  /** UTF-16 units of fragment data one connection may hold. */
  readonly maxBytes: number;
  /** Largest `total` accepted. */
  readonly maxTotal: number;
}

export const DEFAULT_FRAGMENT_LIMITS: FragmentLimits = {
  timeoutMs: 60_000,
  maxMessages: 64,
  maxBytes: 64 * 1024 * 1024,
  maxTotal: 100_000,
};

export type FragmentResult =
  | { kind: 'pending' }
  | { kind: 'complete'; text: string }
  | { kind: 'rejected'; message: string };

interface Pending {
  readonly id: OpId;
  readonly total: number;
  readonly parts: Map<number, string>;
  bytes: number;
  lastAppend: number;
}

export class FragmentAssembler {
  private readonly pending = new Map<string, Pending>();
  private bytes = 0;

  constructor(
    private readonly limits: FragmentLimits = DEFAULT_FRAGMENT_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Incomplete messages currently held. */
  get pendingMessages(): number {
    return this.pending.size;
  }

  get pendingBytes(): number {
    return this.bytes;
  }

  add(fragment: { id: OpId; data: string; num: number; total: number }): FragmentResult {
    const { id, data, num, total } = fragment;
    const key = `${typeof id}:${id}`;
    const reject = (why: string): FragmentResult => ({
      kind: 'rejected',
      message: `error while trying to append fragment ${num} for messageID ${id}: ${why}`,
    });
    if (total < 1 || total > this.limits.maxTotal) return reject(`total must be between 1 and ${this.limits.maxTotal}`);
    if (num < 0 || num >= total) return reject(`num must be between 0 and ${total - 1}`);

    let entry = this.pending.get(key);
    if (entry === undefined) {
      if (this.pending.size >= this.limits.maxMessages) {
        return reject(`too many incomplete fragmented messages (${this.limits.maxMessages})`);
      }
      entry = { id, total, parts: new Map(), bytes: 0, lastAppend: this.now() };
      this.pending.set(key, entry);
    } else if (entry.total !== total) {
      return reject(`total ${total} differs from ${entry.total} announced by earlier fragments`);
    }
    if (entry.parts.has(num)) return reject('duplicate fragment');
    if (this.bytes + data.length > this.limits.maxBytes) {
      this.drop(key, entry);
      return reject(`fragmented messages exceed ${this.limits.maxBytes} characters; message dropped`);
    }

    entry.parts.set(num, data);
    entry.bytes += data.length;
    this.bytes += data.length;
    entry.lastAppend = this.now();
    if (entry.parts.size < entry.total) return { kind: 'pending' };

    const ordered: string[] = [];
    for (let i = 0; i < entry.total; i++) ordered.push(entry.parts.get(i)!);
    this.drop(key, entry);
    return { kind: 'complete', text: ordered.join('') };
  }

  /** Drops messages idle past the timeout; returns one warning per dropped message. */
  expire(): string[] {
    const cutoff = this.now() - this.limits.timeoutMs;
    const warnings: string[] = [];
    for (const [key, entry] of this.pending) {
      if (entry.lastAppend <= cutoff) {
        this.drop(key, entry);
        warnings.push(`fragment list ${entry.id} timed out (${entry.parts.size} of ${entry.total} fragments received) -> removing it`);
      }
    }
    return warnings;
  }

  clear(): void {
    this.pending.clear();
    this.bytes = 0;
  }

  private drop(key: string, entry: Pending): void {
    this.pending.delete(key);
    this.bytes -= entry.bytes;
  }
}
