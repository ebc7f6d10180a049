/** What an operator can tell a live run besides ABORT (which goes through RunOptions.signal). */
export type RunCommand =
  | { type: 'APPROVE' }
  | { type: 'REJECT'; note?: string; abort?: boolean }
  | { type: 'PAUSE' }
  | { type: 'RESUME' };

/**
 * The operator's line into one run: the terminal prompt (`keystep run --approve`) or the service's
 * approve/reject/pause/resume routes send here, and the run session forwards to its executor. A
 * command sent before the run attached is kept and delivered when it does.
 */
export class RunControl {
  private target: ((command: RunCommand) => void) | null = null;
  private readonly pending: RunCommand[] = [];

  send(command: RunCommand): void {
    if (this.target) this.target(command);
    else this.pending.push(command);
  }

  /** Called by the run session once its executor is started; returns the detach. */
  attach(target: (command: RunCommand) => void): () => void {
    this.target = target;
    for (const c of this.pending.splice(0)) target(c);
    return () => {
      if (this.target === target) this.target = null;
    };
  }
}
