import { createInterface, type Interface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { RunEventOf, RunRecord } from '../executor/index.js';
import type { RunControl } from '../run/run-control.js';

type Request = RunEventOf<'approval_requested'>;

/**
 * `keystep run --approve plan|step`: shows each plan or step waiting for approval and reads the
 * operator's answer from a line of `input` (the terminal): `y` approves, `n` (optionally followed by
 * a note, or asked for one) rejects and replans, `a` rejects and aborts the run.
 */
export class ApprovalPrompt {
  private readonly lines: Interface;
  private waiting: Request | null = null;
  /** `n` was answered without a note: the next line is the note. */
  private askingNote = false;

  constructor(
    input: Readable,
    private readonly write: (text: string) => void,
    private readonly control: RunControl,
  ) {
    this.lines = createInterface({ input, terminal: false });
    this.lines.on('line', (line) => this.answer(line));
  }

  /** Feed every run record here; an approval request is shown and waits for a line. */
  onRecord(record: RunRecord): void {
    const e = record.event;
    if (e.type === 'approval_requested') {
      this.waiting = e;
      this.askingNote = false;
      if (e.scope === 'plan') {
        this.write(`plan v${e.planVersion} waits for your approval; nothing has been sent for it:`);
        e.steps.forEach((s, k) => this.write(`  step ${String(e.stepIndex + k).padStart(2)} ${s}`));
      } else {
        this.write(`step ${e.stepIndex} (plan v${e.planVersion}, attempt ${e.attempt}) waits for your approval: ${e.steps[0] ?? ''}`);
      }
      this.write('  y = send it, n [note] = reject and replan (the note goes to the planner), a = abort the run');
    } else if (e.type === 'finished') {
      this.waiting = null;
    }
  }

  close(): void {
    this.lines.close();
  }

  private answer(raw: string): void {
    const line = raw.trim();
    if (this.waiting === null) {
      if (line !== '') this.write('nothing waits for approval now');
      return;
    }
    if (this.askingNote) return this.send({ type: 'REJECT', ...(line !== '' ? { note: line } : {}) });
    const [word = '', ...rest] = line.split(/\s+/);
    const note = rest.join(' ');
    switch (word.toLowerCase()) {
      case 'y':
      case 'yes':
        return this.send({ type: 'APPROVE' });
      case 'n':
      case 'no':
        if (note !== '') return this.send({ type: 'REJECT', note });
        this.askingNote = true;
        this.write('  why? (a note for the planner; empty for none)');
        return;
      case 'a':
      case 'abort':
        return this.send({ type: 'REJECT', abort: true, ...(note !== '' ? { note } : {}) });
      default:
        this.write('  answer y, n [note] or a');
    }
  }

  private send(command: Parameters<RunControl['send']>[0]): void {
    this.waiting = null;
    this.askingNote = false;
    this.control.send(command);
  }
}
