/**
 * Ctrl-C (SIGINT) and SIGTERM as an AbortSignal while a command runs, so it can stop cleanly: cancel
 * the step in flight, end the run log, write what it has. A second Ctrl-C is not caught: it kills.
 */
export function interruptSignal(onInterrupt: () => void = () => undefined): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handler = (name: NodeJS.Signals) => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
    onInterrupt();
    controller.abort(new Error(`stopped by ${name}`));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
